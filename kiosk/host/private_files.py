"""Files that hold secrets or members' data: 0600 files and 0700 folders, whoever runs the program and
whatever their umask.

The umask can only narrow the mode a file is created with, so the mode is also set explicitly on the open
file. Symlinks are refused where a file is opened, so a link planted in a data folder cannot make a program
write or chmod what it points to.
"""

import os
import stat
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700
# A file another service reads through a group: the recorder's store, read by the console (deploy/install-pi.sh).
GROUP_READ_MODE = 0o640


def private_folder(path: Path) -> Path:
    """`path` as a folder; each folder this call creates (parents included) is 0700. Folders that existed
    before are left as they are: they are not this program's to change."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=DIR_MODE)
        os.chmod(folder, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty if it does not exist, and make it 0600 either way; a symlink is refused."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return path


def shared_with_folder_group(path: Path) -> Path:
    """Create `path` empty if it does not exist; 0640 when its folder is set-group-id and its group may read
    (how the installer shares a folder read only with one group: new files take the folder's group), 0600
    anywhere else. A symlink is refused. Nobody but the owner ever gets to write."""
    folder = path.parent.stat()
    shared = folder.st_mode & stat.S_ISGID and folder.st_mode & stat.S_IRGRP
    mode = GROUP_READ_MODE if shared else FILE_MODE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, mode)
    try:
        if shared and os.fstat(fd).st_gid != folder.st_gid:
            # Made before the folder was shared (an upgrade): the folder's group, so its members can read.
            os.fchown(fd, -1, folder.st_gid)
        os.fchmod(fd, mode)
    finally:
        os.close(fd)
    return path


def write_private(path: Path, data: bytes | str) -> None:
    """Replace `path` with `data` (text is written as UTF-8) atomically: written beside, renamed over,
    mode 0600. A crash leaves the old file whole."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


def is_private(path: Path) -> bool:
    """Nobody but the owner may read or write `path`."""
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0
