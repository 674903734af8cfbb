"""The kiosk's last log lines, kept in memory for the maintenance screen (through the snapshot)."""

import logging
import threading
import time
from collections import deque

RECENT_LINES = 8


class RecentLog(logging.Handler):
    """A logging handler that keeps the last `RECENT_LINES` records of WARNING and above, one line each.

    The technician at the machine sees what went wrong without a shell; `lines()` is safe from any thread.
    """

    def __init__(self, size: int = RECENT_LINES, level: int = logging.WARNING) -> None:
        super().__init__(level)
        self._lines: deque[str] = deque(maxlen=size)
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            first = record.getMessage().splitlines()[0] if record.getMessage() else ""
        except Exception:  # noqa: BLE001 - a badly formatted record must not break logging
            first = str(record.msg)
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        with self._guard:
            # The module's own name is enough on a small screen: `link`, not `kiosk.mqtt.link`.
            self._lines.append(f"{stamp} {record.levelname.lower()} {record.name.rsplit('.', 1)[-1]}: {first}")

    def lines(self) -> tuple[str, ...]:
        """Newest first."""
        with self._guard:
            return tuple(reversed(self._lines))
