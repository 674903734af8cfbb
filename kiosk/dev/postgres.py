"""A real PostgreSQL server for the recorder's tests and benchmarks: initdb in a temporary folder, a free port.

Uses Debian's `postgresql` package (installed by deploy/bootstrap.sh). PostgreSQL
refuses to run as root, so as root the server runs as the `postgres` user the
package creates, in a folder given to that user.
"""

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from kiosk.dev.broker import end_process, free_port


def postgres_bin_dir() -> Path:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.access(Path(candidate) / "initdb", os.X_OK):
            return Path(candidate)
    raise RuntimeError("PostgreSQL is not installed: run deploy/test.sh (it installs it) or apt-get install postgresql")


def _reachable_by_others(folder: Path) -> bool:
    """True when every folder up to `folder` lets other users through (the server runs as `postgres`)."""
    return all(os.stat(p).st_mode & 0o001 for p in (folder, *folder.parents))


def _scratch_parent() -> str | None:
    """Where the server's folder goes: the usual temporary folder, unless another user cannot reach it."""
    if os.geteuid() != 0:
        return None
    for candidate in (tempfile.gettempdir(), "/var/tmp", "/dev/shm"):
        if Path(candidate).is_dir() and _reachable_by_others(Path(candidate)):
            return candidate
    raise RuntimeError("no temporary folder the postgres user can reach (tried $TMPDIR, /tmp, /var/tmp, /dev/shm)")


class PostgresServer:
    """One throwaway PostgreSQL cluster on 127.0.0.1 (trust auth, loopback only), with a database per caller."""

    def __init__(self, durable: bool = False):
        self.port = free_port()
        self.host = "127.0.0.1"
        self._bin = postgres_bin_dir()
        self._dir = Path(tempfile.mkdtemp(prefix="legpress-postgres-", dir=_scratch_parent()))
        self._data = self._dir / "data"
        self.log = self._dir / "postgres.log"
        # Tests want speed, benchmarks want the durability a real recorder has.
        self._durable = durable
        # As root, every server process runs as `postgres` (set on the child itself, so signals reach it).
        self._user: str | None = None
        if os.geteuid() == 0:
            self._user = "postgres"
            shutil.chown(self._dir, "postgres", "postgres")
        self._proc: subprocess.Popen[bytes] | None = None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        done = subprocess.run(args, check=False, capture_output=True, text=True, timeout=120, cwd=self._dir,
                              user=self._user, group=self._user)
        if done.returncode != 0:
            raise RuntimeError(f"{Path(args[0]).name} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")

    def start(self, timeout: float = 30.0) -> "PostgresServer":
        """Start the server (the first time: create its cluster); again after `stop`, on the same port and data."""
        if not self._data.exists():
            self._run(str(self._bin / "initdb"), "-D", str(self._data), "-U", "postgres", "--auth=trust",
                      "--encoding=UTF8", "--no-instructions")
        settings = ["-c", f"port={self.port}", "-c", f"listen_addresses={self.host}",
                    "-c", f"unix_socket_directories={self._dir}", "-c", "max_connections=50"]
        if not self._durable:
            settings += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        with open(self.log, "ab") as log:
            self._proc = subprocess.Popen([str(self._bin / "postgres"), "-D", str(self._data), *settings],
                                          stdout=log, stderr=log, cwd=self._dir, user=self._user,
                                          group=self._user)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"postgres exited with {self._proc.returncode}: {self.log.read_text()[-2000:]}")
            ready = subprocess.run([str(self._bin / "pg_isready"), "-h", self.host, "-p", str(self.port)],
                                   check=False, capture_output=True)
            if ready.returncode == 0:
                return self
            time.sleep(0.1)
        raise RuntimeError(f"postgres did not accept connections on port {self.port} within {timeout} s")

    def new_database(self) -> str:
        """A fresh, empty database; returns its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        """Fast shutdown: clients are disconnected (SIGTERM would wait for them to leave)."""
        end_process(self._proc, signal.SIGINT, wait_s=15)
        self._proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)
