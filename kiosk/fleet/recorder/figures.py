"""The report's figures, computed by the store's SQL from the recorded events and status changes.

A report day is a local calendar day of the host that runs the report. The
days are computed here (so daylight saving changes are right) and handed to
the query as the `report_days` table; everything else is one query per
figure set, the same SQL on both engines.

- sessions: `session_start` events; members: distinct members among them;
  sets: `set_end` events; reps: `rep` events;
- liftoffs: `cue` events of `liftoff_lumbar` or `liftoff_pelvis`;
  liftoff_rate: lift-offs per 100 reps, one decimal (0.0 on a day without reps);
- pain_reports, sensor_faults: those events;
- out_of_order_min: minutes the kiosk's status said `ready` in mode
  `out_of_order`, from that status until its next one (or now), one decimal.

The members report ends with each session's progress figures: the best set
(the heaviest, then the one with most reps, then the fastest: the rule the
kiosk's visit history keeps, kiosk/core/training/history.py), its load, reps
and best mean velocity, and the session's volume (load x reps; the kiosk's
`session_end` figure, else the sum over its sets with a load).
"""

import json
import time
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from kiosk.fleet.recorder.store import ReportDay, Store

DAILY_COLUMNS = ("date", "site", "machine", "sessions", "members", "sets", "reps", "liftoffs", "liftoff_rate",
                 "pain_reports", "out_of_order_min", "sensor_faults")
MEMBER_COLUMNS = ("date", "site", "machine", "member", "session", "sets", "reps", "deepest_rep_mm", "liftoffs",
                  "settings", "best_set_load_kg", "best_set_reps", "best_mean_velocity_mps", "volume_kg")
LIFTOFF_CUES = "('liftoff_lumbar', 'liftoff_pelvis')"
MAX_DAYS = 3660


@dataclass(frozen=True)
class Period:
    """The days a report covers (both included; None: from the first or up to the last record) and its machine."""

    first: date | None = None
    last: date | None = None
    machine: str | None = None


@dataclass(frozen=True)
class MachineDay:
    """One row of the usage and safety CSV: one machine on one day."""

    date: str
    site: str
    machine: str
    sessions: int
    members: int
    sets: int
    reps: int
    liftoffs: int
    liftoff_rate: float
    pain_reports: int
    out_of_order_min: float
    sensor_faults: int

    def cells(self) -> list[str]:
        return [f"{v:.1f}" if isinstance(v, float) else str(v) for v in astuple(self)]


@dataclass(frozen=True)
class MemberSession:
    """One row of the `--members` CSV: one member's session on one machine."""

    date: str
    site: str
    machine: str
    member: str
    session: str
    sets: int
    reps: int
    deepest_rep_mm: float | None
    liftoffs: int
    settings: str
    progress: "Progress"

    def cells(self) -> list[str]:
        deepest = "" if self.deepest_rep_mm is None else f"{self.deepest_rep_mm:.0f}"
        return [self.date, self.site, self.machine, self.member, self.session, str(self.sets), str(self.reps),
                deepest, str(self.liftoffs), self.settings, *self.progress.cells()]


@dataclass(frozen=True)
class Progress:
    """A session's training record: its best set's load, reps and mean velocity, and its volume (None: unknown)."""

    best_set_load_kg: float | None = None
    best_set_reps: int | None = None
    best_mean_velocity_mps: float | None = None
    volume_kg: float | None = None

    def cells(self) -> list[str]:
        return [_figure(self.best_set_load_kg, 1), "" if self.best_set_reps is None else str(self.best_set_reps),
                _figure(self.best_mean_velocity_mps, 2), _figure(self.volume_kg, 1)]


def _figure(value: float | None, decimals: int) -> str:
    return "" if value is None else f"{value:.{decimals}f}"


def _machine_filter(column: str, period: Period) -> tuple[str, list[Any]]:
    return (f" AND {column} = ?", [period.machine]) if period.machine else ("", [])


_EVENT_FIGURES = """
SELECT day, site, machine, sessions, members, sets, reps, liftoffs,
       CASE WHEN reps > 0 THEN ROUND(100.0 * liftoffs / reps, 1) ELSE 0 END,
       pain_reports, sensor_faults
FROM (
    SELECT d.day AS day, e.site AS site, e.machine AS machine,
           SUM(CASE WHEN e.type = 'session_start' THEN 1 ELSE 0 END) AS sessions,
           COUNT(DISTINCT CASE WHEN e.type = 'session_start' THEN e.member END) AS members,
           SUM(CASE WHEN e.type = 'set_end' THEN 1 ELSE 0 END) AS sets,
           SUM(CASE WHEN e.type = 'rep' THEN 1 ELSE 0 END) AS reps,
           SUM(CASE WHEN e.type = 'cue' AND e.cue IN {cues} THEN 1 ELSE 0 END) AS liftoffs,
           SUM(CASE WHEN e.type = 'pain_report' THEN 1 ELSE 0 END) AS pain_reports,
           SUM(CASE WHEN e.type = 'sensor_fault' THEN 1 ELSE 0 END) AS sensor_faults
    FROM events e JOIN report_days d ON e.ts >= d.start_ts AND e.ts < d.end_ts
    WHERE 1 = 1{filter}
    GROUP BY d.day, e.site, e.machine
) f
"""

_OUT_OF_ORDER = """
WITH changes AS (
    SELECT site, machine, state, mode, at,
           LEAD(at) OVER (PARTITION BY site, machine ORDER BY at, id) AS next_at
    FROM statuses WHERE source = 'kiosk'{filter}
), spans AS (
    SELECT site, machine, at AS start_ts, COALESCE(next_at, ?) AS end_ts
    FROM changes WHERE state = 'ready' AND mode = 'out_of_order'
)
SELECT d.day, s.site, s.machine,
       ROUND(CAST(SUM({{least}}(s.end_ts, d.end_ts) - {{greatest}}(s.start_ts, d.start_ts)) / 60.0 AS NUMERIC), 1)
FROM spans s JOIN report_days d ON s.start_ts < d.end_ts AND s.end_ts > d.start_ts
GROUP BY d.day, s.site, s.machine
"""

_MEMBER_SESSIONS = """
SELECT s.day, s.site, s.machine, s.member, s.session, s.sets, s.reps, s.deepest, s.liftoffs,
       (SELECT p.machines FROM profiles p
        WHERE p.site = s.site AND p.member = s.member AND p.received_at <= s.started_received
        ORDER BY p.received_at DESC, p.rev DESC LIMIT 1),
       (SELECT i.machine_model FROM kiosk_info i
        WHERE i.site = s.site AND i.machine = s.machine
        ORDER BY i.received_at DESC LIMIT 1)
FROM (
    SELECT d.day AS day, st.site AS site, st.machine AS machine, st.member AS member, st.session AS session,
           SUM(CASE WHEN e.type = 'set_end' THEN 1 ELSE 0 END) AS sets,
           SUM(CASE WHEN e.type = 'rep' THEN 1 ELSE 0 END) AS reps,
           MAX(CASE WHEN e.type = 'rep' THEN e.depth_mm END) AS deepest,
           SUM(CASE WHEN e.type = 'cue' AND e.cue IN {cues} THEN 1 ELSE 0 END) AS liftoffs,
           MIN(st.ts) AS started, MIN(st.received_at) AS started_received
    FROM events st
    JOIN report_days d ON st.ts >= d.start_ts AND st.ts < d.end_ts
    LEFT JOIN events e ON e.site = st.site AND e.machine = st.machine AND e.session = st.session
                      AND e.type IN ('set_end', 'rep', 'cue')
    WHERE st.type = 'session_start' AND st.session IS NOT NULL{filter}
    GROUP BY d.day, st.site, st.machine, st.member, st.session
) s
ORDER BY s.started, s.site, s.machine
"""


# Each set and the session's end of every session started in the period, for `Progress`.
_SESSION_TRAINING = """
SELECT e.site, e.machine, e.session, e.type, e.load_kg, e.reps_counted, e.best_mean_velocity_mps, e.volume_kg
FROM events e
JOIN events st ON st.site = e.site AND st.machine = e.machine AND st.session = e.session
                  AND st.type = 'session_start'
JOIN report_days d ON st.ts >= d.start_ts AND st.ts < d.end_ts
WHERE e.type IN ('set_end', 'session_end'){filter}
ORDER BY e.ts, e.id
"""


def report_days(first: date, last: date) -> list[ReportDay]:
    """Each local day from `first` to `last`, as Unix times; a naive datetime's timestamp() is local time."""
    if (last - first).days > MAX_DAYS:
        raise ValueError(f"a report covers at most {MAX_DAYS} days; narrow it with --from and --to")
    days = []
    day = first
    while day <= last:
        start = datetime.combine(day, datetime.min.time()).timestamp()
        end = datetime.combine(day + timedelta(days=1), datetime.min.time()).timestamp()
        days.append(ReportDay(day.isoformat(), start, end))
        day += timedelta(days=1)
    return days


def resolve_days(store: Store, period: Period, now: float) -> list[ReportDay]:
    """The period's days; an open start is the first recorded day, an open end today."""
    last = period.last or date.fromtimestamp(now)
    first = period.first
    if first is None:
        (earliest,) = store.read("SELECT MIN(t) FROM (SELECT MIN(ts) AS t FROM events "
                                 "UNION ALL SELECT MIN(at) AS t FROM statuses WHERE source = 'kiosk') m")[0]
        if earliest is None:
            return []
        first = min(date.fromtimestamp(float(earliest)), last)
    if first > last:
        raise ValueError(f"--from {first} is after --to {last}")
    return report_days(first, last)


def machine_days(store: Store, period: Period, now: float | None = None) -> list[MachineDay]:
    """The usage and safety figures per machine and day, sorted by day, site, machine."""
    now = time.time() if now is None else now
    days = resolve_days(store, period, now)
    if not days:
        return []
    where, params = _machine_filter("e.machine", period)
    events = store.read(_EVENT_FIGURES.format(cues=LIFTOFF_CUES, filter=where), params, days)
    where, params = _machine_filter("machine", period)
    out_of_order = {(r[0], r[1], r[2]): float(r[3])
                    for r in store.read(_OUT_OF_ORDER.format(filter=where), [*params, now], days)}
    figures: dict[tuple[str, str, str], MachineDay] = {}
    for day, site, machine, sessions, members, sets, reps, liftoffs, rate, pain, faults in events:
        key = (day, site, machine)
        figures[key] = MachineDay(day, site, machine, int(sessions), int(members), int(sets), int(reps),
                                  int(liftoffs), float(rate), int(pain), out_of_order.pop(key, 0.0), int(faults))
    for (day, site, machine), minutes in out_of_order.items():
        if minutes > 0:
            figures[(day, site, machine)] = MachineDay(day, site, machine, 0, 0, 0, 0, 0, 0.0, 0, minutes, 0)
    return [figures[key] for key in sorted(figures)]


def member_sessions(store: Store, period: Period, now: float | None = None,
                    member: str | None = None) -> list[MemberSession]:
    """One row per member session started in the period (of `member` only, when given), in the order they started.

    The settings shown are the member's newest revision the recorder received before it received the
    session's start: both times on the recorder's clock, so no sender's clock (a profile's `updated`, an
    event's `ts`) can pin other settings on a past session.
    """
    days = resolve_days(store, period, time.time() if now is None else now)
    if not days:
        return []
    where, params = _machine_filter("st.machine", period)
    if member is not None:
        where, params = f"{where} AND st.member = ?", [*params, member]
    rows: Sequence[tuple[Any, ...]] = store.read(_MEMBER_SESSIONS.format(cues=LIFTOFF_CUES, filter=where),
                                                 params, days)
    progress = _progress(store.read(_SESSION_TRAINING.format(filter=where), params, days))
    return [MemberSession(day, site, machine, member, session, int(sets), int(reps),
                          None if deepest is None else float(deepest), int(liftoffs), settings_text(machines, model),
                          progress.get((site, machine, session), Progress()))
            for day, site, machine, member, session, sets, reps, deepest, liftoffs, machines, model in rows]


def _progress(rows: Sequence[tuple[Any, ...]]) -> dict[tuple[str, str, str], Progress]:
    sets: dict[tuple[str, str, str], list[tuple[float | None, int, float | None]]] = {}
    ended: dict[tuple[str, str, str], float] = {}
    for site, machine, session, kind, load, reps, velocity, volume in rows:
        key = (str(site), str(machine), str(session))
        if kind == "set_end":
            sets.setdefault(key, []).append((_number(load), int(reps or 0), _number(velocity)))
        elif volume is not None:
            ended[key] = float(volume)
    progress = {}
    for key in sets.keys() | ended.keys():
        done = sets.get(key, [])
        best = max(done, key=lambda s: (s[0] or 0.0, s[1], s[2] or 0.0)) if done else (None, None, None)
        loaded = [s[0] * s[1] for s in done if s[0] is not None]
        volume = ended.get(key, sum(loaded) if loaded else None)
        progress[key] = Progress(best[0], best[1], best[2], volume)
    return progress


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def settings_text(machines: str | None, model: str | None) -> str:
    """The member's settings for the machine's model as one short phrase; empty when none were recorded.

    Without a known model, a profile holding one machine's settings is taken as that machine's.
    """
    if not machines:
        return ""
    by_model: dict[str, dict[str, Any]] = json.loads(machines)
    chosen = by_model.get(model or "") or (next(iter(by_model.values())) if len(by_model) == 1 else None)
    if chosen is None:
        return ""
    return (f"backrest {chosen['backrest_notch']}, seat {chosen['seat_notch']}, "
            f"feet {chosen['foot_height']} {chosen['foot_width']} {chosen['toe_angle_deg']} deg, "
            f"target {chosen['target_depth_mm']:.0f} mm, max {chosen['max_depth_mm']:.0f} mm")
