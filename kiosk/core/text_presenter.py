"""The headless kiosk's screen: what the touch screen would show, as plain log lines.

Uses the same wording as the Kivy screen, so a headless run reads like the
member's experience and is easy to follow in a terminal or journal.
"""

from collections.abc import Callable

from pydantic import BaseModel

from kiosk.contract.events import (
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
from kiosk.core import wording
from kiosk.core.guided_setup import SetupProgress
from kiosk.core.session import OperatorNotice, ScanFeedback


class TextPresenter:
    """Turns the core's events into lines for `say` (a logger call in headless mode)."""

    def __init__(self, say: Callable[[str], None]):
        self._say = say
        self._cues_in_set: list[str] = []

    def __call__(self, model: BaseModel) -> None:
        line = self.describe(model)
        if line:
            self._say(line)

    def describe(self, model: BaseModel) -> str | None:
        match model:
            case ScanFeedback(accepted=True, message=message):
                return f"scan accepted: {message}"
            case ScanFeedback(message=message):
                return f"scan refused: {message}"
            case SessionStart(member=member, role=role):
                self._cues_in_set = []
                return f"session started for {member} ({role})"
            case RepDone(rep=rep, depth_mm=depth, eccentric_s=down, concentric_s=up):
                return f"rep {rep}: {wording.mm(depth)}, down {wording.seconds(down)}, up {wording.seconds(up)}"
            case CueRaised(cue=cue, severity=severity):
                self._cues_in_set.append(cue)
                headline, detail = wording.cue_text(cue, severity)
                return f"[{severity.upper()}] {headline}. {detail}".rstrip()
            case SetEnd():
                advice = wording.sentences(wording.next_time(model, self._cues_in_set))
                self._cues_in_set = []
                verb = "stopped" if model.stopped else "done"
                return (f"set {model.set_number} {verb}: {wording.count(model.reps, 'rep')}, deepest "
                        f"{wording.mm(model.max_depth_mm)}, {wording.count(model.liftoffs, 'lift-off')}. "
                        f"{wording.NEXT_TIME_TITLE}: {advice}")
            case SessionEnd(reason=reason, sets=sets, reps=reps):
                return (f"session ended ({reason}): {wording.count(sets, 'set')}, {wording.count(reps, 'rep')}. "
                        "Screen cleared.")
            case PainReport(kind=kind):
                steps = " ".join(wording.PAIN_STEPS)
                return f"pain reported ({kind}): {steps} {wording.PAIN_ADVICE[kind]} {wording.SEE_SOMEONE}"
            case SensorFault(fault=fault, detail=detail):
                return f"sensor fault ({fault}): {detail}"
            case ProfileSaved(member=member, rev=rev):
                return f"settings of {member} saved (revision {rev})"
            case SetupProgress(stage="done", target_depth_mm=target, top_mm=top):
                return f"guided setup: {wording.setup_learnt(target, top)}".replace("\n", ", ")
            case SetupProgress(stage="reps", reps_done=done, reps_needed=needed, fast_reps=fast):
                quick = f" ({wording.REP_TOO_QUICK})" if fast else ""
                return f"guided setup: {wording.setup_count(done, needed)}{quick}"
            case KioskStatus(mode=mode):
                return f"mode: {mode}"
            case OperatorNotice(kind="message", text=text, seconds=seconds):
                return f"message from staff for {seconds:.0f} s: {text}"
            case OperatorNotice(kind=kind, text=text):
                return f"{kind.replace('_', ' ')}{': ' + text if text else ''}"
        return None
