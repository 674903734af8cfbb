"""The SQLite engine: one file, WAL, the embedded default for one gym."""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kiosk.fleet.recorder.store import Store, _Dialect
from kiosk.host.private_files import private_file, private_folder

BUSY_TIMEOUT_MS = 5000


class SqliteStore(Store):
    """A store in one SQLite file in WAL mode, so reports read while the recorder writes."""

    engine = "sqlite"
    dialect = _Dialect(pk="INTEGER PRIMARY KEY", least="MIN", greatest="MAX")

    def __init__(self, path: str | Path):
        self.path = Path(path)
        # The record names members: readable by the recorder's user only, whoever runs it and whatever the
        # umask. SQLite gives its -wal and -shm files the database file's mode.
        if not self.path.exists():
            private_folder(self.path.parent)
        private_file(self.path)
        # Autocommit at the driver level: transactions are begun explicitly, so a read
        # never holds a write lock, and the recorder's writer thread owns the connection.
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                     timeout=BUSY_TIMEOUT_MS / 1000)
        self._conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL keeps every committed transaction across a crash of the process,
        # and loses at most the last ones on a power cut: the broker redelivers what was not acknowledged.
        self._conn.execute("PRAGMA synchronous=NORMAL")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Cursor]:
        cursor = self._conn.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            yield cursor
        except BaseException:
            self._conn.rollback()
            raise
        else:
            cursor.execute("COMMIT")
        finally:
            cursor.close()

    def _lock_for_migration(self, cursor: sqlite3.Cursor) -> None:
        # BEGIN IMMEDIATE already holds the file's write lock.
        return None

    def is_transient(self, exc: Exception) -> bool:
        return isinstance(exc, sqlite3.OperationalError)

    def close(self) -> None:
        self._conn.close()
