"""The kiosk's events as one line of text each: what the headless kiosk logs and `legpress-fleet watch` prints.

Stateful per machine: a set's advice needs the cues raised since the set began, so
keep one `EventLines` per kiosk whose events you describe.
"""

from collections.abc import Callable

from pydantic import BaseModel

from kiosk.contract.config import LoadUnit
from kiosk.contract.events import (
    Alert,
    AssistTold,
    CueRaised,
    PainReport,
    ProfileSaved,
    RepDone,
    SensorFault,
    SessionEnd,
    SessionStart,
    SetEnd,
)
from kiosk.contract.kiosk import KioskStatus
from kiosk.words import wording
from kiosk.words.language import _


class EventLines:
    """Turns contract events into lines; None for a model it does not describe."""

    def __init__(self, load_unit: Callable[[], LoadUnit] = lambda: "kg") -> None:
        """`load_unit`: how loads are shown (the site's `load_unit`; the events always hold kg)."""
        self._cues_in_set: list[str] = []
        self._load_unit = load_unit

    def describe(self, model: BaseModel) -> str | None:
        match model:
            case SessionStart(member=member, role=role):
                self._cues_in_set = []
                return f"session started for {member} ({role})"
            case RepDone(rep=rep, depth_mm=depth, eccentric_s=down, concentric_s=up):
                push = wording.push_figures(model.mean_velocity_mps, model.power_w)
                return (f"rep {rep}: {wording.mm(depth)}, down {wording.seconds(down)}, up {wording.seconds(up)}"
                        + (f", {push}" if push else ""))
            case CueRaised(cue=cue, severity=severity):
                self._cues_in_set.append(cue)
                headline, detail = wording.cue_text(cue, severity)
                return f"[{severity.upper()}] {headline}. {detail}".rstrip()
            case SetEnd():
                advice = wording.sentences(wording.next_time(model, self._cues_in_set))
                self._cues_in_set = []
                line = (_("set {number} stopped: {reps}, deepest {depth}, {liftoffs}.") if model.stopped
                        else _("set {number} done: {reps}, deepest {depth}, {liftoffs}."))
                figures = wording.set_figures(model, self._load_unit())
                line = line.format(number=model.set_number, reps=wording.reps(model.reps),
                                   depth=wording.mm(model.max_depth_mm), liftoffs=wording.liftoffs(model.liftoffs))
                if figures:
                    line = f"{line.removesuffix('.')}, {figures}."
                return f"{line} {_(wording.NEXT_TIME_TITLE)}: {advice}"
            case SessionEnd(reason=reason, sets=sets, reps=reps):
                line = _("session ended ({reason}): {sets}, {reps}. Screen cleared.").format(
                    reason=reason, sets=wording.sets(sets), reps=wording.reps(reps))
                if model.volume_kg is None:
                    return line
                return f"{line} " + _("Moved in all: {load}.").format(
                    load=wording.kg(model.volume_kg, self._load_unit()))
            case PainReport(kind=kind):
                steps = " ".join(_(step) for step in wording.PAIN_STEPS)
                return _("pain reported ({kind}): {steps} {advice} {see}").format(
                    kind=kind, steps=steps, advice=_(wording.PAIN_ADVICE[kind]), see=_(wording.SEE_SOMEONE))
            case AssistTold(state=state, by=by):
                return f"staff answered ({state}): {wording.assist_line(state, by)}"
            case SensorFault(fault=fault, detail=detail):
                return f"sensor fault ({fault}): {detail}"
            case ProfileSaved(member=member, rev=rev):
                return f"settings of {member} saved (revision {rev})"
            case Alert(reason=reason, member=member, cue=cue, waited_s=waited, repeat=repeat):
                return wording.alert_line(reason, member, cue, waited, repeat)
            case KioskStatus(mode=mode):
                return f"mode: {mode}"
        return None
