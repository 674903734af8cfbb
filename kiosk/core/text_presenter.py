"""The headless kiosk's screen: what the touch screen would show, as plain log lines.

Uses the same wording as the Kivy screen, so a headless run reads like the
member's experience and is easy to follow in a terminal or journal. Events are
worded by `kiosk.words.event_lines` (shared with `legpress-fleet watch`); this
adds the screen's own models.
"""

from collections.abc import Callable

from pydantic import BaseModel

from kiosk.contract.events import SessionEnd
from kiosk.core.snapshot import LastVisit, OperatorNotice, ScanFeedback, SetupProgress
from kiosk.words import wording
from kiosk.words.event_lines import EventLines
from kiosk.words.language import speaking


class TextPresenter(EventLines):
    """Turns the core's events and screen models into lines for `say` (a logger call in headless mode)."""

    def __init__(self, say: Callable[[str], None], member_language: Callable[[], str | None] = lambda: None,
                 site_default: Callable[[], str | None] = lambda: None):
        """`member_language` is the language of the member at the machine (their profile's tag), None when
        nobody is there or they have none: lines are then in the site's default (`languages[0]`)."""
        super().__init__()
        self._say = say
        self._member_language = member_language
        self._site_default = site_default
        self._language: str | None = None  # the last member's, kept until their session's end is told

    def __call__(self, model: BaseModel) -> None:
        self._language = self._member_language() or self._language
        # A welcome comes before its member's profile: in the site's default, not the last member's language.
        welcome = isinstance(model, ScanFeedback) and model.message_id == wording.WELCOME
        with speaking(None if welcome else self._language, self._site_default()):
            line = self.describe(model)
        if isinstance(model, SessionEnd):
            self._language = None
        if line:
            self._say(line)

    def describe(self, model: BaseModel) -> str | None:
        match model:
            case ScanFeedback(accepted=True):
                return f"scan accepted: {model.text()}"
            case ScanFeedback():
                return f"scan refused: {model.text()}"
            case SetupProgress(stage="done", target_depth_mm=target, top_mm=top, max_depth_mm=deepest):
                return f"guided setup: {wording.setup_learnt(target, top, deepest)}".replace("\n", ", ")
            case SetupProgress(stage="reps", reps_done=done, reps_needed=needed, fast_reps=fast, lifted_reps=lifted):
                quick = f" ({wording.tr(wording.REP_TOO_QUICK)})" if fast else ""
                spoilt = f" ({wording.tr(wording.REP_LIFTED)})" if lifted else ""
                return f"guided setup: {wording.setup_count(done, needed)}{quick}{spoilt}"
            case LastVisit(visit=v):
                return wording.last_time_line(v.date, v.sets, v.reps, v.load_kg, v.best_reps,
                                              v.best_mean_velocity_mps)
            case OperatorNotice(kind="message", text=text, seconds=seconds):
                return f"message from staff for {seconds:.0f} s: {wording.tr(text)}"
            case OperatorNotice(kind=kind, text=text):
                return f"{kind.replace('_', ' ')}{': ' + text if text else ''}"
        return super().describe(model)
