"""The kiosk's data folder and files: private to the kiosk's user, whatever the umask.

Profiles name members and hold their settings; the boot counter and the event
journal are what operators trust to spot trouble. None of it is anyone
else's to read or change, so the folder is 0700 and its files 0600, set
explicitly because the umask may only narrow the mode a file is created with.
"""

import os
import stat
from pathlib import Path

from kiosk.host.private_files import DIR_MODE, FILE_MODE

# A folder holding one of these is a kiosk data folder (from this release or an older one).
KIOSK_FILES = ("boot_count", "profiles.sqlite3", "journal.sqlite3", "calibration.json", "revocations.json",
               "config_layers.json", "sounds", "trusted_keys", ".write-test")


class SharedFolderError(OSError):
    """The data folder is not the kiosk's own: making it private would take it from others."""


def private_dir(path: Path) -> Path:
    """Create `path` if needed and make it and the regular files directly in it private.

    Only a folder that is the kiosk's own is changed: a new one, an empty one, or one holding kiosk
    files. A shared folder (sticky like /tmp, or someone's home holding other files) is refused, so
    a mistyped setting can never make the kiosk close other people's files.
    """
    if path.is_dir():
        mode = path.stat().st_mode
        if mode & stat.S_ISVTX or mode & stat.S_IWOTH:
            raise SharedFolderError(f"{path} is a shared folder; give the kiosk a folder of its own")
        with os.scandir(path) as entries:
            names = {entry.name for entry in entries}
        if names and not names & set(KIOSK_FILES):
            raise SharedFolderError(f"{path} holds files that are not the kiosk's; give the kiosk a folder of its own")
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    os.chmod(path, DIR_MODE)
    for entry in os.scandir(path):
        # Not followed: a link in the data folder must not make the kiosk chmod what it points to.
        if entry.is_file(follow_symlinks=False):
            os.chmod(entry.path, FILE_MODE, follow_symlinks=False)
    return path
