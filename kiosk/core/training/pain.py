"""The pain protocol: the pain button stops the set at once, the question about the pain comes after.

A press raises `pain_stop` (staff see it at once) and closes the set before anything is asked; the
member's answer is a `pain_report`. Whose pain it is: the member at the machine, or for a while the
one an operator's command just cut short (they may still be under the weight). Core thread only.
"""

from collections.abc import Callable

from pydantic import BaseModel

from kiosk.contract.commands import Assist
from kiosk.contract.events import AssistTold, CueRaised, PainKind, PainReport
from kiosk.contract.replies import AssistShown
from kiosk.core.training.session import PAIN_AFTER_CUT_S, Session
from kiosk.core.training.training import Training


class PainProtocol:
    """The pain button and the pain report, for the member at the machine or the one just cut short."""

    def __init__(self, training: Training, now: Callable[[], float], emit: Callable[[BaseModel], None],
                 touched: Callable[[], None]) -> None:
        """`emit`: a kiosk event; `touched()`: the member touched the screen."""
        self._training = training
        self._now = now
        self._emit = emit
        self._touched = touched
        self._cut_short: Session | None = None

    def cut_short(self, session: Session) -> None:
        """An operator's command is about to end `session`: its member's pain button keeps working a while."""
        session.last_activity = self._now()
        self._cut_short = session

    def pressed(self) -> None:
        now, session = self._now(), self._whose()
        if session is None or session.pain_pressed:
            return
        session.pain_pressed = True
        self._touched()
        engine = self._training.engine
        self._emit(CueRaised(ts=now, session=session.id, cue="pain_stop", severity="stop",
                             rep=engine.reps_in_set if engine else 0))
        self._training.close_set(now)

    def reported(self, kind: PainKind) -> None:
        session = self._whose()
        if session is None:
            return
        self.pressed()  # a report without a press (headless, tests) still stops first
        if session is self._training.session:
            self._training.pain_reported(kind)
        self._emit(PainReport(ts=self._now(), session=session.id, member=session.member, kind=kind))
        session.pain_pressed = False  # the episode is told; a later press is a new one

    def assisted(self, cmd: Assist) -> AssistShown:
        """A console answered: the member's screen says who saw the alert or who is coming, and the session
        keeps who answered and when (the event is in no session when nobody is at the machine)."""
        session = self._whose()
        sid = session.id if session is not None else None
        self._emit(AssistTold(ts=self._now(), session=sid, state=cmd.state, by=cmd.by))
        return AssistShown(state=cmd.state, by=cmd.by, session=sid)

    def _whose(self) -> Session | None:
        if self._training.session is not None:
            return self._training.session
        cut = self._cut_short
        if cut is not None and self._now() - cut.last_activity <= PAIN_AFTER_CUT_S:
            return cut
        return None
