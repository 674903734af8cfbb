"""Running a program of this checkout as another user (nobody), to show what that user may and may not do
to files: root, who runs the suite here, may write anything, so a read-only share is only shown by a reader
that is not root.

The venv's interpreter lives under root's home, which nobody cannot enter; the reader runs Debian's
`python3.11` (the same minor version) with this checkout and the venv's packages on its path.
"""

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SYSTEM_PYTHON = Path("/usr/bin/python3.11")
NOBODY = 65534
# A group no account here has: the share under test is the only thing it opens.
READERS_GID = 4711


@dataclass(frozen=True)
class Reader:
    """A process identity: nobody, with the readers' group as its one supplementary group."""

    uid: int = NOBODY
    gid: int = NOBODY
    groups: tuple[int, ...] = (READERS_GID,)

    def popen_kwargs(self) -> dict[str, object]:
        return {"user": self.uid, "group": self.gid, "extra_groups": list(self.groups),
                "env": {**os.environ, "PYTHONPATH": os.pathsep.join(python_path()), "HOME": "/nonexistent"}}

    def argv(self, module: str, *args: str) -> list[str]:
        """`python -m module args...` as this reader runs it."""
        return self.python("-m", module, *args)

    def python(self, *args: str) -> list[str]:
        return [str(SYSTEM_PYTHON), *args]


def python_path() -> list[str]:
    return [str(REPO), *(p for p in sys.path if p.endswith("site-packages") and p.startswith(sys.prefix))]


needs_root = pytest.mark.skipif(os.geteuid() != 0 or not SYSTEM_PYTHON.exists(),
                                reason="running a reader as nobody needs root and Debian's python3.11")


def readable_by_all_above(path: Path) -> None:
    """Let anyone traverse the folders above `path` (pytest's tmp folders are 0700), as /var/lib is."""
    for folder in path.parents:
        if folder == Path("/"):
            break
        folder.chmod(folder.stat().st_mode | 0o111)
