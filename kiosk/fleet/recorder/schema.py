"""The recorder's schema, the same on both engines, as numbered migrations.

A store at version N runs migrations N+1.. in order, each in its own
transaction with its row in `schema_version`; a migration, once released, is
never edited: a change is a new migration. `{pk}` is each engine's
auto-numbered primary key.

An event's identity is (site, machine, eid) when the kiosk sent an `eid`, else
(site, machine, session, type, ts); the two partial unique indexes hold it, so
`INSERT ... ON CONFLICT DO NOTHING` keeps a redelivered event once. A retained
status comes again on every subscription, and is kept once the same way.
"""

MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
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
)

LATEST = MIGRATIONS[-1][0]

SCHEMA_VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)"
)
