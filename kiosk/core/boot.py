"""The kiosk's boot counter, kept in its data directory.

Operators read `boot` in the status to spot a kiosk that keeps restarting.
"""

import logging
from pathlib import Path

log = logging.getLogger(__name__)


def next_boot(data_dir: Path) -> int:
    """Increment and return the boot count; a missing or damaged counter restarts at 1."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "boot_count"
    try:
        count = int(path.read_text().strip())
    except FileNotFoundError:
        count = 0
    except (ValueError, OSError) as exc:
        log.warning("boot counter %s unreadable (%s); starting again from 1", path, exc)
        count = 0
    count += 1
    tmp = path.with_suffix(".tmp")
    tmp.write_text(f"{count}\n")
    tmp.replace(path)
    return count
