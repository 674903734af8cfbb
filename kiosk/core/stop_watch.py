"""A STOP the member has not acknowledged: staff are alerted, and the session waits for them.

A STOP takes the member's screen until they tap it away. Left alone, it
used to time out with the session, silently, while the member might still
be under the weight (issue 22). Now, `ALERT_AFTER_S` after a stop cue with
no acknowledgement, an `alert` event goes to staff (the console and
`legpress-fleet watch` show it), the stop tone sounds again, and the session
is kept open; the alert repeats every `ALERT_EVERY_S` until the member taps
the STOP away, presses Pain, or the session is ended (by staff, a logout).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel

from kiosk.contract.events import Alert, CueRaised, SessionEnd

log = logging.getLogger(__name__)

# Long enough to rack the weight and tap; short against a member pinned under it.
ALERT_AFTER_S = 30.0
ALERT_EVERY_S = 60.0


@dataclass
class _Pending:
    cue: CueRaised
    since: float  # kiosk clock
    alerts: int = 0


class StopWatch:
    """Follows the kiosk's own events; `tick` alerts staff about a STOP left unacknowledged."""

    def __init__(self, emit: Callable[[BaseModel], None], member: Callable[[], str | None],
                 keep_session: Callable[[float], None], remind: Callable[[CueRaised], None],
                 after_s: float = ALERT_AFTER_S, every_s: float = ALERT_EVERY_S) -> None:
        """`keep_session(now)` keeps the session from timing out; `remind(cue)` sounds the stop again."""
        self.after_s, self.every_s = after_s, every_s
        self._emit = emit
        self._member = member
        self._keep_session = keep_session
        self._remind = remind
        self._pending: _Pending | None = None

    @property
    def alerts(self) -> int:
        """Alerts sent for the STOP waiting now; 0 when none waits or it has not been alerted yet."""
        return self._pending.alerts if self._pending else 0

    @property
    def waiting(self) -> bool:
        return self._pending is not None

    def seen(self, event: BaseModel, now: float) -> None:
        """Every event the kiosk emits, as it emits it."""
        if isinstance(event, CueRaised) and event.severity == "stop" and event.session is not None:
            if event.cue == "pain_stop":
                # The member pressed Pain: they are answering, and the pain protocol has told staff.
                self._pending = None
            elif self._pending is None:
                self._pending = _Pending(event, now)
        elif isinstance(event, SessionEnd):
            self._pending = None

    def acknowledged(self) -> None:
        """The member tapped the STOP away."""
        self._pending = None

    def tick(self, now: float) -> None:
        pending = self._pending
        if pending is None:
            return
        self._keep_session(now)  # a session must not time out under a member who may be stuck
        waited = now - pending.since
        if waited < self.after_s + pending.alerts * self.every_s:
            return
        pending.alerts += 1
        log.warning("STOP (%s) unacknowledged for %.0f s: staff alerted", pending.cue.cue, waited)
        self._emit(Alert(ts=now, session=pending.cue.session, reason="stop_unacknowledged", member=self._member(),
                         cue=pending.cue.cue, waited_s=round(waited, 1), repeat=pending.alerts))
        self._remind(pending.cue)
