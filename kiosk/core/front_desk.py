"""The front desk: every code read at the kiosk, checked, then acted on.

A code is verified (signature, age, the plain member id pattern), screened against the revocation
list and the kiosk's mode, then: a member's code starts their session, or logs them out when scanned
again; a staff code opens or closes maintenance. During a member's training a staff code needs a
second scan, so a technician's badge brushing past the reader does not end someone's set. A refused
code is told to the member on screen and to operators as `scan_rejected`. Core thread only.
"""

import logging
from collections.abc import Callable

from kiosk.codes.member_codes import Admitted, Refused, TrustedKeys, verify_code
from kiosk.contract.config import KioskConfig
from kiosk.contract.events import ScanRejected
from kiosk.core.access.revocations import Revocations
from kiosk.core.modes import Modes
from kiosk.core.snapshot import ScanFeedback
from kiosk.core.training.training import Training
from kiosk.core.unit import Wiring
from kiosk.words import wording

log = logging.getLogger(__name__)

# A staff code scanned during a member's session ends it only when scanned again within this long.
STAFF_CONFIRM_S = 20.0


class FrontDesk:
    """Checks each code read and lets its holder in, out, or into maintenance."""

    def __init__(self, wiring: Wiring, keys: TrustedKeys, revocations: Revocations, modes: Modes,
                 training: Training, config: Callable[[], KioskConfig]) -> None:
        self.wiring = wiring
        self._keys = keys
        self._revocations = revocations
        self._modes = modes
        self._training = training
        self._config = config
        self._staff_asked: tuple[str, str, float] | None = None  # (staff, session, when) of a first staff scan

    def handle(self, text: str) -> None:
        now, config, mode = self.wiring.clock.now(), self._config(), self._modes.mode
        self._keys.reload()  # keys added or withdrawn on disk apply from the next scan
        verdict = verify_code(text, self._keys, now, config.member_id_pattern,
                              max_age_s=config.code_max_age.seconds_by_role())
        verdict = self._revocations.screen(verdict)
        if isinstance(verdict, Admitted) and verdict.claims.role != "staff" and mode in wording.BUSY:
            verdict = Refused("not_allowed", wording.BUSY[mode], f"kiosk is in {mode}")
        if isinstance(verdict, Refused):
            log.info("scan refused: %s (%s)", verdict.reason, verdict.detail)
            self.wiring.notify(ScanFeedback.told(False, verdict.message))  # an English message id
            self.wiring.emit(ScanRejected(ts=now, session=self._training.session_id(), reason=verdict.reason,
                                          detail=verdict.detail[:200]))
            return
        claims = verdict.claims
        if claims.role == "staff" and self._member_training(claims.sub, now):
            return
        session = self._training.session
        same_member = session is not None and session.member == claims.sub
        # Kept as message ids with their fills: the screen words them in its language, and again when it changes.
        message, fills = wording.WELCOME, {"name": claims.name or claims.sub}
        if claims.role == "staff" and mode == "maintenance":
            message, fills = wording.MAINTENANCE_CLOSED, {}
        elif same_member:  # the same code again is the member logging out
            message, fills = (wording.GOODBYE, {"name": claims.name}) if claims.name else (wording.GOODBYE_NAMELESS, {})
        self.wiring.notify(ScanFeedback.told(True, message, fills, member=claims.sub, name=claims.name,
                                             role=claims.role))
        self._training.end("logout")
        if claims.role == "staff":
            self._modes.toggle_maintenance()
        elif not same_member:
            self._training.begin(claims.sub, claims.name, claims.role, now)

    def _member_training(self, staff: str, now: float) -> bool:
        """A staff code while a member trains: told on screen, and only a second scan ends the session."""
        session = self._training.session
        if session is None or session.role == "staff":
            return False
        asked = self._staff_asked
        if asked is not None and asked[0] == staff and asked[1] == session.id and now - asked[2] <= STAFF_CONFIRM_S:
            self._staff_asked = None
            return False
        self._staff_asked = (staff, session.id, now)
        self.wiring.notify(ScanFeedback.told(False, wording.STAFF_DURING_SESSION, member=staff, role="staff"))
        return True
