"""The kiosk's boot counter, kept in its data directory.

Operators read `boot` in the status to spot a kiosk that keeps restarting.
"""

import logging
from pathlib import Path

from kiosk.core.files import private_dir
from kiosk.host.private_files import write_private

log = logging.getLogger(__name__)


def next_boot(data_dir: Path) -> int:
    """Increment and return the boot count; a missing or damaged counter restarts at 1."""
    private_dir(data_dir)
    path = data_dir / "boot_count"
    try:
        count = int(path.read_text().strip())
    except FileNotFoundError:
        count = 0
    except (ValueError, OSError) as exc:
        log.warning("boot counter %s unreadable (%s); starting again from 1", path, exc)
        count = 0
    count += 1
    write_private(path, f"{count}\n")
    return count
