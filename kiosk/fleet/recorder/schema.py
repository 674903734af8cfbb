"""The recorder's schema, the same on both engines, as numbered migrations.

A store at version N runs migrations N+1.. in order, each in its own
transaction with its row in `schema_version`; a migration, once released, is
never edited: a change is a new migration. `{pk}` is each engine's
auto-numbered primary key. A migration may also hold a `Backfill`: Python run
in the same transaction after its SQL, for what SQL cannot spell the same on
both engines (reading JSON payloads that came from kiosks).

An event's identity is (site, machine, eid) when the kiosk sent an `eid`, else
(site, machine, session, type, ts); the two partial unique indexes hold it, so
`INSERT ... ON CONFLICT DO NOTHING` keeps a redelivered event once. A retained
status comes again on every subscription, and is kept once the same way.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Backfill:
    """A migration's Python step: `run(cursor, sql)` with `sql` making a statement fit the engine."""

    run: Callable[[Any, Callable[[str], str]], None]


# The training record's figures, by event type: one column each, nullable (older kiosks send none).
TRAINING_COLUMNS: tuple[str, ...] = (
    "mean_velocity_mps", "peak_velocity_mps", "rom_mm", "power_w",  # rep
    "load_kg", "best_mean_velocity_mps", "velocity_loss_pct", "tut_s",  # set_end
    "reps_counted",  # set_end and session_end: the reps they count
    "volume_kg",  # session_end
)


def _training_columns() -> tuple[str, ...]:
    kinds = {"reps_counted": "INTEGER"}
    return tuple(f"ALTER TABLE events ADD COLUMN {c} {kinds.get(c, 'DOUBLE PRECISION')}" for c in TRAINING_COLUMNS)


def _backfill_training(cursor: Any, sql: Callable[[str], str]) -> None:
    # Imported here: the intake reads events, the schema must not need it to be imported.
    from kiosk.fleet.recorder.intake import training_figures

    cursor.execute("SELECT id, payload FROM events WHERE type IN ('rep', 'set_end', 'session_end')")
    updates = []
    for row_id, payload in cursor.fetchall():
        figures = training_figures(payload)
        if figures:
            updates.append((*(figures.get(c) for c in TRAINING_COLUMNS), row_id))
    if updates:
        assignments = ", ".join(f"{c} = ?" for c in TRAINING_COLUMNS)
        cursor.executemany(sql(f"UPDATE events SET {assignments} WHERE id = ?"), updates)


MIGRATIONS: tuple[tuple[int, tuple[str | Backfill, ...]], ...] = (
    (1, (
        """CREATE TABLE events (
            id {pk},
            site TEXT NOT NULL,
            machine TEXT NOT NULL,
            type TEXT NOT NULL,
            ts DOUBLE PRECISION NOT NULL,
            session TEXT,
            eid BIGINT,
            replayed BOOLEAN NOT NULL,
            received_at DOUBLE PRECISION NOT NULL,
            member TEXT,
            cue TEXT,
            rep INTEGER,
            depth_mm DOUBLE PRECISION,
            payload TEXT NOT NULL)""",
        "CREATE UNIQUE INDEX events_by_eid ON events (site, machine, eid) WHERE eid IS NOT NULL",
        ("CREATE UNIQUE INDEX events_by_content ON events (site, machine, COALESCE(session, ''), type, ts)"
         " WHERE eid IS NULL"),
        "CREATE INDEX events_by_time ON events (ts)",
        "CREATE INDEX events_by_session ON events (site, machine, session)",
        """CREATE TABLE statuses (
            id {pk},
            site TEXT NOT NULL,
            machine TEXT NOT NULL,
            source TEXT NOT NULL,
            state TEXT NOT NULL,
            mode TEXT,
            ts DOUBLE PRECISION NOT NULL,
            at DOUBLE PRECISION NOT NULL,
            received_at DOUBLE PRECISION NOT NULL,
            payload TEXT NOT NULL)""",
        "CREATE UNIQUE INDEX statuses_once ON statuses (site, machine, source, ts, state, COALESCE(mode, ''))",
        "CREATE INDEX statuses_by_time ON statuses (site, machine, source, at)",
        """CREATE TABLE telemetry (
            id {pk},
            site TEXT NOT NULL,
            machine TEXT NOT NULL,
            ts DOUBLE PRECISION NOT NULL,
            received_at DOUBLE PRECISION NOT NULL,
            payload TEXT NOT NULL)""",
        "CREATE UNIQUE INDEX telemetry_once ON telemetry (site, machine, ts)",
    )),
    # The settings a member used: their profile revisions, and each machine's model to pick the settings by.
    (2, (
        """CREATE TABLE profiles (
            id {pk},
            site TEXT NOT NULL,
            member TEXT NOT NULL,
            rev BIGINT NOT NULL,
            updated DOUBLE PRECISION NOT NULL,
            received_at DOUBLE PRECISION NOT NULL,
            machines TEXT NOT NULL)""",
        "CREATE UNIQUE INDEX profiles_once ON profiles (site, member, rev)",
        """CREATE TABLE kiosk_info (
            id {pk},
            site TEXT NOT NULL,
            machine TEXT NOT NULL,
            machine_model TEXT NOT NULL,
            version TEXT NOT NULL,
            config_version TEXT NOT NULL,
            received_at DOUBLE PRECISION NOT NULL)""",
        "CREATE UNIQUE INDEX kiosk_info_once ON kiosk_info (site, machine, machine_model, version, config_version)",
    )),
    # Events a kiosk no longer held when the recorder asked for them (`replay`): lost for good, never asked again.
    (3, (
        """CREATE TABLE lost_events (
            id {pk},
            site TEXT NOT NULL,
            machine TEXT NOT NULL,
            from_eid BIGINT NOT NULL,
            to_eid BIGINT NOT NULL,
            recorded_at DOUBLE PRECISION NOT NULL)""",
        "CREATE UNIQUE INDEX lost_events_once ON lost_events (site, machine, from_eid, to_eid)",
    )),
    # Erasures as tombstones: who and when; the revisions stay, so a wrong erasure can be undone.
    (4, (
        """CREATE TABLE profile_erasures (
            id {pk},
            site TEXT NOT NULL,
            member TEXT NOT NULL,
            erased_by TEXT NOT NULL,
            erased_at DOUBLE PRECISION NOT NULL)""",
        "CREATE UNIQUE INDEX profile_erasures_once ON profile_erasures (site, member, erased_at)",
    )),
    # The training record (velocity, range, power, load, volume) as columns the reports can sum; the events a
    # store already holds get theirs from their payloads, so an old store upgrades in place.
    (5, (*_training_columns(), Backfill(_backfill_training))),
    # Members erased lately (a digest of the id, and when), so late copies of their events are renamed as they
    # come; each row is deleted after a week and a day (erased_members.py).
    (6, (
        """CREATE TABLE erased_members (
            site TEXT NOT NULL,
            digest TEXT NOT NULL,
            erased_at DOUBLE PRECISION NOT NULL)""",
        "CREATE UNIQUE INDEX erased_members_once ON erased_members (site, digest)",
        "CREATE INDEX erased_members_by_time ON erased_members (erased_at)",
    )),
)

LATEST = MIGRATIONS[-1][0]

SCHEMA_VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)"
)
