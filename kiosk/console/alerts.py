"""What needs a person now: alerts, most urgent first, each kept until someone answers it."""

import itertools
import time
from dataclasses import dataclass, field
from typing import Literal

AlertKind = Literal["pain", "stopped", "kiosk_lost", "sensor", "command"]
# Most urgent first: a member in pain, a member whose back lifted twice, then the machines.
URGENCY: dict[AlertKind, int] = {"pain": 0, "stopped": 1, "kiosk_lost": 2, "sensor": 3, "command": 4}

# Open alerts of one kind kept for one machine. A machine has one member at a time: a few open alerts are a
# busy evening, more is a stolen or broken kiosk inventing sessions. Past it that machine's new alerts of the
# kind are counted, not listed, so they cannot bury every other machine's (the list sorts by urgency, then age).
MAX_OPEN_PER_MACHINE = 5

_ids = itertools.count(1)


@dataclass
class Alert:
    kind: AlertKind
    machine: str
    detail: str = ""
    session: str | None = None
    member: str = ""
    id: str = field(default_factory=lambda: f"a{next(_ids)}")
    raised_at: float = field(default_factory=time.time)
    seen_sent: bool = False  # a console screen showed it, and the kiosk was told (`assist` seen)
    answered_by: str | None = None
    answered_at: float | None = None

    @property
    def open(self) -> bool:
        return self.answered_by is None

    @property
    def sort_key(self) -> tuple[int, float]:
        # Within one urgency, whoever has waited longest comes first.
        return URGENCY[self.kind], self.raised_at


class AlertBoard:
    """Open and answered alerts. Not thread-safe on its own: the floor holds it under its lock."""

    def __init__(self, keep_answered: int = 20) -> None:
        self._alerts: dict[str, Alert] = {}
        self._keep_answered = keep_answered
        self.dropped: dict[str, int] = {}  # per machine, alerts not listed past MAX_OPEN_PER_MACHINE

    def raise_once(self, alert: Alert) -> Alert | None:
        """Add `alert` unless one of its kind is already open for the same machine and session, or its machine
        already has MAX_OPEN_PER_MACHINE open of that kind (then it is counted in `dropped`)."""
        same_kind = 0
        for other in self._alerts.values():
            if other.open and (other.kind, other.machine) == (alert.kind, alert.machine):
                if other.session == alert.session:
                    return None
                same_kind += 1
        if same_kind >= MAX_OPEN_PER_MACHINE:
            self.dropped[alert.machine] = self.dropped.get(alert.machine, 0) + 1
            return None
        self._alerts[alert.id] = alert
        return alert

    def get(self, alert_id: str) -> Alert | None:
        return self._alerts.get(alert_id)

    def find(self, kind: AlertKind, machine: str, session: str | None) -> Alert | None:
        """The newest alert of `kind` for that machine and session, open or answered."""
        found = [a for a in self._alerts.values() if (a.kind, a.machine, a.session) == (kind, machine, session)]
        return max(found, key=lambda a: a.raised_at, default=None)

    def answer(self, alert: Alert, by: str) -> None:
        alert.answered_by, alert.answered_at = by, time.time()
        answered = sorted((a for a in self._alerts.values() if not a.open), key=lambda a: a.answered_at or 0.0)
        for old in answered[:-self._keep_answered]:
            del self._alerts[old.id]

    def open_alerts(self) -> list[Alert]:
        return sorted((a for a in self._alerts.values() if a.open), key=lambda a: a.sort_key)

    def answered(self) -> list[Alert]:
        return sorted((a for a in self._alerts.values() if not a.open), key=lambda a: -(a.answered_at or 0.0))
