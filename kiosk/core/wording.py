"""Everything the kiosk says to a member, in one place: short, plain, readable from the seat.

Shared by the Kivy screen and the headless text presenter, so it never imports Kivy.
"""

from kiosk.contract.events import SetEnd

# cue id -> (headline, one line of detail)
CUES: dict[str, tuple[str, str]] = {
    "liftoff_lumbar": ("Lower back off the pad: push up", "Keep your back flat on the pad. Your range is now shorter."),
    "liftoff_pelvis": ("Hips lifted: sit back in", "Press your hips into the seat and go less deep."),
    "too_deep": ("Too deep: come up sooner", "Turn before your lower back starts to round."),
    "depth_reached": ("Good depth: push", "Drive through your heels."),
    "shallow": ("A little deeper", "Only if your lower back stays on the pad."),
    "descent_fast": ("Slower on the way down", "Take 2 to 3 seconds to lower."),
    "bounce": ("No bouncing", "Pause for a moment at the bottom."),
    "lockout": ("Soft knees at the top", "Keep a small bend, don't lock your knees."),
    "sensor_lost": ("Sensor not answering", "Live tips are off. Please tell staff."),
    "pain_stop": ("Stop now", "Rest the weight on the safety handles."),
}
STOPPED_SET = ("Set stopped", "Your back lifted twice: rest the weight on the safety handles.")

# What a set's cues say to try next time, when the set ended without a stop.
CUE_ADVICE = {
    "liftoff_lumbar": "Stop a little higher so your back stays on the pad.",
    "liftoff_pelvis": "Keep your hips pressed into the seat.",
    "too_deep": "Turn around a little sooner.",
    "shallow": "Go a bit deeper, if your back allows it.",
    "descent_fast": "Lower more slowly: 2 to 3 seconds.",
    "bounce": "Pause at the bottom instead of bouncing.",
    "lockout": "Keep a soft bend in your knees at the top.",
}
ALL_GOOD = "Nothing to change. Well done!"

CHECKLIST = (
    ("Heels flat", "Whole foot on the plate"),
    ("Hips in the seat", "Sit right back into the crease"),
    ("Back on the pad", "From your hips to your shoulders"),
    ("Pin locked", "After every adjustment"),
    ("Hold the handles", "Pull yourself into the seat"),
    ("Brace", "Breathe into your belly, tighten"),
)

# Member codes refused for their age or because the front desk withdrew them.
CODE_TOO_OLD = "This code is too old to use here. Ask the front desk for a new one."
CODE_REVOKED = "This code has been replaced or cancelled. Ask the front desk for your new one."

FOOT_HEIGHT = {"low": "Low", "mid": "Middle", "high": "High"}
FOOT_WIDTH = {"narrow": "Narrow", "shoulder": "Shoulder width", "wide": "Wide"}

PAIN_STEPS = (
    "Stop pressing.",
    "Rest the weight on the safety handles.",
    "Do not push through pain.",
)
PAIN_KINDS = (
    ("sharp", "Sharp"),
    ("radiating", "Down the leg"),
    ("numbness", "Numb or tingling"),
    ("dull", "Dull ache"),
)
PAIN_ADVICE = {
    "sharp": "Sharp pain is not normal tiredness. No more sets today.",
    "radiating": "Pain down the leg can come from a nerve. No more sets today.",
    "numbness": "Numbness or tingling can come from a nerve. No more sets today.",
    "dull": "Rest. If it eases, try lighter and less deep next time.",
}
SEE_SOMEONE = "If pain lasts, or you feel numbness or pain down the leg, see a physio or a doctor."
STAFF_TOLD = "Staff have been told."
PAIN_SET_TITLE = "Set stopped: pain"
PAIN_ADVICE_TITLE = "Take care"
PAIN_NO_KIND = "You stopped because of pain. Rest now, and don't train through it."
# Pains that may come from a nerve or an injury: no more sets today.
PAIN_ENDS_TRAINING = frozenset({"sharp", "radiating", "numbness"})
# After the session: a stiff lower back on standing up often comes from tight hip flexors.
STANDING_UP_TIP = ("Back aches when you stand up? Kneel on one knee and ease your hips forward"
                   " for about 30 seconds a side: it loosens the front of the hips.")

OUT_OF_ORDER = ("This machine is out of order", "Please use another leg press. Staff know about it.")
OUT_OF_ORDER_PRESSING = "Pressing right now? Finish the rep and rest the weight on the safety handles."
ATTRACT_TITLE = "Leg press"
ATTRACT_STEPS = (
    "Hold your code up to the camera",
    "Check your settings on the drawing",
    "Press: tips appear as you go",
)
NO_CAMERA = "No camera here: use the scanner"
SCAN_WITHOUT_CAMERA = "Scan your code at the scanner, or ask staff"
CAMERA_READY = "Camera on: hold your code up to it"
CAMERA_TROUBLE = "The camera is not working: use the scanner, or ask staff"
NO_SENSOR = "No sensor"
FIRST_TIME = (
    "Welcome! First time on this machine",
    "We start safe: backrest well back, feet in the middle, a short range.",
)
SETUP_REPS = (
    "Do 2 slow reps with a light weight",
    "Lower slowly and only as far as feels easy.",
)


def cue_text(cue: str, severity: str) -> tuple[str, str]:
    """Headline and detail for a cue; a lumbar lift-off that stops the set says so."""
    if cue == "liftoff_lumbar" and severity == "stop":
        return STOPPED_SET
    return CUES.get(cue, (cue.replace("_", " ").capitalize(), ""))


def next_time(set_end: SetEnd, cues_seen: list[str]) -> list[str]:
    """What to change next time: the core's suggestions after a stopped set, else advice from the set's cues."""
    if set_end.suggestions:
        return list(set_end.suggestions)
    advice = [CUE_ADVICE[c] for c in dict.fromkeys(cues_seen) if c in CUE_ADVICE]
    return advice or [ALL_GOOD]


def pain_advice(kind: str) -> list[str]:
    """What the summary says after a set stopped for pain; `kind` is "" if the member never said."""
    first = PAIN_ADVICE.get(kind, PAIN_NO_KIND)
    return [first, SEE_SOMEONE]


def backrest_text(notch: int, angle: float) -> str:
    return f"Notch {notch}  ({angle:.0f}\u00b0)"


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def mm(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} mm"
