"""Everything the kiosk says to a member, in one place: short, plain, readable from the seat.

Shared by the Kivy screen and the headless text presenter, so it never imports Kivy.
"""

from collections.abc import Mapping, Sequence

from kiosk.contract.config import KG_PER_LB, LoadUnit
from kiosk.contract.events import RepDone, ScanRejectReason, SessionEnd, SetEnd
from kiosk.contract.kiosk import KioskMode
from kiosk.contract.profile import MachineSettings, Visit
from kiosk.contract.replies import DiagnosticsReport
from kiosk.words.language import N_, _, ngettext, number, pgettext

# The English text below is each message's id in the catalogues (kiosk/words/locale/, docs/languages.md):
# constants are marked with N_ and translated where they are shown (`tr`), functions translate as they build.
# The maintenance screen's headings, readings and buttons follow the language staff tap there (`MAINTENANCE`);
# its calibration and self-test sentences, and alerts, are still English.
tr = _

# cue id -> (headline, one line of detail)
CUES: dict[str, tuple[str, str]] = {
    "liftoff_lumbar": (N_("Lower back off the pad: push up"),
                       N_("Keep your back flat on the pad. Your range is now shorter.")),
    "liftoff_pelvis": (N_("Hips lifted: sit back in"),
                       N_("Press your hips into the seat and go less deep.")),
    "too_deep": (N_("Too deep: come up sooner"),
                 N_("Turn before your lower back starts to round.")),
    "depth_reached": (N_("Good depth: push"),
                      N_("Drive through your heels.")),
    "shallow": (N_("A little deeper"),
                N_("Only if your lower back stays on the pad.")),
    "descent_fast": (N_("Slower on the way down"),
                     N_("Take 2 to 3 seconds to lower.")),
    "bounce": (N_("No bouncing"),
               N_("Pause for a moment at the bottom.")),
    "lockout": (N_("Soft knees at the top"),
                N_("Keep a small bend, don't lock your knees.")),
    "sensor_lost": (N_("Sensor not answering"),
                    N_("Live tips are off. Please tell staff.")),
    "pain_stop": (N_("Stop now"),
                  N_("Rest the weight on the safety handles.")),
    "velocity_loss": (N_("Slowing down: make this your last rep"),
                      N_("Your push has lost its speed. Rest, then go again.")),
}
STOPPED_SET = (N_("Set stopped"), N_("Your back lifted twice: rest the weight on the safety handles."))
# A STOP nobody tapped away: the screen keeps asking. Staff have an alert, but the member is not told that
# anyone is coming until someone says so (as for a pain report): they are told to call out instead.
# Over every stop cue, in the largest type: the one word a member must catch.
STOP_WORD = N_("STOP")
STOP_STILL_THERE = N_("Are you OK? Tap here once the weight is resting. Stuck? Call out to someone nearby.")

# What the kiosk says aloud for each warn and stop cue, after its tone: a member mid-set is looking at
# their knees, not the screen. Each line starts with what to do, in a word or two, and lasts under 2 s
# with its tone: heard within a 2-3 s lowering. Never a phrase that sounds like the fault as an order
# ("Back off the pad", "Hips up"). Rendered to assets/sounds/spoken/ by assets/make_sounds.py; keys are
# `spoken_key(cue, severity)`.
SPOKEN: dict[str, str] = {
    "liftoff_lumbar": N_("Push up. Back on the pad."),
    "set_stopped": N_("Stop now. Rest."),
    "liftoff_pelvis": N_("Sit back into the seat."),
    "too_deep": N_("Come up sooner."),
    "lockout": N_("Keep your knees soft."),
    "sensor_lost": N_("Tell staff: no sensor."),
    "pain_stop": N_("Stop. Rest now."),
}


def spoken_key(cue: str, severity: str) -> str:
    """Which spoken line a cue gets: a lumbar lift-off that stops the set says so."""
    return "set_stopped" if cue == "liftoff_lumbar" and severity == "stop" else cue

# What the kiosk suggests after a set stopped by lumbar lift-offs (sent with `set_end` as `suggestions`).
# Shown under the "Next time" heading: none of them starts with those words again.
STOP_SUGGESTIONS = (
    N_("Recline the backrest by one notch so your hips have more room."),
    N_("Place your feet a little higher on the plate."),
    N_("Take some weight off until your lower back stays on the pad."),
    N_("Keep the reps shorter: come back up before your lower back starts to lift."),
)

# What a set's cues say to try next time, when the set ended without a stop.
CUE_ADVICE = {
    "liftoff_lumbar": N_("Stop a little higher so your back stays on the pad."),
    "liftoff_pelvis": N_("Keep your hips pressed into the seat."),
    "too_deep": N_("Start pushing back up a little earlier, before your lower back rounds."),
    "shallow": N_("Go a bit deeper, if your back allows it."),
    "descent_fast": N_("Lower more slowly: 2 to 3 seconds."),
    "bounce": N_("Pause at the bottom instead of bouncing."),
    "lockout": N_("Keep a soft bend in your knees at the top."),
    "velocity_loss": N_("Your pushes slowed right down: end the set when they do, or rest a little longer first."),
}
ALL_GOOD = N_("Nothing to change. Well done!")
# Lines that give the same advice in other words: a summary keeps the first of them.
SAME_MEANING = dict.fromkeys((STOP_SUGGESTIONS[3], CUE_ADVICE["too_deep"], CUE_ADVICE["liftoff_lumbar"]),
                             "turn earlier")
MAX_ADVICE = 4  # bullets under "Next time": more are not read between sets

CHECKLIST = (
    (N_("Heels flat"), N_("Whole foot on the plate")),
    (N_("Hips in the seat"), N_("Sit right back into the crease")),
    (N_("Back on the pad"), N_("From your hips to your shoulders")),
    (N_("Pin locked"), N_("After every adjustment")),
    (N_("Hold the handles"), N_("Pull yourself into the seat")),
    (N_("Brace"), N_("Breathe into your belly, tighten")),
)

# Member codes refused for their age or because the front desk withdrew them.
CODE_TOO_OLD = N_("This code is too old to use here. Ask the front desk for a new one.")
CODE_REVOKED = N_("This code has been replaced or cancelled. Ask the front desk for your new one.")
# Why a code was refused, for the member at the machine, by the `scan_rejected` reason. The reason goes on
# the wire in English (it is part of the contract); these words are translated where they are shown.
SCAN_REFUSED: dict[ScanRejectReason, str] = {
    "malformed": N_("This code can't be read as a gym code. Try again, or ask the front desk."),
    "bad_signature": N_("This code isn't valid: it may have been changed or copied wrongly. "
                        "Ask the front desk for a new one."),
    "unknown_key": N_("This machine doesn't recognise who issued this code. Ask the front desk for a new one."),
    "expired": N_("This code has expired. Ask the front desk for a new one."),
    "not_allowed": N_("This code can't be used on this machine. Ask the front desk."),
}
CODE_NOT_YET_VALID = N_("This code is not valid yet. Ask the front desk to check it.")
# An accepted scan: `{name}` is filled in where the line is shown, in the language of that screen.
WELCOME = N_("Welcome, {name}!")
GOODBYE = N_("Goodbye, {name}. See you next time!")
GOODBYE_NAMELESS = N_("Goodbye. See you next time!")


def told(message: str, fills: Mapping[str, str] | None = None) -> str:
    """A line kept as its message id and its fills (`WELCOME`, {"name": "Sam"}), in the current language.

    Lines that stay on screen are kept this way, not as text, so they follow a change of language. A
    translation with a broken placeholder shows without its fills rather than breaking the screen."""
    text = _(message)
    if not fills:
        return text
    try:
        return text.format_map(dict(fills))
    except (KeyError, IndexError, ValueError):
        return text

FOOT_HEIGHT = {"low": "Low", "mid": "Middle", "high": "High"}
FOOT_WIDTH = {"narrow": "Narrow", "shoulder": "Shoulder width", "wide": "Wide"}


def foot_height(key: str) -> str:
    """A foot height in the member's language ("Low" here is where the feet go, not a small amount)."""
    return {"low": pgettext("foot height", "Low"), "mid": pgettext("foot height", "Middle"),
            "high": pgettext("foot height", "High")}.get(key, key)


def foot_width(key: str) -> str:
    return {"narrow": pgettext("foot width", "Narrow"), "shoulder": pgettext("foot width", "Shoulder width"),
            "wide": pgettext("foot width", "Wide")}.get(key, key)

PAIN_STEPS = (
    N_("Stop pressing."),
    N_("Rest the weight on the safety handles."),
    N_("Do not push through pain."),
)
PAIN_KINDS = (
    ("sharp", N_("Sharp")),
    ("radiating", N_("Down the leg")),
    ("numbness", N_("Numb or tingling")),
    ("dull", N_("Dull ache")),
)
PAIN_ADVICE = {
    "sharp": N_("Sharp pain is not normal tiredness. No more sets today."),
    "radiating": N_("Pain down the leg can come from a nerve. No more sets today."),
    "numbness": N_("Numbness or tingling can come from a nerve. No more sets today."),
    "dull": N_("Rest. If it eases, try lighter and less deep next time."),
}
SEE_SOMEONE = N_("If pain lasts, or you feel numbness or pain down the leg, see a physio or a doctor.")
# Until a console answers (`assist`), nobody may know: the member must not be told that staff do.
CALL_OUT = N_("Call out to someone nearby: the staff may not have seen this yet.")
PAIN_NOTED = N_("Thank you, that is noted for the staff.")


def assist_line(state: str, by: str) -> str:
    """What the pain screen says once a console answers: `by` saw the alert, or `by` is coming."""
    if state == "coming":
        return _("{name} is on the way to you. Stay where you are.").format(name=by)
    return _("The staff know: your alert is on the screen at {place}.").format(place=by)

PAIN_SET_TITLE = N_("Set stopped: pain")
PAIN_ADVICE_TITLE = N_("Take care")
PAIN_NO_KIND = N_("You stopped because of pain. Rest now, and don't train through it.")
# Pains that may come from a nerve or an injury: no more sets today.
PAIN_ENDS_TRAINING = frozenset({"sharp", "radiating", "numbness"})
# After the session: a stiff lower back on standing up often comes from tight hip flexors.
STANDING_UP_TIP = N_("Back aches when you stand up? Kneel on one knee and ease your hips forward"
                     " for about 30 seconds a side: it loosens the front of the hips.")

# Member codes are refused in these modes, with this on screen; staff codes still open and close maintenance.
BUSY: dict[KioskMode, str] = {
    "out_of_order": N_("This machine is out of order right now. Please use another one or ask the staff."),
    "maintenance": N_("A technician is working on this machine. Please wait a moment or use another one."),
}
SETTINGS_UPDATED = N_("Your saved settings were updated.")
STORAGE_TROUBLE = N_("This kiosk cannot save to its storage. Live tips still work; please tell the staff.")
NO_LIVE_SLED_READING = "No live sled reading: check the sensor before calibrating."

OUT_OF_ORDER = (N_("This machine is out of order"), N_("Please use another leg press. Staff know about it."))
OUT_OF_ORDER_PRESSING = N_("Pressing right now? Finish the rep and rest the weight on the safety handles.")
ATTRACT_TITLE = N_("Leg press")
ATTRACT_STEPS = (
    N_("Hold your code up to the camera"),
    N_("Check your settings on the drawing"),
    N_("Press: tips appear as you go"),
)
NO_CAMERA = N_("No camera here: use the scanner")
SCAN_WITHOUT_CAMERA = N_("Scan your code at the scanner, or ask staff")
CAMERA_READY = N_("Camera on: hold your code up to it")
CAMERA_TROUBLE = N_("The camera is not working: use the scanner, or ask staff")
NO_SENSOR = N_("No sensor")
FIRST_TIME = (
    N_("Welcome! First time on this machine"),
    N_("We start safe: backrest well back, feet in the middle, a short range."),
)
SETUP_REPS = (
    N_("Do 2 slow reps with a light weight"),
    N_("Lower slowly and only as far as feels easy."),
)


def cue_text(cue: str, severity: str) -> tuple[str, str]:
    """Headline and detail for a cue; a lumbar lift-off that stops the set says so."""
    headline, detail = _english_cue(cue, severity)
    return _(headline), _(detail) if detail else ""


def _english_cue(cue: str, severity: str) -> tuple[str, str]:
    if cue == "liftoff_lumbar" and severity == "stop":
        return STOPPED_SET
    return CUES.get(cue, (cue.replace("_", " ").capitalize(), ""))


def alert_line(reason: str, member: str | None, cue: str | None, waited_s: float, repeat: int) -> str:
    """An alert for staff (`watch`, the headless log): what happened, who, and what to do."""
    what = _english_cue(cue, "stop")[0] if cue else "a STOP"  # staff read alerts in English
    again = f" (reminder {repeat})" if repeat > 1 else ""
    if reason == "stop_unacknowledged":
        return (f"ALERT{again}: STOP not acknowledged for {waited_s:.0f} s ({what}): {member or 'the member'} "
                f"may still be under the weight. Check on them now.")
    return f"ALERT{again}: {reason.replace('_', ' ')}"


# Printed over the QR code on a member's card, in the member's language.
CARD_TITLE = N_("Leg press — scan to start")
# A member whose code has no name, in the corner of their screens.
NAMELESS_MEMBER = N_("Member")
# Sentences the screens show beside their buttons.
FINISH_CONFIRM = N_("Tap again to end")
# The attract screen's corner: which machine this is, and whether staff can see it, in a member's words.
LINK_UP = N_("Staff can see this machine")
LINK_DOWN = N_("Offline: tips still work")


def machine_line(machine: str) -> str:
    return _("Machine {name}").format(name=machine)


def sled_now(depth_mm: float) -> str:
    """The guided setup's live depth, under its gauge."""
    return _("Depth now: {depth}").format(depth=mm(depth_mm))


RANGE_SET = N_("Your range is set")


def setup_count(done: int, needed: int) -> str:
    return _("Slow reps counted: {done} of {needed}").format(done=done, needed=needed)


def setup_learnt(target_mm: float | None, top_mm: float | None, max_mm: float | None = None) -> str:
    """What the guided setup learnt, exactly as saved in the member's settings (max: when it is known)."""
    target = _("Target depth: {depth}").format(depth=mm(target_mm))
    if max_mm is not None:
        target = _("Target depth: {depth} (never past {max})").format(depth=mm(target_mm), max=mm(max_mm))
    return "\n".join((target, _("Top: {depth}, knees soft").format(depth=mm(top_mm)),
                      _("Saved to your settings.")))


# A max depth a lift-off lowered: the member reads why, staff restore it on the maintenance screen
# (staff lines stay English).
MAX_NOT_LOWERED = "Nothing to restore: this member's max depth was not lowered."
LOWERED_MAXES_NONE = "No member's max depth has been lowered on this machine."


def max_lowered_line(max_mm: float, from_mm: float, liftoff_mm: float) -> str:
    """Why the member's max depth is shallower than it was, where they read their settings."""
    return _("Max depth {max}, was {was}: your lower back came off the pad at {liftoff}. "
             "Ask staff to check your setup and set it back.").format(
        max=mm(max_mm), was=mm(from_mm), liftoff=mm(liftoff_mm))


def lowered_max_row(name: str, max_mm: float, from_mm: float) -> str:
    """One member on the maintenance screen's list of lowered max depths."""
    return f"{name}: max depth {mm(max_mm)}, was {mm(from_mm)}"


def restore_max_button(name: str) -> str:
    return f"Restore {name}'s max depth"


def max_restored(member: str, max_mm: float) -> str:
    return f"{member}: max depth back to {mm(max_mm)}."


REP_LIFTED = N_("Your back or hips came off the pad: that one did not count.")


REP_TOO_QUICK = N_("Too quick: that one did not count.")
PAIN_QUESTION = N_("What does it feel like?")
WEIGHT_RACKED = N_("OK, weight is racked")
LEAVE_MAINTENANCE = N_("Tap Done, or scan your staff code again, to leave.")
MAINTENANCE_CLOSED = N_("Maintenance closed.")
# A staff code scanned while a member trains: their session ends only on a second scan.
STAFF_DURING_SESSION = N_("Someone is training here. Scan your staff code again to end their session.")
# The maintenance screen's own words, for the technician: the heading, what each reading is, the buttons.
MAINTENANCE = {
    "title": N_("Maintenance"),
    "raw": N_("Raw"),
    "depth": N_("Depth"),
    "lumbar": N_("Back pad"),
    "pelvis": N_("Seat pad"),
    "rate": N_("Rate"),
    "samples": N_("Samples"),
    "broker": N_("Broker"),
    "sled": N_("Sled"),
    "screen": N_("Screen"),
    "software": N_("Software"),
    "config": N_("Config"),
    "recent_log": N_("Recent log"),
    "plot": N_("Depth in mm, last 10 s"),
    "undo": N_("Undo last step"),
    "cancel": N_("Cancel"),
    "done": N_("Done"),
    "zero": N_("Zero: legs straight"),
    "full": N_("Full travel: sled down"),
    "lumbar_ok": N_("Back pad checked"),
    "pelvis_ok": N_("Seat pad checked"),
    "self_test": N_("Self-test"),
    "lowered": N_("Max depths lowered"),
}
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


NEXT_TIME_TITLE = N_("Next time")
BARS_SET = N_("Depth of each rep")
BARS_SESSION = N_("Depth of each rep, every set")
SESSION_DONE_TITLE = N_("All done. See you next time!")


def set_title(set_end: SetEnd) -> str:
    if set_end.stopped:
        return _("Set {number} stopped").format(number=set_end.set_number)
    return _("Set {number} done").format(number=set_end.set_number)


def set_stats(set_end: SetEnd, reps: Sequence[RepDone]) -> list[str]:
    """The lines of a set's summary: reps, depth, lift-offs and the average lowering and pushing times."""
    return [
        _("Reps: {n}").format(n=set_end.reps),
        _("Deepest: {depth}").format(depth=mm(set_end.max_depth_mm)),
        _("Lift-offs: {n}").format(n=set_end.liftoffs),
        # "Down" and "Up" are the time spent lowering and pushing, not directions on the screen.
        pgettext("lowering time", "Down: {time}").format(time=seconds(_mean([r.eccentric_s for r in reps]))),
        pgettext("pushing time", "Up: {time}").format(time=seconds(_mean([r.concentric_s for r in reps]))),
    ]


def session_advice(sets: Sequence[tuple[SetEnd, Sequence[str]]]) -> list[str]:
    """What to change next time after a whole session: every stopped set's suggestions first, then the advice
    from the cues of all its sets; each meaning once, at most `MAX_ADVICE` lines."""
    lines = [s for end, _cues in sets for s in end.suggestions]
    lines += [CUE_ADVICE[c] for _end, cues in sets for c in cues if c in CUE_ADVICE]
    return [_(line) for line in _one_per_meaning(lines)] or [_(ALL_GOOD)]


def _one_per_meaning(lines: Sequence[str]) -> list[str]:
    """The first line of each meaning, in order, at most `MAX_ADVICE`: seven bullets, three of them "come up
    earlier" in other words, were read as none."""
    kept: dict[str, str] = {}
    for line in lines:
        kept.setdefault(SAME_MEANING.get(line, line), line)
    return list(kept.values())[:MAX_ADVICE]


def session_stats(end: SessionEnd) -> list[str]:
    return [
        _("Sets: {n}").format(n=end.sets),
        _("Reps: {n}").format(n=end.reps),
        _("Deepest: {depth}").format(depth=mm(end.max_depth_mm)),
        _("Lift-offs: {n}").format(n=end.liftoffs),
        _("Time: {time}").format(time=duration(end.duration_s)),
    ]


def duration(seconds: float) -> str:
    """A session's length: seconds under a minute ("Time: 0 min" said nothing), else whole minutes."""
    if seconds < 60:
        return _("{n} s").format(n=number(seconds))
    return _("{n} min").format(n=int(seconds // 60))


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def next_time(set_end: SetEnd, cues_seen: Sequence[str]) -> list[str]:
    """What to change next time: the core's suggestions after a stopped set, else advice from the set's cues."""
    # Suggestions arrive in English (the payload's words) and are translated here, as their own message ids.
    if set_end.suggestions:
        return [_(line) for line in _one_per_meaning(set_end.suggestions)]
    advice = [CUE_ADVICE[c] for c in dict.fromkeys(cues_seen) if c in CUE_ADVICE]
    return [_(line) for line in _one_per_meaning(advice)] or [_(ALL_GOOD)]


def push_figures(mean_mps: float | None, power_w: float | None) -> str:
    """One rep's push for the summary and the headless log: "0.42 m/s, 310 W" (no power without a load)."""
    if mean_mps is None:
        return ""
    speed = _("{n} m/s").format(n=number(mean_mps, 2))
    return speed if power_w is None else _("{speed}, {n} W").format(speed=speed, n=number(power_w))


def kg(value: float, unit: LoadUnit = "kg") -> str:
    """A load kept in kg, shown in the site's unit: `100 kg`, `102.5 kg` (`102,5 kg` in German), `225 lb`;
    steps are 2.5 kg or 5 lb, so one decimal at most."""
    if unit == "lb":
        pounds = value / KG_PER_LB
        return _("{n} lb").format(n=number(pounds, 1 if round(pounds, 1) % 1 else 0))
    return _("{n} kg").format(n=number(value, 1 if round(value, 1) % 1 else 0))


def last_time_line(date: str, sets_done: int, reps_done: int, load_kg: float | None, best_reps: int,
                   best_mps: float | None, unit: LoadUnit = "kg") -> str:
    """At tap-in: what the member did on this machine last time."""
    line = _("Last time ({date}): {sets}, {reps}").format(date=date, sets=sets(sets_done), reps=reps(reps_done))
    if load_kg is not None:
        line += _("; best set {load} x {reps}").format(load=kg(load_kg, unit), reps=best_reps)
    if best_mps is not None:
        line += _(", fastest push {speed}").format(speed=_("{n} m/s").format(n=number(best_mps, 2)))
    return line


def last_time_of(settings: MachineSettings | None, unit: LoadUnit = "kg") -> str:
    """The settings screen at tap-in: last time on this machine, or nothing for a first visit."""
    if settings is None or not settings.history:
        return ""
    v = settings.history[-1]
    return last_time_line(v.date, v.sets, v.reps, v.load_kg, v.best_reps, v.best_mean_velocity_mps, unit)


def visits_chart_text(visits: Sequence[Visit], unit: LoadUnit = "kg") -> str:
    """The visit chart's text alternative, beside it: how many visits it draws and the best set's load on the
    first and the last of them; nothing when the chart draws nothing (fewer than two visits with a load)."""
    loads = [v.load_kg for v in visits if v.load_kg is not None]
    if len(loads) < 2:
        return ""
    return ngettext("Last {n} visit: from {first} to {last}", "Last {n} visits: from {first} to {last}",
                    len(loads)).format(n=len(loads), first=kg(loads[0], unit), last=kg(loads[-1], unit))


def load_text(load_kg: float | None, unit: LoadUnit = "kg") -> str:
    """The set screen's load stepper."""
    return _("Load: not set") if load_kg is None else _("Load {load}").format(load=kg(load_kg, unit))


def next_load_reason(why: str, target_reps: int) -> str:
    """Why the next load is what it is (kiosk.core.training.progression's `why`), in the member's words."""
    match why:
        case "all_sets_done":
            return ngettext("Every set reached {n} rep without slowing down too much: one step more.",
                            "Every set reached {n} reps without slowing down too much: one step more.",
                            target_reps).format(n=target_reps)
        case "reps_short":
            return ngettext("The same again until every set reaches {n} rep.",
                            "The same again until every set reaches {n} reps.", target_reps).format(n=target_reps)
        case "slowed":
            return _("The same again: a set slowed down too much towards its end.")
        case "stopped":
            return _("The same again: a set was stopped.")
        case "liftoff":
            return _("The same again: your lower back came off the pad.")
    return ""


def best_set(load_kg: float | None, best_reps: int, unit: LoadUnit = "kg") -> str:
    """A visit's best set: "80 kg x 10", or only the reps when no load was told."""
    if load_kg is None:
        return reps(best_reps)
    return _("{load} x {reps}").format(load=kg(load_kg, unit), reps=best_reps)


def m_per_s(mps: float) -> str:
    return _("{n} m/s").format(n=number(mps, 2))


def progress_lines(today: Visit, before: Visit | None, first_visit: bool = False,
                   unit: LoadUnit = "kg") -> list[str]:
    """The session's end: today's best set and fastest push against last time at this machine (`before`: the
    last visit on an earlier day; a first visit has nothing to compare with, and says so)."""
    best, fastest = best_set(today.load_kg, today.best_reps, unit), today.best_mean_velocity_mps
    if before is None:
        lines = [_("Best set today: {today}.").format(today=best)]
    else:
        lines = [_("Best set today: {today} (last time {before}).").format(
            today=best, before=best_set(before.load_kg, before.best_reps, unit))]
    if fastest is not None and before is not None and before.best_mean_velocity_mps is not None:
        lines.append(_("Fastest push today: {today} (last time {before}).").format(
            today=m_per_s(fastest), before=m_per_s(before.best_mean_velocity_mps)))
    elif fastest is not None:
        lines.append(_("Fastest push today: {today}.").format(today=m_per_s(fastest)))
    if first_visit:
        lines.append(_("Your first visit at this machine: next time you can compare."))
    return lines


def next_load_line(next_load_kg: float | None, why: str | None, target_reps: int, unit: LoadUnit = "kg") -> str:
    """The load the stepper starts from at the next tap-in, and the double-progression rule's reason."""
    if next_load_kg is None or why is None:
        return ""
    load = _("Load for next time: {load}.").format(load=kg(next_load_kg, unit))
    reason = next_load_reason(why, target_reps)
    return f"{load} {reason}" if reason else load


def last_rep_line(rep: RepDone | None) -> str:
    """Under the rep counter: how deep the last rep went and how fast it came up."""
    if rep is None:
        return ""
    push = push_figures(rep.mean_velocity_mps, rep.power_w)
    depth = _("Last rep {depth}").format(depth=mm(rep.depth_mm))
    return f"{depth}, {push}" if push else depth


def set_figures(set_end: SetEnd, unit: LoadUnit = "kg") -> str:
    """What a set was worth, for its summary: load, best push, how much it slowed, time under tension."""
    parts = []
    if set_end.load_kg is not None:
        parts.append(kg(set_end.load_kg, unit))
    if set_end.best_mean_velocity_mps is not None:
        parts.append(_("best push {n} m/s").format(n=number(set_end.best_mean_velocity_mps, 2)))
    if set_end.velocity_loss_pct is not None:
        parts.append(_("last push slowed by {n}%").format(n=number(set_end.velocity_loss_pct)))
    if set_end.tut_s:
        parts.append(_("{n} s under load").format(n=number(set_end.tut_s)))
    return ", ".join(parts)


def pain_advice(kind: str) -> list[str]:
    """What the summary says after a set stopped for pain; `kind` is "" if the member never said."""
    first = PAIN_ADVICE.get(kind, PAIN_NO_KIND)
    return [_(first), _(SEE_SOMEONE)]


def backrest_text(notch: int, angle: float) -> str:
    return _("Notch {notch} ({angle}\u00b0)").format(notch=notch, angle=number(angle))


def seat_text(notch: int, notches: int) -> str:
    return _("Notch {notch} of {notches}").format(notch=notch, notches=notches)


def toe_text(degrees: int) -> str:
    return _("{degrees}\u00b0 out").format(degrees=degrees)


def depth_text(target_mm: float, max_mm: float) -> str:
    return _("{target} (max {max})").format(target=mm(target_mm), max=mm(max_mm))


def feet_text(height: str, width: str, toe_deg: int) -> str:
    return _("Feet {height}, {width}, toes {toes}").format(
        height=foot_height(height).lower(), width=foot_width(width).lower(), toes=toe_text(toe_deg))


def first_time_defaults(backrest: str, height: str, width: str, target_mm: float) -> str:
    """What the guided setup starts from, in three lines."""
    return "\n".join((
        _("Backrest: {backrest}, well back").format(backrest=backrest),
        _("Feet: {height}, {width}").format(height=foot_height(height).lower(), width=foot_width(width).lower()),
        _("Depth: {depth}, a short range").format(depth=mm(target_mm)),
    ))


def count(n: int, thing: str, things: str | None = None) -> str:
    """`1 rep`, `2 reps`: a number with its noun in the right form."""
    return f"{n} {thing if n == 1 else (things or thing + 's')}"


# Counts a member reads, with the plural each language needs (one rule in English, three in Polish).
def reps(n: int) -> str:
    return ngettext("{n} rep", "{n} reps", n).format(n=n)


def sets(n: int) -> str:
    return ngettext("{n} set", "{n} sets", n).format(n=n)


def liftoffs(n: int) -> str:
    return ngettext("{n} lift-off", "{n} lift-offs", n).format(n=n)


def sentences(parts: Sequence[str]) -> str:
    """Whole sentences in a row, each with its own full stop: no `.;` joins."""
    return " ".join(p if p.endswith((".", "!", "?")) else p + "." for p in parts)


def goodbye(name: str) -> str:
    return told(GOODBYE, {"name": name}) if name else _(GOODBYE_NAMELESS)


def seconds(value: float | None) -> str:
    return "-" if value is None else _("{n} s").format(n=number(value, 1))


def mm(value: float | None) -> str:
    return "-" if value is None else _("{n} mm").format(n=number(value))
