"""The site's revocation list, applied to every scan the moment it arrives.

Operators publish it retained on `gym/v1/{site}/config/revocations`
(`legpress-fleet members revoke`); the kiosk keeps a copy in its data folder
so a kiosk that starts without the broker still refuses what was revoked. A
list that is not valid is refused whole (logged and counted) and the one in
force stays: a half-read list could let a revoked code back in.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kiosk.contract.base import PayloadError, decode
from kiosk.contract.revocations import RevocationList
from kiosk.contract.topics import site_revocations
from kiosk.core.files import write_private
from kiosk.core.link import MqttLink
from kiosk.core.member_codes import PLAIN_ID_KID, ScanVerdict
from kiosk.core.wording import CODE_REVOKED

log = logging.getLogger(__name__)


@dataclass
class RevocationStats:
    """For telemetry: the list in force and what it refused."""

    entries: int = 0
    lists_refused: int = 0
    refused_scans: int = 0


class Revocations:
    """Refuses codes issued before their member's revocation time."""

    def __init__(self, data_dir: Path):
        self.path = data_dir / "revocations.json"
        self.stats = RevocationStats()
        self.error: str | None = None
        self._cutoffs: dict[str, float] = {}

    def attach(self, link: MqttLink, site: str, post: Callable[[Callable[[], None]], None]) -> None:
        """Load the kept copy and follow the site's list; `post` hands work to the core thread."""
        self._load()
        link.subscribe(site_revocations(site), lambda _t, payload, _p: post(lambda: self._receive(payload)), qos=1)

    def _receive(self, payload: bytes) -> None:
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
        claims = verdict.claims
        if not verdict.accepted or claims is None or claims.kid == PLAIN_ID_KID:
            return verdict
        cutoff = self._cutoffs.get(claims.sub)
        if cutoff is None or claims.iat >= cutoff:
            return verdict
        self.stats.refused_scans += 1
        return ScanVerdict(False, None, "not_allowed", CODE_REVOKED,
                           f"revoked: {claims.sub}'s codes issued before {cutoff:.0f} are withdrawn "
                           f"(this one {claims.iat:.0f})")

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
