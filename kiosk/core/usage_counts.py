"""Sessions today and the last session's lift-off rate, counted again from the event journal at start.

They live in memory (`UsageToday`) for telemetry and Home Assistant; without this, a kiosk
restarted at noon would say 0 sessions while the recorder's report counts the morning's.
"""

import logging
import sqlite3

from kiosk.core.site.event_journal import EventJournal
from kiosk.core.training.session import UsageToday, local_midnight

log = logging.getLogger(__name__)


def resume_usage(journal: EventJournal, usage: UsageToday, now: float) -> None:
    """Put today's sessions and the last rate, as the journal holds them, into `usage` (on the core thread).

    On a full journal it reads every row (bench/bench_usage_resume.py): done as the core's first job,
    not on the way to `ready`.
    """
    try:
        sessions = journal.sessions_started_since(local_midnight(now))
        last = journal.last_session_with_reps()
    except sqlite3.Error as exc:  # a damaged journal costs the counts, never the start
        log.error("usage not counted again from the journal: %s", exc)
        return
    usage.resume(now, sessions, last)
