"""Staff accounts and the audit log, in the console's own SQLite database.

Passwords are kept only as argon2id hashes (argon2-cffi's defaults, which
follow RFC 9106's recommendation). The audit log keeps who did what, when,
and what the kiosk answered: it is how a gym finds out who took lp2 out of
order, or who answered a pain alert and how fast.
"""

import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from kiosk.contract.ids import check_id

Role = Literal["desk", "trainer", "operator"]
ROLES: tuple[Role, ...] = get_args(Role)
# What each role may do beyond the one below it: desk < trainer < operator.
RANK: dict[Role, int] = {role: i for i, role in enumerate(ROLES)}
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 takes any length; a megabyte "password" would only cost us time

_SCHEMA = """
CREATE TABLE IF NOT EXISTS staff (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    hash TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    who TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    outcome TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Staff:
    name: str
    role: Role
    created: float


@dataclass(frozen=True)
class AuditEntry:
    ts: float
    who: str
    action: str
    target: str
    outcome: str


def default_db() -> Path:
    """The console's database in its data folder (`$LEGPRESS_CONSOLE_DIR`, else ~/.local/share)."""
    base = os.environ.get("LEGPRESS_CONSOLE_DIR") or Path.home() / ".local" / "share" / "legpress-console"
    return Path(base) / "console.sqlite3"


def check_role(text: str) -> Role:
    for role in ROLES:
        if text == role:
            return role
    raise ValueError(f"role {text!r} is not one of: {', '.join(ROLES)}")


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"the password is too short: at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise ValueError(f"the password is too long: at most {MAX_PASSWORD} characters")
    return password


class Accounts:
    """The staff table and the audit log; safe to use from several threads (one connection, one lock)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Hashes and the audit log are for this host's console only.
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._hasher = PasswordHasher()
        # Checked against when the name is unknown, so a wrong name costs as long as a wrong password.
        self._decoy = self._hasher.hash("not-a-password-of-anyone")

    def close(self) -> None:
        self._db.close()

    def add(self, name: str, role: Role, password: str) -> Staff:
        check_id(name, "staff name")
        digest = self._hasher.hash(check_password(password))
        staff = Staff(name, role, time.time())
        with self._lock:
            try:
                self._db.execute("INSERT INTO staff (name, role, hash, created) VALUES (?, ?, ?, ?)",
                                 (name, role, digest, staff.created))
            except sqlite3.IntegrityError:
                raise ValueError(f"staff {name!r} already exists; remove it first to change it") from None
        return staff

    def remove(self, name: str) -> bool:
        with self._lock:
            return self._db.execute("DELETE FROM staff WHERE name = ?", (name,)).rowcount > 0

    def get(self, name: str) -> Staff | None:
        with self._lock:
            row = self._db.execute("SELECT name, role, created FROM staff WHERE name = ?", (name,)).fetchone()
        return None if row is None else Staff(row[0], check_role(row[1]), row[2])

    def everyone(self) -> list[Staff]:
        with self._lock:
            rows = self._db.execute("SELECT name, role, created FROM staff ORDER BY name").fetchall()
        return [Staff(r[0], check_role(r[1]), r[2]) for r in rows]

    def verify(self, name: str, password: str) -> Staff | None:
        """The account when `password` is its password, else None; as slow for an unknown name."""
        with self._lock:
            row = self._db.execute("SELECT hash FROM staff WHERE name = ?", (name,)).fetchone()
        digest = self._decoy if row is None else row[0]
        try:
            self._hasher.verify(digest, password[:MAX_PASSWORD])
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        return None if row is None else self.get(name)

    def audit(self, who: str, action: str, target: str, outcome: str) -> None:
        with self._lock:
            self._db.execute("INSERT INTO audit (ts, who, action, target, outcome) VALUES (?, ?, ?, ?, ?)",
                             (time.time(), who, action, target[:200], outcome[:2000]))

    def audit_log(self, limit: int = 200) -> list[AuditEntry]:
        with self._lock:
            rows = self._db.execute("SELECT ts, who, action, target, outcome FROM audit ORDER BY id DESC LIMIT ?",
                                    (limit,)).fetchall()
        return [AuditEntry(*r) for r in rows]
