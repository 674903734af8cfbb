"""Member profiles: the retained MQTT copy is the truth, a local SQLite cache keeps
a kiosk serving known members when the broker or the gym's network is down.

`rev` only grows: a profile arriving with a rev at or below the cached one is
ignored (and counted), so a kiosk that was offline can never roll a member's
settings back. A rev far above the cached one (or above `MAX_REV_JUMP` for a
member not seen yet) is refused too: it can only be forged, and accepted it
would leave the member's later saves no room to grow.

What the cache keeps is bounded whatever is published: unknown fields (kept
so a newer kiosk's settings survive an older kiosk's save) up to
`MAX_UNKNOWN_BYTES` per profile, profiles up to `MAX_PROFILE_BYTES`, and
`max_members` members, the least recently seen going first. A forgotten
member's rev is kept (a few bytes, up to `MAX_FORGOTTEN` of them), and a save
for them waits until their retained profile comes in again (at the next
connection), so it can never go out as an older rev than the one the broker
holds, nor drop their settings for other machines.
"""

import json
import logging
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.contract.base import PayloadError, decode, encode
from kiosk.contract.profile import MachineSettings, MemberProfile
from kiosk.core.settings import MAX_MEMBERS
from kiosk.host.private_files import private_file

log = logging.getLogger(__name__)

# A member saves a few times a visit; a hundred thousand saves is decades of training.
MAX_REV_JUMP = 100_000
# Unknown fields are a newer kiosk's additions: a few hundred bytes. Past this they are dropped.
MAX_UNKNOWN_BYTES = 2048
# Every machine model of a big gym with long notes fits in a quarter of this.
MAX_PROFILE_BYTES = 8 * 1024
MAX_FORGOTTEN = 100_000


@dataclass(frozen=True)
class HeldSave:
    """A member's settings for one machine model, saved on this kiosk and waiting to be published."""

    member: str
    name: str
    model: str
    settings: MachineSettings
    language: str | None = None  # chosen on screen with these settings; None: the profile's stays


@dataclass
class ProfileStats:
    """What the cache did with the profiles it was offered, for diagnostics and telemetry."""

    received: int = 0
    stored: int = 0
    stale_ignored: int = 0
    invalid: int = 0
    erased: int = 0
    rev_refused: int = 0
    unknown_trimmed: int = 0
    too_large: int = 0
    evicted: int = 0
    cached: int = 0
    dropped: int = 0  # arrived faster than they could be filed, past the intake's byte bound
    # Saves made here: published to the broker, and held now for a forgotten member's retained profile (as
    # of the last pass over the held saves: a test or an operator sees that a save had its chance and waited).
    saves_published: int = 0
    saves_waiting: int = 0


class ProfileBook:
    """The kiosk's cache of member profiles, kept in `<data_dir>/profiles.sqlite3` (WAL)."""

    def __init__(self, path: Path, max_members: int = MAX_MEMBERS):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_members = max_members
        self.stats = ProfileStats()
        self._lock = threading.Lock()
        # Member names and settings: readable by the kiosk's user only, whatever the umask.
        # SQLite gives its -wal and -shm files the database file's mode.
        private_file(path)
        # One connection shared under a lock: the core thread writes, the UI may read.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS profiles (member TEXT PRIMARY KEY, rev INTEGER NOT NULL, body TEXT NOT NULL)"
        )
        columns = [row[1] for row in self._db.execute("PRAGMA table_info(profiles)")]
        if "seen" not in columns:
            # Caches made before the member limit: every row counts as seen long ago.
            self._db.execute("ALTER TABLE profiles ADD COLUMN seen INTEGER NOT NULL DEFAULT 0")
        # Eviction picks the least recently seen: without an index each new member past the limit scanned
        # the whole table (3 ms at 10,000 members), and a flood of new members is one login away.
        self._db.execute("CREATE INDEX IF NOT EXISTS profiles_seen ON profiles (seen)")
        # A counter, not a time: the order of sightings is all eviction needs, and no clock can jump it.
        self._seen = self._db.execute("SELECT COALESCE(MAX(seen), 0) FROM profiles").fetchone()[0]
        self.stats.cached = self._db.execute("SELECT COUNT(*) FROM profiles").fetchone()[0]
        self._db.execute("CREATE TABLE IF NOT EXISTS forgotten (member TEXT PRIMARY KEY, rev INTEGER NOT NULL)")
        # Saves made here that the broker has not confirmed yet. They are published only
        # once the kiosk is online and has the latest retained profiles, as `latest.rev + 1`,
        # so an offline kiosk never pushes an old revision over a newer one.
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS pending (member TEXT NOT NULL, model TEXT NOT NULL, name TEXT NOT NULL, "
            "settings TEXT NOT NULL, PRIMARY KEY (member, model))"
        )
        if "language" not in [row[1] for row in self._db.execute("PRAGMA table_info(pending)")]:
            # Caches made before members chose a language: their held saves change none.
            self._db.execute("ALTER TABLE pending ADD COLUMN language TEXT")

    def get(self, member: str) -> MemberProfile | None:
        with self._lock:
            row = self._db.execute("SELECT body FROM profiles WHERE member = ?", (member,)).fetchone()
            if row is not None:
                self._seen += 1
                self._db.execute("UPDATE profiles SET seen = ? WHERE member = ?", (self._seen, member))
        if row is None:
            return None
        try:
            return MemberProfile.model_validate_json(row[0])
        except ValueError:
            log.warning("cached profile of %s is damaged; ignoring it", member)
            return None

    def rev(self, member: str) -> int:
        """The newest rev known for `member`, cached or forgotten; -1 if none."""
        with self._lock:
            row = self._db.execute("SELECT rev FROM profiles WHERE member = ? UNION ALL "
                                   "SELECT rev FROM forgotten WHERE member = ?", (member, member)).fetchone()
        return -1 if row is None else row[0]

    def offer(self, profile: MemberProfile) -> bool:
        """Store `profile` if it is newer than what is cached; return whether it was stored."""
        body = encode(profile).decode()
        with self._lock:
            self._seen += 1
            forgotten = self._db.execute("SELECT rev FROM forgotten WHERE member = ?", (profile.member,)).fetchone()
            # The same rev as the one forgotten is welcome back: it is the retained copy coming in again.
            stored = forgotten is None or profile.rev >= forgotten[0]
            if stored:
                cur = self._db.execute(
                    "INSERT INTO profiles (member, rev, body, seen) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(member) DO UPDATE SET rev = excluded.rev, body = excluded.body, seen = excluded.seen "
                    "WHERE excluded.rev > profiles.rev",
                    (profile.member, profile.rev, body, self._seen),
                )
                stored = cur.rowcount > 0
            if stored:
                self._db.execute("DELETE FROM forgotten WHERE member = ?", (profile.member,))
                self._evict()
        if stored:
            self.stats.stored += 1
            return True
        self.stats.stale_ignored += 1
        return False

    def _evict(self) -> None:
        """Forget the least recently seen members beyond `max_members` (under the lock)."""
        count = self._db.execute("SELECT COUNT(*) FROM profiles").fetchone()[0]
        excess = count - self.max_members
        if excess > 0:
            oldest = "SELECT member FROM profiles ORDER BY seen ASC LIMIT ?"
            self._db.execute(f"INSERT OR REPLACE INTO forgotten (member, rev) SELECT member, rev FROM profiles "
                             f"WHERE member IN ({oldest})", (excess,))
            self._db.execute(f"DELETE FROM profiles WHERE member IN ({oldest})", (excess,))
            self._db.execute("DELETE FROM forgotten WHERE rowid IN (SELECT rowid FROM forgotten ORDER BY rowid "
                             "LIMIT MAX(0, (SELECT COUNT(*) FROM forgotten) - ?))", (MAX_FORGOTTEN,))
            self.stats.evicted += excess
            count -= excess
        self.stats.cached = count

    def hold(self, member: str, name: str, model: str, settings: MachineSettings,
             language: str | None = None) -> None:
        """Keep a save until it can be published; a language chosen earlier and not yet published stays."""
        with self._lock:
            self._db.execute(
                "INSERT INTO pending (member, model, name, settings, language) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(member, model) DO UPDATE SET name = excluded.name, settings = excluded.settings, "
                "language = COALESCE(excluded.language, pending.language)",
                (member, model, name, encode(settings).decode(), language),
            )

    def pending(self) -> list["HeldSave"]:
        """Saves made here and not yet published, except those of forgotten members (they wait for their
        retained profile to come back)."""
        with self._lock:
            rows = self._db.execute("SELECT member, name, model, settings, language FROM pending "
                                    "WHERE member NOT IN (SELECT member FROM forgotten)").fetchall()
        return [HeldSave(m, n, model, MachineSettings.model_validate_json(body), lang)
                for m, n, model, body, lang in rows]

    def held(self) -> int:
        """Saves made here that are not yet acknowledged by the broker (published or not)."""
        with self._lock:
            (count,) = self._db.execute("SELECT COUNT(*) FROM pending").fetchone()
        return int(count)

    def waiting(self) -> int:
        """Saves held here for members who were forgotten: they wait for their retained profile."""
        with self._lock:
            (count,) = self._db.execute("SELECT COUNT(*) FROM pending "
                                        "WHERE member IN (SELECT member FROM forgotten)").fetchone()
        return int(count)

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

    def lowered(self, model: str, limit: int = 20) -> list[tuple[str, str]]:
        """(member, name) of members whose max depth on `model` a kiosk lowered (cached, or held here),
        most recently seen first."""
        path = f'$.machines."{model}".max_lowered'  # a model is an `Id`: no quote can close the key
        with self._lock:
            rows = self._db.execute(
                "SELECT member, MAX(name) FROM (SELECT member, json_extract(body, '$.name') AS name, seen "
                "FROM profiles WHERE json_extract(body, ?) IS NOT NULL "
                "UNION ALL SELECT p.member, p.name, COALESCE(c.seen, 0) FROM pending p LEFT JOIN profiles c "
                "USING (member) WHERE p.model = ? AND json_extract(p.settings, '$.max_lowered') IS NOT NULL) "
                "GROUP BY member ORDER BY MAX(seen) DESC LIMIT ?", (path, model, limit)).fetchall()
        return [(member, name or "") for member, name in rows]

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
                self._db.execute("DELETE FROM forgotten WHERE member = ?", (member,))
                self.stats.cached = self._db.execute("SELECT COUNT(*) FROM profiles").fetchone()[0]
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
        cached = self.rev(member)
        if profile.rev > max(cached, 0) + MAX_REV_JUMP:
            self.stats.rev_refused += 1
            log.warning("profile of %s refused: rev %d jumps more than %d past the cached %d",
                        member, profile.rev, MAX_REV_JUMP, cached)
            return None
        kept = self._trimmed(profile)
        if kept is None:
            return None
        return kept if self.offer(kept) else None

    def _trimmed(self, profile: MemberProfile) -> MemberProfile | None:
        """`profile` without its unknown fields if they are too big to keep; None if it is still too big."""
        if _unknown_bytes(profile) > MAX_UNKNOWN_BYTES:
            self.stats.unknown_trimmed += 1
            log.warning("profile of %s: unknown fields over %d bytes dropped", profile.member, MAX_UNKNOWN_BYTES)
            data = {k: v for k, v in json.loads(encode(profile)).items() if k in MemberProfile.model_fields}
            data["machines"] = {model: {k: v for k, v in settings.items() if k in MachineSettings.model_fields}
                                for model, settings in data.get("machines", {}).items()}
            profile = MemberProfile.model_validate(data)
        if len(encode(profile)) > MAX_PROFILE_BYTES:
            self.stats.too_large += 1
            log.warning("profile of %s refused: over %d bytes", profile.member, MAX_PROFILE_BYTES)
            return None
        return profile

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _unknown_bytes(profile: MemberProfile) -> int:
    extras: list[dict[str, Any]] = [profile.model_extra or {}]
    extras += [settings.model_extra or {} for settings in profile.machines.values()]
    return sum(len(json.dumps(extra)) for extra in extras if extra)


def with_settings(profile: MemberProfile | None, member: str, name: str, model: str,
                  settings: MachineSettings, now: float, language: str | None = None) -> MemberProfile:
    """The next revision of a profile with `settings` for `model` (and `language`, when one was chosen);
    other models are kept as they were."""
    if profile is None:
        return MemberProfile(member=member, name=name, rev=1, updated=now, machines={model: settings},
                             language=language)
    data = json.loads(encode(profile))
    data["machines"][model] = json.loads(encode(settings))
    data.update(rev=profile.rev + 1, updated=now, name=name or profile.name)
    if language is not None:
        data["language"] = language
    return MemberProfile.model_validate(data)
