"""Unit `events`: owns `R/kiosk/event` and answers `replay`; every kiosk event goes through its journal.

Each event gets its `eid` (one more than the last, never reused: SQLite's
AUTOINCREMENT keeps the high-water mark even when old rows are pruned) and is
written to `<data_dir>/journal.sqlite3` before it is published at QoS 1. It is
marked delivered once the broker has acknowledged it; what is not (the broker
was away, or the kiosk was killed) is published again, in `eid` order, after
the next connect or start. Events stay at least `KEEP_S` for `replay`; the
journal is bounded (`MAX_HELD`) and counts what it had to drop.

The disk stays off the cue's critical path as far as it can: the journal runs
in WAL mode with `synchronous=NORMAL`, so a commit is a write into the WAL
without an fsync. That survives the kiosk process being killed; a power cut
can lose the last moments (the broker's copy and the recorder's `replay`
cover those).

So that a power cut cannot make an `eid` be used twice (events already
published, then lost from the journal), eids are reserved in blocks of
`EID_BLOCK`, each reservation written with an fsync, ahead of need (from the
tick, not on a cue's path). A start after a stop that was neither clean nor in
the same boot of the machine (`/proc/sys/kernel/random/boot_id`: a killed
process loses nothing the OS had, a power cut may) goes on after the reserved
block. The ids it jumps over are kept as skipped: `replay` lists them under
`missing` (it holds none of them) and under `skipped` (any that reached a
receiver before the cut is the only copy; the rest were never used).
"""

import logging
import sqlite3
from collections import deque
from pathlib import Path

import paho.mqtt.client as mqtt
from pydantic import BaseModel, ValidationError

from kiosk.contract.base import encode
from kiosk.contract.commands import MAX_HELD, Command, Replay
from kiosk.contract.events import KIOSK_EVENT, SessionEnd
from kiosk.contract.kiosk import JournalHealth
from kiosk.contract.replies import EidRange, Replayed
from kiosk.core.site import replay_limits
from kiosk.core.site.replay_limits import ReplayLimits, requester_of
from kiosk.core.snapshot import OperatorNotice
from kiosk.core.unit import Unit, Wiring
from kiosk.host.private_files import private_file
from kiosk.mqtt.link import acknowledged
from kiosk.words import wording

log = logging.getLogger(__name__)

# The contract asks for at least 7 days of events for `replay`.
KEEP_S = 8 * 86_400
# Events handed to paho and not yet acknowledged; the rest wait in the journal, not in memory.
MAX_IN_FLIGHT = 500
# Events published again per flush, so a long backlog never holds the core thread for long.
FLUSH_BATCH = 200
# Eids reserved (with an fsync) at a time; a new block is reserved once half of one is used.
EID_BLOCK = 1_000
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")
PRUNE_EVERY_S = 60.0
# A full or failing disk is told on screen at most this often, for this long.
STORAGE_NOTICE_EVERY_S = 600.0
STORAGE_NOTICE_S = 20.0


class EventJournal(Unit):
    """The kiosk's events: journaled, published, confirmed, kept for `replay`."""

    def __init__(self, wiring: Wiring) -> None:
        super().__init__(wiring)
        self.health = JournalHealth()
        self._db: sqlite3.Connection | None = None
        self._in_flight: deque[tuple[int, mqtt.MQTTMessageInfo]] = deque()
        self._handed_upto = 0  # highest eid handed to paho by this process
        self._backlog = True  # undelivered events not yet handed to paho may be waiting
        self._next_prune = 0.0
        self._next_storage_notice = 0.0
        self._reserved_upto = 0  # eids up to this one are reserved on disk
        # Replays share the link with live cues: budgets per requester and per kiosk, each eid once per window,
        # a bounded number of copies in paho's queue (kiosk/core/site/replay_limits.py).
        self.replay_limits = ReplayLimits()
        self._replay_in_flight: deque[mqtt.MQTTMessageInfo] = deque()

    @property
    def started(self) -> bool:
        return self._db is not None

    def start(self) -> None:
        self._db = db = _open(self.wiring.settings.data_dir / "journal.sqlite3")
        row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
        last = row[0] if row else 0
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        reserved, boot = int(meta.get("reserved_upto", 0)), boot_id()
        clean = meta.get("clean_upto") is not None and int(meta["clean_upto"]) == last
        if reserved > last and not clean and meta.get("boot_id") != boot:
            # The machine went down with the kiosk: what the journal had last may not have reached the disk,
            # though it may have reached the broker. Go on after every eid that could have been used.
            try:
                with db:
                    db.execute("INSERT INTO skipped (from_eid, to_eid) VALUES (?, ?)", (last + 1, reserved))
            except sqlite3.Error as exc:  # skipped all the same: only `replay` will not name the range
                log.error("journal: skipped eids not recorded: %s", exc)
            log.warning("started after a power cut or crash of the machine: eids %d..%d skipped, none is reused",
                        last + 1, reserved)
            last = reserved
        self.health.last_eid = last or None
        self._reserved_upto = last
        try:
            self._reserve(boot=boot)
        except sqlite3.Error as exc:
            # A full disk at start: the kiosk still serves; the events' own writes report the trouble.
            self.health.write_errors += 1
            self.health.last_error = f"eid reservation failed: {exc}"[:200]
            log.error("journal: eid block not reserved at start: %s", exc)
        self._count()
        self.wiring.link.on_connect(lambda: self.wiring.inbox.post(self._flush))
        self.wiring.commands.register("replay", self._replay)

    def sessions_started_since(self, since: float) -> int:
        """How many `session_start` events the journal holds from `since` (kiosk clock) on."""
        row = self._database().execute(
            "SELECT COUNT(*) FROM events WHERE created >= ? AND instr(body, ?) > 0 "
            "AND json_extract(CAST(body AS TEXT), '$.type') = ?",
            (since, _type_mark("session_start"), "session_start")).fetchone()
        return int(row[0])

    def last_session_with_reps(self) -> SessionEnd | None:
        """The newest `session_end` with reps in it that the journal holds (it keeps 8 days), else None."""
        row = self._database().execute(
            "SELECT body FROM events WHERE instr(body, ?) > 0 AND json_extract(CAST(body AS TEXT), '$.type') = ? "
            "AND json_extract(CAST(body AS TEXT), '$.reps') > 0 ORDER BY eid DESC LIMIT 1",
            (_type_mark("session_end"), "session_end")).fetchone()
        if row is None:
            return None
        try:
            return SessionEnd.model_validate_json(row[0])
        except ValidationError:  # a body an older release wrote: no rate rather than no start
            return None

    def stop(self) -> None:
        if self._db is not None:
            self._mark_acknowledged()
            try:
                # A clean stop: the next start goes on from the last eid, skipping nothing.
                self._write_meta({"clean_upto": str(self.health.last_eid or 0)})
            except sqlite3.Error as exc:
                log.error("journal: clean stop not recorded (%s); the next start may skip a block of eids", exc)
            self._db.close()
            self._db = None

    def publish(self, event: BaseModel) -> None:
        """Journal `event` with the next eid, then publish it (at once, unless older events are waiting)."""
        db = self._database()
        now = self.wiring.clock.now()
        eid = (self.health.last_eid or 0) + 1
        if eid > self._reserved_upto:
            try:
                self._reserve()  # a burst ran past the block before a tick could reserve the next: rare
            except sqlite3.Error as exc:
                self.health.write_errors += 1
                self.health.last_error = f"eid reservation failed: {exc}"[:200]
        body = encode(event.model_copy(update={"eid": eid}))
        try:
            with db:
                db.execute("INSERT INTO events (eid, created, body) VALUES (?, ?, ?)", (eid, now, body))
        except sqlite3.Error as exc:
            # Better published without an eid than not at all; operators see the count.
            self.health.write_errors += 1
            self.health.last_error = f"journal write failed: {exc}"[:200]
            log.error("event not journaled (%s): publishing it without an eid", exc)
            if now >= self._next_storage_notice:
                # Staff must hear of it at the machine too; the cues themselves do not need the disk.
                self._next_storage_notice = now + STORAGE_NOTICE_EVERY_S
                self.wiring.notify(OperatorNotice(kind="message", text=wording.STORAGE_TROUBLE,
                                                  seconds=STORAGE_NOTICE_S))
            self.wiring.link.publish(self.wiring.topics.kiosk_event, event, qos=1)
            return
        self.health.last_eid = eid
        self.health.held += 1
        self.health.undelivered += 1
        if self.health.oldest_eid is None:
            self.health.oldest_eid = eid
        if not self._backlog and self.wiring.link.connected and len(self._in_flight) < MAX_IN_FLIGHT:
            self._hand(eid, body)
        else:
            self._backlog = True

    def tick(self, now: float) -> None:
        try:
            if (self.health.last_eid or 0) > self._reserved_upto - EID_BLOCK // 2:
                self._reserve()
            self._mark_acknowledged()
            if self._backlog and self.wiring.link.connected:
                self._flush()
            if now >= self._next_prune:
                self._next_prune = now + PRUNE_EVERY_S
                self._prune(now)
        except sqlite3.Error as exc:
            # A full disk: what is journaled stays; marking it delivered waits for room (it is sent again).
            self.health.write_errors += 1
            self.health.last_error = f"journal upkeep failed: {exc}"[:200]
            log.error("journal upkeep failed: %s", exc)

    # -- eids that survive a power cut ------------------------------------------------

    def _reserve(self, boot: str | None = None) -> None:
        """The next block of eids, on disk (fsync) before any of it is used; the stop is not clean any more."""
        upto = max(self._reserved_upto, self.health.last_eid or 0) + EID_BLOCK
        values = {"reserved_upto": str(upto), "clean_upto": None}
        if boot is not None:
            values["boot_id"] = boot
        self._write_meta(values)
        self._reserved_upto = upto

    def _write_meta(self, values: dict[str, str | None]) -> None:
        db = self._database()
        db.execute("PRAGMA synchronous=FULL")
        try:
            with db:
                for key, value in values.items():
                    if value is None:
                        db.execute("DELETE FROM meta WHERE key = ?", (key,))
                    else:
                        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
        finally:
            db.execute("PRAGMA synchronous=NORMAL")

    # -- delivery ------------------------------------------------------------------

    def _hand(self, eid: int, body: bytes) -> bool:
        info = self.wiring.link.publish(self.wiring.topics.kiosk_event, body, qos=1)
        if info.rc == mqtt.MQTT_ERR_QUEUE_SIZE:
            # paho's own queue is full: the event stays in the journal for the next flush.
            self._backlog = True
            return False
        self._in_flight.append((eid, info))
        self._handed_upto = eid
        return True

    def _flush(self) -> None:
        """Hand the undelivered events paho does not have yet, oldest first."""
        if not self.wiring.link.connected:
            return
        room = MAX_IN_FLIGHT - len(self._in_flight)
        rows = self._database().execute(
            "SELECT eid, body FROM events WHERE delivered = 0 AND eid > ? ORDER BY eid LIMIT ?",
            (self._handed_upto, min(room, FLUSH_BATCH)),
        ).fetchall()
        for eid, body in rows:
            if not self._hand(eid, body):
                return
        # Caught up when this batch was not cut short by the limits.
        self._backlog = len(rows) == min(room, FLUSH_BATCH)

    def _mark_acknowledged(self) -> None:
        if not self._in_flight:
            return
        acked = [eid for eid, info in self._in_flight if acknowledged(info)]
        if not acked:
            return
        self._in_flight = deque((eid, info) for eid, info in self._in_flight if not acknowledged(info))
        with self._database() as db:
            db.executemany("UPDATE events SET delivered = 1 WHERE eid = ?", [(eid,) for eid in acked])
        self.health.undelivered = max(0, self.health.undelivered - len(acked))

    # -- keeping and replaying -------------------------------------------------------

    def _prune(self, now: float) -> None:
        db = self._database()
        with db:
            undelivered = db.execute("SELECT count(*) FROM events WHERE created < ? AND delivered = 0",
                                     (now - KEEP_S,)).fetchone()[0]
            old = db.execute("DELETE FROM events WHERE created < ?", (now - KEEP_S,)).rowcount
            over = max(0, self._held() - MAX_HELD)
            if over:
                cut = db.execute("SELECT eid FROM events ORDER BY eid LIMIT 1 OFFSET ?", (over - 1,)).fetchone()[0]
                undelivered += db.execute("SELECT count(*) FROM events WHERE eid <= ? AND delivered = 0",
                                          (cut,)).fetchone()[0]
                old += db.execute("DELETE FROM events WHERE eid <= ?", (cut,)).rowcount
        if old:
            self.health.pruned += old
            self.health.pruned_undelivered += undelivered
            if undelivered:
                log.error("journal full: %d events dropped before the broker had them", undelivered)
        self._count()

    def _replay(self, cmd: Command) -> Replayed:
        assert isinstance(cmd, Replay)
        now = self.wiring.clock.now()
        requester = requester_of(self.wiring.commands.response_topic, cmd.transaction)
        while self._replay_in_flight and acknowledged(self._replay_in_flight[0]):
            self._replay_in_flight.popleft()
        room = replay_limits.IN_FLIGHT - len(self._replay_in_flight)
        admitted = self.replay_limits.admit(requester, cmd.from_eid, cmd.to_eid, now, room)
        if admitted.retry_after_s is not None:
            # Nothing sent: the whole range is still to be asked for, after `retry_after_s`.
            self.health.replays_held_back += 1
            self.health.replays_refused = dict(self.replay_limits.refused)
            return Replayed(sent=0, missing=[], truncated_at=cmd.from_eid - 1,
                            retry_after_s=round(admitted.retry_after_s, 3))
        rows = self._database().execute(
            "SELECT eid, body FROM events WHERE eid BETWEEN ? AND ? ORDER BY eid LIMIT ?",
            (cmd.from_eid, admitted.upto, admitted.allowed + 1),
        ).fetchall()
        truncated_at = None if admitted.upto == cmd.to_eid else admitted.upto
        if len(rows) > admitted.allowed:
            rows = rows[:admitted.allowed]
            truncated_at = rows[-1][0]
        end = truncated_at if truncated_at is not None else cmd.to_eid
        missing: list[EidRange] = []
        expected = cmd.from_eid
        sent = 0
        for eid, body in rows:
            if sent and self.wiring.inbox.urgent_waiting():
                # A lift-off came while this replay was being sent: its cue goes first. The requester asks
                # again for the rest (`truncated_at`), as for any reply cut short.
                self.replay_limits.count("yielded")
                truncated_at = end = eid - 1
                break
            if eid > expected:
                missing.append(EidRange(from_eid=expected, to_eid=eid - 1))
            expected = eid + 1
            try:
                event = KIOSK_EVENT.validate_json(body)
            except ValidationError as exc:
                log.error("journaled event %d unreadable, not replayed: %s", eid, exc)
                missing.append(EidRange(from_eid=eid, to_eid=eid))
                continue
            info = self.wiring.link.publish(self.wiring.topics.kiosk_event,
                                            event.model_copy(update={"replayed": True}), qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                # paho's queue is full (replays asked faster than the link sends them): the reply stops
                # before this one, so the asker asks again for the rest rather than taking it as sent.
                truncated_at = end = eid - 1
                break
            self._replay_in_flight.append(info)
            sent += 1
        if expected <= end:
            missing.append(EidRange(from_eid=expected, to_eid=end))
        skipped = [EidRange(from_eid=max(lo, cmd.from_eid), to_eid=min(hi, end)) for lo, hi in self._database().execute(
            "SELECT from_eid, to_eid FROM skipped WHERE to_eid >= ? AND from_eid <= ? ORDER BY from_eid",
            (cmd.from_eid, end)).fetchall()]
        # Held for a repeat only as far as events were found: a range past the newest eid (`to_eid` 2**53) held
        # as "replayed" would refuse, as a repeat, every later request for the events still to come.
        self.replay_limits.served(requester, cmd.from_eid, min(end, expected - 1), sent, now)
        self.health.replays_refused = dict(self.replay_limits.refused)
        return Replayed(sent=sent, missing=missing, truncated_at=truncated_at, skipped=skipped)

    def _count(self) -> None:
        db = self._database()
        self.health.held = self._held()
        self.health.undelivered = db.execute("SELECT count(*) FROM events WHERE delivered = 0").fetchone()[0]
        self.health.oldest_eid = db.execute("SELECT min(eid) FROM events").fetchone()[0]

    def _held(self) -> int:
        return int(self._database().execute("SELECT count(*) FROM events").fetchone()[0])

    def _database(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("the events unit has not started")
        return self._db


def _type_mark(event_type: str) -> bytes:
    # A byte search the codec's compact JSON always matches: only the rows of that type have their JSON
    # parsed (bench/bench_usage_resume.py: a full journal's worst case about 1.4x faster).
    return f'"type":"{event_type}"'.encode()


def _open(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    private_file(path)  # SQLite gives its -wal and -shm files the same mode
    # Opened at start on the caller's thread, used only on the core thread afterwards.
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS events (eid INTEGER PRIMARY KEY AUTOINCREMENT, created REAL NOT NULL, "
               "body BLOB NOT NULL, delivered INTEGER NOT NULL DEFAULT 0)")
    db.execute("CREATE INDEX IF NOT EXISTS undelivered ON events (eid) WHERE delivered = 0")
    db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("CREATE TABLE IF NOT EXISTS skipped (from_eid INTEGER NOT NULL, to_eid INTEGER NOT NULL)")
    return db


def boot_id() -> str:
    """This boot of the machine, from the Linux kernel ('' where there is none to read)."""
    try:
        return BOOT_ID.read_text().strip()
    except OSError:
        return ""
