"""Member profiles: the retained MQTT copy is the truth, a local SQLite cache keeps
a kiosk serving known members when the broker or the gym's network is down.

`rev` only grows: a profile arriving with a rev at or below the cached one is
ignored (and counted), so a kiosk that was offline can never roll a member's
settings back.
"""

import json
import logging
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from kiosk.contract.base import PayloadError, decode, encode
from kiosk.contract.profile import MachineSettings, MemberProfile

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeldSave:
    """A member's settings for one machine model, saved on this kiosk and waiting to be published."""

    member: str
    name: str
    model: str
    settings: MachineSettings


@dataclass
class ProfileStats:
    received: int = 0
    stored: int = 0
    stale_ignored: int = 0
    invalid: int = 0
    erased: int = 0


class ProfileBook:
    """The kiosk's cache of member profiles, kept in `<data_dir>/profiles.sqlite3` (WAL)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.stats = ProfileStats()
        self._lock = threading.Lock()
        # One connection shared under a lock: the core thread writes, the UI may read.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS profiles (member TEXT PRIMARY KEY, rev INTEGER NOT NULL, body TEXT NOT NULL)"
        )
        # Saves made here that the broker has not confirmed yet. They are published only
        # once the kiosk is online and has the latest retained profiles, as `latest.rev + 1`,
        # so an offline kiosk never pushes an old revision over a newer one.
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS pending (member TEXT NOT NULL, model TEXT NOT NULL, name TEXT NOT NULL, "
            "settings TEXT NOT NULL, PRIMARY KEY (member, model))"
        )

    def get(self, member: str) -> MemberProfile | None:
        with self._lock:
            row = self._db.execute("SELECT body FROM profiles WHERE member = ?", (member,)).fetchone()
        if row is None:
            return None
        try:
            return MemberProfile.model_validate_json(row[0])
        except ValueError:
            log.warning("cached profile of %s is damaged; ignoring it", member)
            return None

    def rev(self, member: str) -> int:
        with self._lock:
            row = self._db.execute("SELECT rev FROM profiles WHERE member = ?", (member,)).fetchone()
        return -1 if row is None else row[0]

    def offer(self, profile: MemberProfile) -> bool:
        """Store `profile` if it is newer than what is cached; return whether it was stored."""
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO profiles (member, rev, body) VALUES (?, ?, ?) "
                "ON CONFLICT(member) DO UPDATE SET rev = excluded.rev, body = excluded.body "
                "WHERE excluded.rev > profiles.rev",
                (profile.member, profile.rev, encode(profile).decode()),
            )
        if cur.rowcount:
            self.stats.stored += 1
            return True
        self.stats.stale_ignored += 1
        return False

    def hold(self, member: str, name: str, model: str, settings: MachineSettings) -> None:
        """Keep a save until it can be published."""
        with self._lock:
            self._db.execute(
                "INSERT INTO pending (member, model, name, settings) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(member, model) DO UPDATE SET name = excluded.name, settings = excluded.settings",
                (member, model, name, encode(settings).decode()),
            )

    def pending(self) -> list["HeldSave"]:
        """Saves made here and not yet published."""
        with self._lock:
            rows = self._db.execute("SELECT member, name, model, settings FROM pending").fetchall()
        return [HeldSave(m, n, model, MachineSettings.model_validate_json(body)) for m, n, model, body in rows]

    def release(self, member: str, model: str | None = None, settings: MachineSettings | None = None) -> None:
        """Forget held saves of `member` (for `model`; only if still `settings`: a newer save stays held)."""
        with self._lock:
            if model is None:
                self._db.execute("DELETE FROM pending WHERE member = ?", (member,))
            elif settings is None:
                self._db.execute("DELETE FROM pending WHERE member = ? AND model = ?", (member, model))
            else:
                self._db.execute("DELETE FROM pending WHERE member = ? AND model = ? AND settings = ?",
                                 (member, model, encode(settings).decode()))

    def settings_for(self, member: str, model: str) -> tuple[MemberProfile | None, MachineSettings | None]:
        """The member's profile and their settings for `model`: a held save wins over the cached profile."""
        profile = self.get(member)
        with self._lock:
            row = self._db.execute("SELECT settings FROM pending WHERE member = ? AND model = ?",
                                   (member, model)).fetchone()
        if row is not None:
            return profile, MachineSettings.model_validate_json(row[0])
        return profile, profile.machines.get(model) if profile else None

    def receive(self, member: str, payload: bytes) -> MemberProfile | None:
        """A retained profile message from the broker; returns the profile if it was new."""
        self.stats.received += 1
        if not payload:
            # An empty retained payload is the contract's way to erase a member.
            with self._lock:
                self._db.execute("DELETE FROM profiles WHERE member = ?", (member,))
                self._db.execute("DELETE FROM pending WHERE member = ?", (member,))
            self.stats.erased += 1
            return None
        try:
            profile = decode(MemberProfile, payload)
        except PayloadError as exc:
            self.stats.invalid += 1
            log.warning("profile of %s refused: %s", member, exc)
            return None
        if profile.member != member:
            self.stats.invalid += 1
            log.warning("profile on the topic of %s names %s; refused", member, profile.member)
            return None
        return profile if self.offer(profile) else None

    def close(self) -> None:
        with self._lock:
            self._db.close()


def with_settings(profile: MemberProfile | None, member: str, name: str, model: str,
                  settings: MachineSettings, now: float) -> MemberProfile:
    """The next revision of a profile with `settings` for `model`; other models are kept as they were."""
    if profile is None:
        return MemberProfile(member=member, name=name, rev=1, updated=now, machines={model: settings})
    data = json.loads(encode(profile))
    data["machines"][model] = json.loads(encode(settings))
    data.update(rev=profile.rev + 1, updated=now, name=name or profile.name)
    return MemberProfile.model_validate(data)
