"""Unit `revocations`: owns `gym/v1/{site}/config/revocations`, the site's list of withdrawn codes.

Applied to every scan from the moment it arrives. Operators publish it retained
(`legpress-fleet members revoke`); the kiosk keeps a copy in its data folder
so a kiosk that starts without the broker still refuses what was revoked. A
list that is not valid is refused whole (logged and counted) and the one in
force stays: a half-read list could let a revoked code back in.
"""

import logging
import time
from dataclasses import dataclass

from kiosk.codes.member_codes import PLAIN_ID_KID, Admitted, Refused, ScanVerdict
from kiosk.contract.base import PayloadError, decode
from kiosk.contract.revocations import RevocationList
from kiosk.contract.topics import site_revocations
from kiosk.core.unit import Unit, Wiring
from kiosk.host.private_files import write_private
from kiosk.words.wording import CODE_REVOKED

log = logging.getLogger(__name__)


@dataclass
class RevocationStats:
    """For telemetry: the list in force and what it refused."""

    entries: int = 0
    lists_refused: int = 0
    refused_scans: int = 0


class Revocations(Unit):
    """Unit `revocations`: owns `gym/v1/{site}/config/revocations`; refuses codes issued before their
    member's revocation time. The list is kept on disk (read at start), so a kiosk that starts
    offline still refuses what was revoked."""

    def __init__(self, wiring: Wiring) -> None:
        super().__init__(wiring)
        self.path = wiring.settings.data_dir / "revocations.json"
        self.stats = RevocationStats()
        self.error: str | None = None
        self._cutoffs: dict[str, float] = {}

    def start(self) -> None:
        self._load()
        self.listen(site_revocations(self.wiring.settings.site), self._receive, qos=1)

    def _receive(self, _topic: str, payload: bytes, _props: object, _at: float) -> None:
        self.offer(payload)

    def offer(self, payload: bytes) -> bool:
        """A published list (empty payload: cleared); False if refused, see `error`."""
        try:
            revocations = decode(RevocationList, payload) if payload else RevocationList(updated=0)
        except PayloadError as exc:
            self.stats.lists_refused += 1
            self.error = f"revocation list refused, previous one kept: {exc}"
            log.error("%s", self.error)
            return False
        self._apply(revocations)
        try:
            write_private(self.path, revocations.model_dump_json())
        except OSError as exc:
            log.error("revocation list applied but not kept in %s: %s", self.path, exc)
        self.error = None
        log.info("revocation list in force: %d member(s)", len(self._cutoffs))
        return True

    def screen(self, verdict: ScanVerdict) -> ScanVerdict:
        """`verdict`, or a refusal if it accepts a code its member's revocation covers."""
        if not isinstance(verdict, Admitted):
            return verdict
        claims = verdict.claims
        cutoff = self._cutoffs.get(claims.sub)
        if cutoff is None:
            return verdict
        if claims.kid == PLAIN_ID_KID:
            # A typed or plain-printed id carries no issue time, so it cannot show it is newer than the
            # withdrawal: a member whose codes were withdrawn (a lost card) comes in with their new code.
            self.stats.refused_scans += 1
            return Refused("not_allowed", CODE_REVOKED,
                           f"revoked: {claims.sub}'s codes are withdrawn and a plain id cannot show it is newer")
        if claims.iat >= cutoff:
            return verdict
        self.stats.refused_scans += 1
        return Refused("not_allowed", CODE_REVOKED,
                           f"revoked: {claims.sub}'s codes issued before {_when(cutoff)} are withdrawn "
                           f"(this one {_when(claims.iat)})")

    def _apply(self, revocations: RevocationList) -> None:
        self._cutoffs = revocations.cutoffs()
        self.stats.entries = len(self._cutoffs)

    def _load(self) -> None:
        try:
            payload = self.path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            log.error("kept revocation list %s unreadable: %s", self.path, exc)
            return
        try:
            self._apply(decode(RevocationList, payload))
        except PayloadError as exc:
            log.error("kept revocation list %s is damaged, waiting for the site's: %s", self.path, exc)


def _when(ts: float) -> str:
    # A date an operator reads in `watch` and the journal, not an epoch number; UTC, as the site may span zones.
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts))
