"""The SQLite engine: one file, WAL, the embedded default for one gym."""

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from kiosk.fleet.recorder.store import Store, _Dialect
from kiosk.host.private_files import private_folder, shared_with_folder_group

BUSY_TIMEOUT_MS = 5000

log = logging.getLogger(__name__)


class SqliteStore(Store):
    """A store in one SQLite file in WAL mode, so reports read while the recorder writes.

    `read_only` is for readers that are not the recorder (the console's reports page): the file is opened
    with SQLite's `mode=ro`, nothing is created, no pragma is set, and reads take no write lock, so a reader
    whose user may only read the file (the installed console, through the store's group) works.
    """

    engine = "sqlite"
    dialect = _Dialect(pk="INTEGER PRIMARY KEY", least="MIN", greatest="MAX")

    def __init__(self, path: str | Path, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only
        if read_only:
            self._conn = sqlite3.connect(f"file:{quote(str(self.path.absolute()))}?mode=ro", uri=True,
                                         isolation_level=None, check_same_thread=False,
                                         timeout=BUSY_TIMEOUT_MS / 1000)
            return
        # The record names members: readable by the recorder's user only, whoever runs it and whatever the
        # umask; in a folder the installer shares with the console's group (set-group-id), group-readable
        # too. SQLite gives its -wal and -shm files the database file's mode.
        if not self.path.exists():
            private_folder(self.path.parent)
        shared_with_folder_group(self.path)
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
        with self._begun("BEGIN IMMEDIATE") as cursor:
            yield cursor

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Cursor]:
        # Deferred: one snapshot for the whole read, and no write lock on the store (a read-only reader
        # cannot take one, and the recorder's writer need not wait for a report). The report's own
        # TEMPORARY table lives in the connection's temp database, not in the store.
        with self._begun("BEGIN DEFERRED") as cursor:
            yield cursor

    @contextmanager
    def _begun(self, begin: str) -> Iterator[sqlite3.Cursor]:
        cursor = self._conn.cursor()
        cursor.execute(begin)
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
        if not self.read_only:
            self._leave_readable()
        self._conn.close()

    def _leave_readable(self) -> None:
        # A WAL file needs its -shm to be read, and a reader who may not write in the folder cannot make one:
        # with the recorder stopped (SQLite removes both on the last close) the console could read nothing.
        # A stopped recorder leaves the store in rollback-journal mode, which a read-only reader reads as is;
        # the next start puts it back in WAL. Best effort: a reader holding the file open keeps it in WAL.
        try:
            mode = self._conn.execute("PRAGMA journal_mode=DELETE").fetchone()
        except sqlite3.Error as exc:
            log.warning("the store %s stays in WAL mode (%s): a read-only reader needs the recorder running",
                        self.path, exc)
            return
        if mode and str(mode[0]).lower() != "delete":
            log.warning("the store %s stays in WAL mode (a reader has it open): a read-only reader needs the "
                        "recorder running", self.path)
