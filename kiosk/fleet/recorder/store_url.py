"""Opening the recorder's store from its URL: `sqlite:PATH` or `postgresql://...`.

Kept apart from `store` because it picks an engine, and the engines build on `store`.
"""

import sqlite3
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from kiosk.fleet import CommandFailed
from kiosk.fleet.recorder.store import Store


def open_store(url: str, must_exist: bool = False, read_only: bool = False) -> Store:
    """`sqlite:PATH` or `postgresql://user:pass@host:port/db`, connected.

    ValueError for a URL that is neither; `CommandFailed` (one line, no password)
    when the store cannot be opened, or with `must_exist` a SQLite file is not there. `read_only`
    opens a SQLite file with `mode=ro` (a reader that is not the recorder, e.g. the console); a
    PostgreSQL reader is kept to reading by its role's grants.
    """
    if url.startswith("sqlite:"):
        from kiosk.fleet.recorder.sqlite_store import SqliteStore

        path = url.removeprefix("sqlite:").removeprefix("//")
        if not path:
            raise ValueError(f"store {url!r} names no file: use sqlite:PATH")
        try:
            there = Path(path).is_file()
        except PermissionError:  # its folder is closed to this user: say so, not "not there"
            raise CommandFailed(f"cannot open the store {path}: this user may not read its folder") from None
        if must_exist and not there:
            raise CommandFailed(f"no recorder store at {path} (is that the recorder's --store?)")
        try:
            return SqliteStore(path, read_only=read_only)
        except sqlite3.Error as exc:
            raise CommandFailed(f"cannot open the store {path}: {exc}") from None
    if url.startswith(("postgresql://", "postgres://")):
        import psycopg

        from kiosk.fleet.recorder.postgres_store import PostgresStore

        try:
            return PostgresStore(url)
        except psycopg.Error as exc:
            reason = " ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or type(exc).__name__
            raise CommandFailed(f"cannot open the store {without_password(url)}: {reason}") from None
    raise ValueError(f"store {url!r} must be sqlite:PATH or postgresql://user:pass@host:port/db")


def without_password(url: str) -> str:
    """A store URL fit for a log line or an error message."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)))
