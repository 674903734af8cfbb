"""How long a member who reported pain waited for staff: one row per pain report of the period.

A pain report is answered by the kiosk's `assist` events that follow it on the
same machine (the console's `assist` command, docs/operations.md): `seen` when
a staff screen first showed the alert, `coming` when someone pressed "On my
way". Each is the first of its state after the report and before the
machine's next pain report; both times are the kiosk's own clock, so no clock
between kiosk and recorder skews the wait. A report that nobody answered keeps
empty cells: it is the row a manager must read.

The daily CSV's columns are fixed by the spec and read by other tools, so these
figures are a report of their own (`report --pain`, the HTML report's table,
the console's reports page), not extra columns there.
"""

import json
from dataclasses import dataclass
from datetime import datetime

from kiosk.fleet.recorder.figures import Period, resolve_days
from kiosk.fleet.recorder.store import Store

PAIN_COLUMNS = ("date", "site", "machine", "member", "session", "kind", "reported_at", "seen_after_s",
                "coming_after_s", "coming_by")
# An answer after this long is not an answer to that report (the kiosk was off, the console came back later).
MAX_WAIT_S = 3600.0

_PAIN = """
SELECT d.day, e.site, e.machine, e.member, e.session, e.ts, e.payload
FROM events e JOIN report_days d ON e.ts >= d.start_ts AND e.ts < d.end_ts
WHERE e.type = 'pain_report'{filter}
ORDER BY e.site, e.machine, e.ts
"""

_AFTER = """
SELECT site, machine, type, ts, payload FROM events
WHERE type IN ('pain_report', 'assist') AND ts >= ? AND ts < ?{filter}
ORDER BY site, machine, ts, id
"""


@dataclass(frozen=True)
class PainAnswer:
    """One pain report and how long until staff saw it and until someone was on the way."""

    date: str
    site: str
    machine: str
    member: str
    session: str
    kind: str
    reported_at: float
    seen_after_s: float | None
    coming_after_s: float | None
    coming_by: str

    def cells(self) -> list[str]:
        def wait(s: float | None) -> str:
            return "" if s is None else f"{s:.1f}"
        when = datetime.fromtimestamp(self.reported_at).astimezone().isoformat(timespec="seconds")
        return [self.date, self.site, self.machine, self.member, self.session, self.kind, when,
                wait(self.seen_after_s), wait(self.coming_after_s), self.coming_by]


def _field(payload: str, name: str) -> str:
    try:
        value = json.loads(payload).get(name, "")
    except (ValueError, AttributeError):
        return ""  # stored payloads were validated on the way in; a damaged row still must not stop the report
    return value if isinstance(value, str) else ""


def pain_answers(store: Store, period: Period, now: float) -> list[PainAnswer]:
    """Every pain report of the period, with its answers, by site, machine and time."""
    days = resolve_days(store, period, now)
    if not days:
        return []
    where, params = (" AND e.machine = ?", [period.machine]) if period.machine else ("", [])
    reports = store.read(_PAIN.format(filter=where), params, days)
    if not reports:
        return []
    where = where.replace("e.machine", "machine")
    later = store.read(_AFTER.format(filter=where),
                       [min(float(r[5]) for r in reports), days[-1].end_ts + MAX_WAIT_S, *params])
    timeline: dict[tuple[str, str], list[tuple[str, float, str]]] = {}
    for site, machine, kind, ts, payload in later:
        timeline.setdefault((site, machine), []).append((kind, float(ts), payload))
    answers = []
    for day, site, machine, member, session, ts, payload in reports:
        reported = float(ts)
        seen: float | None = None
        coming: float | None = None
        by = ""
        for kind, at, body in timeline.get((site, machine), []):
            if at < reported or (kind == "pain_report" and at == reported):
                continue
            if kind == "pain_report" or at - reported > MAX_WAIT_S:
                break  # the next report: later answers are its own
            state = _field(body, "state")
            if state == "seen" and seen is None:
                seen = at - reported
            elif state == "coming" and coming is None:
                coming, by = at - reported, _field(body, "by")
            if seen is not None and coming is not None:
                break
        answers.append(PainAnswer(day, site, machine, member or "", session or "", _field(payload, "kind"),
                                  reported, seen, coming, by))
    return answers
