"""Everything the kiosk says to a member, in one place: short, plain, readable from the seat.

Shared by the Kivy screen and the headless text presenter, so it never imports Kivy.
"""

from collections.abc import Sequence

from kiosk.contract.events import RepDone, SessionEnd, SetEnd
from kiosk.contract.kiosk import KioskMode
from kiosk.contract.replies import DiagnosticsReport

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
# A STOP nobody tapped away: the screen keeps asking. Staff have an alert, but the member is not told that
# anyone is coming until someone says so (as for a pain report): they are told to call out instead.
STOP_STILL_THERE = "Are you OK? Tap here once the weight is resting. Stuck? Call out to someone nearby."

# What the kiosk says aloud for each warn and stop cue, after its tone: a member mid-set is looking at
# their knees, not the screen. Each line starts with what to do, in a word or two, and lasts under 2 s
# with its tone: heard within a 2-3 s lowering. Never a phrase that sounds like the fault as an order
# ("Back off the pad", "Hips up"). Rendered to assets/sounds/spoken/ by assets/make_sounds.py; keys are
# `spoken_key(cue, severity)`.
SPOKEN: dict[str, str] = {
    "liftoff_lumbar": "Push up. Back on the pad.",
    "set_stopped": "Stop now. Rest.",
    "liftoff_pelvis": "Sit back into the seat.",
    "too_deep": "Come up sooner.",
    "lockout": "Keep your knees soft.",
    "sensor_lost": "Tell staff: no sensor.",
    "pain_stop": "Stop. Rest now.",
}


def spoken_key(cue: str, severity: str) -> str:
    """Which spoken line a cue gets: a lumbar lift-off that stops the set says so."""
    return "set_stopped" if cue == "liftoff_lumbar" and severity == "stop" else cue

# What the kiosk suggests after a set stopped by lumbar lift-offs (sent with `set_end` as `suggestions`).
# Shown under the "Next time" heading: none of them starts with those words again.
STOP_SUGGESTIONS = (
    "Recline the backrest by one notch so your hips have more room.",
    "Place your feet a little higher on the plate.",
    "Take some weight off until your lower back stays on the pad.",
    "Keep the reps shorter: come back up before your lower back starts to lift.",
)

# What a set's cues say to try next time, when the set ended without a stop.
CUE_ADVICE = {
    "liftoff_lumbar": "Stop a little higher so your back stays on the pad.",
    "liftoff_pelvis": "Keep your hips pressed into the seat.",
    "too_deep": "Start pushing back up a little earlier, before your lower back rounds.",
    "shallow": "Go a bit deeper, if your back allows it.",
    "descent_fast": "Lower more slowly: 2 to 3 seconds.",
    "bounce": "Pause at the bottom instead of bouncing.",
    "lockout": "Keep a soft bend in your knees at the top.",
}
ALL_GOOD = "Nothing to change. Well done!"
# Lines that give the same advice in other words: a summary keeps the first of them.
SAME_MEANING = dict.fromkeys((STOP_SUGGESTIONS[3], CUE_ADVICE["too_deep"], CUE_ADVICE["liftoff_lumbar"]),
                             "turn earlier")
MAX_ADVICE = 4  # bullets under "Next time": more are not read between sets

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
# Until a console answers (`assist`), nobody may know: the member must not be told that staff do.
CALL_OUT = "Call out to someone nearby: the staff may not have seen this yet."
PAIN_NOTED = "Thank you, that is noted for the staff."


def assist_line(state: str, by: str) -> str:
    """What the pain screen says once a console answers: `by` saw the alert, or `by` is coming."""
    if state == "coming":
        return f"{by} is on the way to you. Stay where you are."
    return f"The staff know: your alert is on the screen at {by}."

PAIN_SET_TITLE = "Set stopped: pain"
PAIN_ADVICE_TITLE = "Take care"
PAIN_NO_KIND = "You stopped because of pain. Rest now, and don't train through it."
# Pains that may come from a nerve or an injury: no more sets today.
PAIN_ENDS_TRAINING = frozenset({"sharp", "radiating", "numbness"})
# After the session: a stiff lower back on standing up often comes from tight hip flexors.
STANDING_UP_TIP = ("Back aches when you stand up? Kneel on one knee and ease your hips forward"
                   " for about 30 seconds a side: it loosens the front of the hips.")

# Member codes are refused in these modes, with this on screen; staff codes still open and close maintenance.
BUSY: dict[KioskMode, str] = {
    "out_of_order": "This machine is out of order right now. Please use another one or ask the staff.",
    "maintenance": "A technician is working on this machine. Please wait a moment or use another one.",
}
SETTINGS_UPDATED = "Your saved settings were updated."
STORAGE_TROUBLE = "This kiosk cannot save to its storage. Live tips still work; please tell the staff."
NO_LIVE_SLED_READING = "No live sled reading: check the sensor before calibrating."

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


def alert_line(reason: str, member: str | None, cue: str | None, waited_s: float, repeat: int) -> str:
    """An alert for staff (`watch`, the headless log): what happened, who, and what to do."""
    what = cue_text(cue, "stop")[0] if cue else "a STOP"
    again = f" (reminder {repeat})" if repeat > 1 else ""
    if reason == "stop_unacknowledged":
        return (f"ALERT{again}: STOP not acknowledged for {waited_s:.0f} s ({what}): {member or 'the member'} "
                f"may still be under the weight. Check on them now.")
    return f"ALERT{again}: {reason.replace('_', ' ')}"


# Sentences the screens show beside their buttons.
FINISH_CONFIRM = "Tap again to end"
# The attract screen's corner: which machine this is, and whether staff can see it, in a member's words.
LINK_UP = "Staff can see this machine"
LINK_DOWN = "Offline: tips still work"


def machine_line(machine: str) -> str:
    return f"Machine {machine}"


def sled_now(depth_mm: float) -> str:
    """The guided setup's live depth, under its gauge."""
    return f"Depth now: {depth_mm:.0f} mm"
RANGE_SET = "Your range is set"


def setup_count(done: int, needed: int) -> str:
    return f"Slow reps counted: {done} of {needed}"


def setup_learnt(target_mm: float | None, top_mm: float | None, max_mm: float | None = None) -> str:
    """What the guided setup learnt, exactly as saved in the member's settings (max: when it is known)."""
    deepest = f" (never past {mm(max_mm)})" if max_mm is not None else ""
    return f"Target depth: {mm(target_mm)}{deepest}\nTop: {mm(top_mm)}, knees soft\nSaved to your settings."


# A max depth a lift-off lowered: the member reads why, staff restore it on the maintenance screen.
MAX_NOT_LOWERED = "Nothing to restore: this member's max depth was not lowered."
LOWERED_MAXES_NONE = "No member's max depth has been lowered on this machine."


def max_lowered_line(max_mm: float, from_mm: float, liftoff_mm: float) -> str:
    """Why the member's max depth is shallower than it was, where they read their settings."""
    return (f"Max depth {mm(max_mm)}, was {mm(from_mm)}: your lower back came off the pad at {mm(liftoff_mm)}. "
            "Ask staff to check your setup and set it back.")


def lowered_max_row(name: str, max_mm: float, from_mm: float) -> str:
    """One member on the maintenance screen's list of lowered max depths."""
    return f"{name}: max depth {mm(max_mm)}, was {mm(from_mm)}"


def restore_max_button(name: str) -> str:
    return f"Restore {name}'s max depth"


def max_restored(member: str, max_mm: float) -> str:
    return f"{member}: max depth back to {mm(max_mm)}."


REP_LIFTED = "Your back or hips came off the pad: that one did not count."

REP_TOO_QUICK = "Too quick: that one did not count."
PAIN_QUESTION = "What does it feel like?"
WEIGHT_RACKED = "OK, weight is racked"
LEAVE_MAINTENANCE = "Tap Done, or scan your staff code again, to leave."
MAINTENANCE_CLOSED = "Maintenance closed."
# A staff code scanned while a member trains: their session ends only on a second scan.
STAFF_DURING_SESSION = "Someone is training here. Scan your staff code again to end their session."
FULL_TRAVEL_TOO_SHORT = "Full travel must be at least 50 mm from zero: was the sled moved all the way down?"
# What the technician reads after each calibration step.
CALIBRATION_DONE = {
    "zero": "Zero set: legs straight is now 0 mm. Tap Undo if the sled was not at the top.",
    "full": "Full travel set. Tap Undo if the sled was not at the bottom.",
    "lumbar": "Lower-back pad marked as checked.",
    "pelvis": "Seat pad marked as checked.",
}
# A zero too close to the old full travel: the old bottom no longer fits, so it must be set again.
ZERO_SET_FULL_NEEDED = "Zero set: legs straight is now 0 mm. Now move the sled all the way down and set full travel."
CALIBRATION_UNDONE = "Calibration put back as it was before the last step."
NOTHING_TO_UNDO = "Nothing to undo: no calibration step since the kiosk started."
CALIBRATION_CANCELLED = "Nothing changed."
# The two ends of the sled's travel, as the technician sets them.
CALIBRATION_ENDS = {"zero": "zero (legs straight, sled at the top)", "full": "full travel (sled all the way down)"}
CALIBRATION_CONFIRM = {"zero": "Set zero here", "full": "Set full travel here"}
CALIBRATION_CONFIRM_ANYWAY = {"zero": "Set zero anyway", "full": "Set full anyway"}


def calibration_question(end: str, reading_mm: float | None, plausible: bool) -> str:
    """Asked before an end of the sled's travel is set: where the sled reads now, and whether that fits."""
    if reading_mm is None:
        return f"Set {CALIBRATION_ENDS[end]} with the sled where it is now?"
    if plausible:
        return f"The sled reads {reading_mm:.0f} mm. Set {CALIBRATION_ENDS[end]} here?"
    return (f"Check the sled: it reads {reading_mm:.0f} mm, far from {CALIBRATION_ENDS[end]}. "
            f"Move it there first, or set it here only if the sensor was moved.")


def calibration_refused(end: str, reading_mm: float | None) -> str:
    """A step the technician did not confirm on purpose, with the sled far from that end: nothing changed."""
    where = "" if reading_mm is None else f" (it reads {reading_mm:.0f} mm)"
    return f"Nothing changed: the sled is not at {CALIBRATION_ENDS[end]}{where}."


SELF_TEST_NAMES = {
    "broker": "broker link", "sensor_live": "sensor live", "sensor_rate_ok": "sensor rate",
    "trusted_keys": "trusted keys", "camera": "camera", "calibrated": "calibration",
}


def self_test_text(report: DiagnosticsReport) -> str:
    """The self-test in two lines for the technician: what failed, and what the camera saw."""
    failed = [SELF_TEST_NAMES[name] for name, ok in report.checks.model_dump().items() if not ok]
    verdict = "Self-test passed." if not failed else "Self-test failed: " + ", ".join(failed) + "."
    return f"{verdict}\nCamera: {report.camera}"


NEXT_TIME_TITLE = "Next time"
BARS_SET = "Depth of each rep"
BARS_SESSION = "Depth of each rep, every set"
SESSION_DONE_TITLE = "All done. See you next time!"


def set_title(set_end: SetEnd) -> str:
    return f"Set {set_end.set_number} {'stopped' if set_end.stopped else 'done'}"


def set_stats(set_end: SetEnd, reps: Sequence[RepDone]) -> list[str]:
    """The lines of a set's summary: reps, depth, lift-offs and the average lowering and pushing times."""
    return [
        f"Reps: {set_end.reps}",
        f"Deepest: {mm(set_end.max_depth_mm)}",
        f"Lift-offs: {set_end.liftoffs}",
        f"Down: {seconds(_mean([r.eccentric_s for r in reps]))}",
        f"Up: {seconds(_mean([r.concentric_s for r in reps]))}",
    ]


def session_advice(sets: Sequence[tuple[SetEnd, Sequence[str]]]) -> list[str]:
    """What to change next time after a whole session: every stopped set's suggestions first, then the advice
    from the cues of all its sets; each meaning once, at most `MAX_ADVICE` lines."""
    lines = [s for end, _cues in sets for s in end.suggestions]
    lines += [CUE_ADVICE[c] for _end, cues in sets for c in cues if c in CUE_ADVICE]
    return _one_per_meaning(lines) or [ALL_GOOD]


def _one_per_meaning(lines: Sequence[str]) -> list[str]:
    """The first line of each meaning, in order, at most `MAX_ADVICE`: seven bullets, three of them "come up
    earlier" in other words, were read as none."""
    kept: dict[str, str] = {}
    for line in lines:
        kept.setdefault(SAME_MEANING.get(line, line), line)
    return list(kept.values())[:MAX_ADVICE]


def session_stats(end: SessionEnd) -> list[str]:
    return [
        f"Sets: {end.sets}",
        f"Reps: {end.reps}",
        f"Deepest: {mm(end.max_depth_mm)}",
        f"Lift-offs: {end.liftoffs}",
        f"Time: {duration(end.duration_s)}",
    ]


def duration(seconds: float) -> str:
    """A session's length: seconds under a minute ("Time: 0 min" said nothing), else whole minutes."""
    return f"{seconds:.0f} s" if seconds < 60 else f"{int(seconds // 60)} min"


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def next_time(set_end: SetEnd, cues_seen: Sequence[str]) -> list[str]:
    """What to change next time: the core's suggestions after a stopped set, else advice from the set's cues."""
    if set_end.suggestions:
        return _one_per_meaning(set_end.suggestions)
    advice = [CUE_ADVICE[c] for c in dict.fromkeys(cues_seen) if c in CUE_ADVICE]
    return _one_per_meaning(advice) or [ALL_GOOD]


def pain_advice(kind: str) -> list[str]:
    """What the summary says after a set stopped for pain; `kind` is "" if the member never said."""
    first = PAIN_ADVICE.get(kind, PAIN_NO_KIND)
    return [first, SEE_SOMEONE]


def backrest_text(notch: int, angle: float) -> str:
    return f"Notch {notch} ({angle:.0f}\u00b0)"


def seat_text(notch: int, notches: int) -> str:
    return f"Notch {notch} of {notches}"


def toe_text(degrees: int) -> str:
    return f"{degrees}\u00b0 out"


def depth_text(target_mm: float, max_mm: float) -> str:
    return f"{target_mm:.0f} mm (max {max_mm:.0f} mm)"


def feet_text(height: str, width: str, toe_deg: int) -> str:
    return f"Feet {FOOT_HEIGHT[height].lower()}, {FOOT_WIDTH[width].lower()}, toes {toe_text(toe_deg)}"


def first_time_defaults(backrest: str, height: str, width: str, target_mm: float) -> str:
    """What the guided setup starts from, in three lines."""
    return "\n".join((
        f"Backrest: {backrest}, well back",
        f"Feet: {FOOT_HEIGHT[height].lower()}, {FOOT_WIDTH[width].lower()}",
        f"Depth: {target_mm:.0f} mm, a short range",
    ))


def count(n: int, thing: str, things: str | None = None) -> str:
    """`1 rep`, `2 reps`: a number with its noun in the right form."""
    return f"{n} {thing if n == 1 else (things or thing + 's')}"


def sentences(parts: Sequence[str]) -> str:
    """Whole sentences in a row, each with its own full stop: no `.;` joins."""
    return " ".join(p if p.endswith((".", "!", "?")) else p + "." for p in parts)


def goodbye(name: str) -> str:
    return f"Goodbye, {name}. See you next time!" if name else "Goodbye. See you next time!"


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def mm(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} mm"
