"""One storage interface for the recorder and the reports, two engines behind it.

`Store` holds everything the engines share: the schema's migrations, inserting
rows once, and running a report query over a table of report days. An engine
(`SqliteStore`, `PostgresStore`) only says how to connect, how a transaction
starts, which SQL spellings differ and which errors are worth retrying.
"""

import json
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from typing import Any, Self, TypeVar

from kiosk.fleet.recorder.erased_members import FORGET_EVERY_S, forget_old, under_pseudonyms
from kiosk.fleet.recorder.intake import (
    EventRow,
    InfoRow,
    LostRange,
    ProfileErased,
    ProfileRow,
    Row,
    StatusRow,
    TelemetryRow,
)
from kiosk.fleet.recorder.schema import MIGRATIONS, SCHEMA_VERSION_TABLE, TRAINING_COLUMNS, Backfill

log = logging.getLogger(__name__)
T = TypeVar("T")

_EVENT_COLUMNS = ("site", "machine", "type", "ts", "session", "eid", "replayed", "received_at", "payload",
                  "member", "cue", "rep", "depth_mm", *TRAINING_COLUMNS)
_STATUS_COLUMNS = ("site", "machine", "source", "state", "mode", "ts", "at", "received_at", "payload")
_TELEMETRY_COLUMNS = ("site", "machine", "ts", "received_at", "payload")
_PROFILE_COLUMNS = ("site", "member", "rev", "updated", "received_at", "machines")
_INFO_COLUMNS = ("site", "machine", "machine_model", "version", "config_version", "received_at")
_LOST_COLUMNS = ("site", "machine", "from_eid", "to_eid", "recorded_at")
_ERASURE_COLUMNS = ("site", "member", "erased_by", "erased_at")
_TABLES: tuple[tuple[type, str, tuple[str, ...]], ...] = (
    (EventRow, "events", _EVENT_COLUMNS),
    (StatusRow, "statuses", _STATUS_COLUMNS),
    (TelemetryRow, "telemetry", _TELEMETRY_COLUMNS),
    (ProfileRow, "profiles", _PROFILE_COLUMNS),
    (InfoRow, "kiosk_info", _INFO_COLUMNS),
    (LostRange, "lost_events", _LOST_COLUMNS),
    (ProfileErased, "profile_erasures", _ERASURE_COLUMNS),
)

# Every stretch of eids a kiosk skipped, computed by the engine: each stored event is the
# span [eid, eid] and each range recorded as lost is [from_eid, to_eid]; ordered by start,
# a gap lies between a span's start and the furthest end reached before it. The second
# part gives each machine's lowest and highest eid known (a gap at the end shows against
# what the kiosk says its last eid is). `{machine}` narrows both to one machine from a floor.
_GAPS = """
WITH spans AS (
    SELECT machine, eid AS lo, eid AS hi FROM events WHERE site = ? AND eid IS NOT NULL {events_filter}
    UNION ALL
    SELECT machine, from_eid AS lo, to_eid AS hi FROM lost_events WHERE site = ? {lost_filter}
), ordered AS (
    SELECT machine, lo,
           MAX(hi) OVER (PARTITION BY machine ORDER BY lo, hi ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
               AS reach
    FROM spans
)
SELECT 0 AS kind, machine, reach + 1 AS from_eid, lo - 1 AS to_eid FROM ordered WHERE lo > reach + 1
UNION ALL
SELECT 1 AS kind, machine, MIN(lo), MAX(hi) FROM spans GROUP BY machine
ORDER BY kind, machine, from_eid
"""


@dataclass
class Added:
    """What one `Store.add` kept (new rows per table) and how many were already there."""

    events: int = 0
    statuses: int = 0
    telemetry: int = 0
    profiles: int = 0
    kiosk_info: int = 0
    profile_erasures: int = 0
    duplicates: int = 0
    lost_events: int = 0
    reused_eids: int = 0

    def __iadd__(self, other: "Added") -> Self:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self


@dataclass(frozen=True)
class Gap:
    """Events `from_eid`..`to_eid` of one machine: neither stored nor recorded as lost, with known events around."""

    machine: str
    from_eid: int
    to_eid: int


@dataclass
class EidSpan:
    """What one gap scan found for one machine: its gaps, and the lowest and highest eid stored or lost."""

    lowest: int
    highest: int
    gaps: list[Gap] = field(default_factory=list)


@dataclass(frozen=True)
class ReportDay:
    """One local calendar day of a report, as the Unix times it starts and ends."""

    day: str
    start_ts: float
    end_ts: float


@dataclass
class _Dialect:
    """The SQL that differs between engines, by name, for `str.format` in shared queries."""

    pk: str
    least: str
    greatest: str
    spellings: dict[str, str] = field(default_factory=dict)

    def format(self, sql: str) -> str:
        return sql.format(pk=self.pk, least=self.least, greatest=self.greatest)


class Store(ABC):
    """A recorder's store: rows kept once, schema migrated, report queries read in one transaction."""

    engine: str
    dialect: _Dialect
    placeholder = "?"
    _forgot_at = float("-inf")  # when `add` last deleted erasures past their keeping (erased_members.py)

    @abstractmethod
    def _transaction(self) -> AbstractContextManager[Any]:
        """A context with a cursor whose work is committed on exit, rolled back on an exception."""

    def _reading(self) -> AbstractContextManager[Any]:
        """A context with a cursor for reads only: one consistent view, and no write lock where the engine
        has a choice (SQLite). The engines whose transactions lock nothing until a write use `_transaction`."""
        return self._transaction()

    @abstractmethod
    def _lock_for_migration(self, cursor: Any) -> None:
        """Keep other recorders on the same database out while this one migrates."""

    @abstractmethod
    def is_transient(self, exc: Exception) -> bool:
        """True when retrying the same work later may succeed (database away, locked), False for bad data."""

    @abstractmethod
    def close(self) -> None:
        """Close the connection."""

    def _sql(self, sql: str) -> str:
        sql = self.dialect.format(sql)
        return sql if self.placeholder == "?" else sql.replace("?", self.placeholder)

    def schema_version(self) -> int:
        with self._transaction() as cursor:
            cursor.execute(SCHEMA_VERSION_TABLE)
            cursor.execute("SELECT MAX(version) FROM schema_version")
            (version,) = cursor.fetchone()
        return int(version or 0)

    def migrate(self, up_to: int | None = None) -> int:
        """Bring the schema to the latest version (or `up_to`, for tests of an old store); returns it.

        Safe with several recorders starting at once.
        """
        for version, statements in MIGRATIONS:
            if up_to is not None and version > up_to:
                break
            with self._transaction() as cursor:
                self._lock_for_migration(cursor)
                cursor.execute(SCHEMA_VERSION_TABLE)
                cursor.execute(self._sql("SELECT 1 FROM schema_version WHERE version = ?"), (version,))
                if cursor.fetchone() is not None:
                    continue
                for statement in statements:
                    if isinstance(statement, Backfill):
                        statement.run(cursor, self._sql)
                    else:
                        cursor.execute(self._sql(statement))
                cursor.execute(self._sql("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)"),
                               (version, time.time()))
        return self.schema_version()

    def add(self, rows: Sequence[Row]) -> Added:
        """Insert `rows` in one transaction; a row already stored (same identity) is skipped and counted."""
        added = Added()
        with self._transaction() as cursor:
            rows = self._without_reused_eids(cursor, rows, added)
            rows = under_pseudonyms(cursor, self._sql, rows)
            now = time.time()
            if rows and now - self._forgot_at >= FORGET_EVERY_S:
                forget_old(cursor, self._sql, now)
                self._forgot_at = now
            for row_type, table, columns in _TABLES:
                values = [tuple(getattr(r, c) for c in columns) for r in rows if isinstance(r, row_type)]
                if not values:
                    continue
                cursor.executemany(self._sql(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
                    " ON CONFLICT DO NOTHING"), values)
                kept = max(cursor.rowcount, 0)
                setattr(added, table, kept)
                added.duplicates += len(values) - kept
        return added

    def latest_rev(self, site: str, member: str) -> int:
        """The highest rev stored for `member`, erased or not (a rev is never given twice); 0 if none."""
        rows = self.read("SELECT MAX(rev) FROM profiles WHERE site = ? AND member = ?", (site, member))
        return int(rows[0][0] or 0)

    def latest_settings(self, site: str, member: str) -> dict[str, Any]:
        """The member's settings per machine model in their newest revision since their last erasure."""
        rows = self.read(
            "SELECT machines FROM profiles WHERE site = ? AND member = ? AND received_at > "
            "COALESCE((SELECT MAX(erased_at) FROM profile_erasures WHERE site = ? AND member = ?), -1) "
            "ORDER BY rev DESC LIMIT 1", (site, member, site, member))
        if not rows:
            return {}
        machines = json.loads(rows[0][0])
        return machines if isinstance(machines, dict) else {}

    def had_session(self, site: str, machine: str, member: str, since: float) -> bool:
        """Whether `machine` reported a session of `member` received after `since` and after their last erasure."""
        rows = self.read(
            "SELECT 1 FROM events WHERE site = ? AND machine = ? AND type = 'session_start' AND member = ? "
            "AND received_at > ? AND received_at > "
            "COALESCE((SELECT MAX(erased_at) FROM profile_erasures WHERE site = ? AND member = ?), -1) LIMIT 1",
            (site, machine, member, since, site, member))
        return bool(rows)

    def machine_model(self, site: str, machine: str) -> str | None:
        """The machine model a kiosk last said it serves (its retained `info`)."""
        rows = self.read("SELECT machine_model FROM kiosk_info WHERE site = ? AND machine = ? "
                         "ORDER BY received_at DESC LIMIT 1", (site, machine))
        return str(rows[0][0]) if rows else None

    def _without_reused_eids(self, cursor: Any, rows: Sequence[Row], added: Added) -> Sequence[Row]:
        """`rows`, with each event whose eid is stored for a different event kept by its content instead.

        A kiosk's eid only goes back when its data folder was wiped or replaced: its new
        events reuse eids already stored. Inserted as they are, they would be taken for
        copies and dropped; without their eid they are kept once by (session, type, ts).
        """
        by_machine: dict[tuple[str, str], list[EventRow]] = {}
        for row in rows:
            if isinstance(row, EventRow) and row.eid is not None:
                by_machine.setdefault((row.site, row.machine), []).append(row)
        reused: set[tuple[str, str, int]] = set()
        for (site, machine), events in by_machine.items():
            eids = sorted({e.eid for e in events if e.eid is not None})
            cursor.execute(self._sql(
                f"SELECT eid, type, ts, session FROM events WHERE site = ? AND machine = ? "
                f"AND eid IN ({', '.join('?' * len(eids))})"), (site, machine, *eids))
            stored = {int(eid): (kind, float(ts), session) for eid, kind, ts, session in cursor.fetchall()}
            for e in events:
                known = stored.get(e.eid) if e.eid is not None else None
                if known is not None and known != (e.type, e.ts, e.session) and e.eid is not None:
                    reused.add((site, machine, e.eid))
        if not reused:
            return rows
        for site, machine in sorted({(s, m) for s, m, _ in reused}):
            eids = sorted(e for s, m, e in reused if (s, m) == (site, machine))
            log.error("kiosk %s/%s sent eid %d%s for other events than those stored: its eid series started "
                      "again (data folder wiped or replaced?); those events are kept by their content, without "
                      "their eid", site, machine, eids[0], f"..{eids[-1]}" if len(eids) > 1 else "")
        added.reused_eids += sum(1 for r in rows if isinstance(r, EventRow) and (r.site, r.machine, r.eid) in reused)
        return [replace(r, eid=None) if isinstance(r, EventRow) and (r.site, r.machine, r.eid) in reused else r
                for r in rows]

    def gaps(self, site: str, floors: dict[str, int] | None = None) -> dict[str, EidSpan]:
        """Each machine's eid gaps, by machine; with `floors`, only those machines, from their floor up."""
        found: dict[str, EidSpan] = {}
        queries: list[tuple[str, tuple[Any, ...]]] = []
        if floors is None:
            queries.append((_GAPS.format(events_filter="", lost_filter=""), (site, site)))
        else:
            sql = _GAPS.format(events_filter="AND machine = ? AND eid >= ?",
                               lost_filter="AND machine = ? AND to_eid >= ?")
            queries += [(sql, (site, machine, floor, site, machine, floor)) for machine, floor in floors.items()]
        with self._reading() as cursor:
            for sql, params in queries:
                cursor.execute(self._sql(sql), params)
                for kind, machine, from_eid, to_eid in cursor.fetchall():
                    span = found.setdefault(str(machine), EidSpan(0, 0))
                    if kind == 1:
                        span.lowest, span.highest = int(from_eid), int(to_eid)
                    else:
                        span.gaps.append(Gap(str(machine), int(from_eid), int(to_eid)))
        return found

    def lost(self, site: str) -> list[tuple[str, int, int]]:
        """The ranges recorded as lost, as (machine, from_eid, to_eid)."""
        return [(str(m), int(a), int(b)) for m, a, b in self.read(
            "SELECT machine, from_eid, to_eid FROM lost_events WHERE site = ? ORDER BY machine, from_eid, to_eid",
            (site,))]

    def read(self, sql: str, params: Sequence[Any] = (), days: Sequence[ReportDay] = ()) -> list[tuple[Any, ...]]:
        """Run one report query; `days` fill the `report_days` table it may join on (a TEMPORARY table: the
        store itself is not written, so this works on a read-only store)."""
        with self._reading() as cursor:
            cursor.execute("CREATE TEMPORARY TABLE IF NOT EXISTS report_days "
                           "(day TEXT NOT NULL, start_ts DOUBLE PRECISION NOT NULL, end_ts DOUBLE PRECISION NOT NULL)")
            cursor.execute("DELETE FROM report_days")
            if days:
                cursor.executemany(self._sql("INSERT INTO report_days (day, start_ts, end_ts) VALUES (?, ?, ?)"),
                                   [(d.day, d.start_ts, d.end_ts) for d in days])
            cursor.execute(self._sql(sql), tuple(params))
            return list(cursor.fetchall())

    def run(self, work: Callable[[Any, Callable[[str], str]], T]) -> T:
        """`work(cursor, sql)` in one transaction, `sql` fitting a statement to this engine (as a `Backfill`)."""
        with self._transaction() as cursor:
            return work(cursor, self._sql)

    def count(self, table: str) -> int:
        """Rows in one of the recorder's tables (for the tests and the hourly log)."""
        if table not in {t for _, t, _ in _TABLES}:
            raise ValueError(f"no table {table!r} in the recorder's store")
        return int(self.read(f"SELECT COUNT(*) FROM {table}")[0][0])

