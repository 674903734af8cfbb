"""Who is signed in: signed session cookies, CSRF tokens, and a brake on guessed passwords.

The session cookie carries the staff name, a CSRF token and when it was
issued, signed with a key kept beside the console's database (mode 0600);
HttpOnly so no script reads it, SameSite=Strict so no other site's page sends
it, Secure when the console serves TLS. Every state-changing request carries
the session's CSRF token as well (a form field or the `X-CSRF-Token` header).
"""

import hmac
import os
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "legpress_console"
SESSION_MAX_AGE_S = 12 * 3600  # one long shift; then sign in again


@dataclass(frozen=True)
class Session:
    user: str
    csrf: str


def load_secret(path: Path) -> bytes:
    """The signing key, made on first use; readable by this user only."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key


class Sessions:
    def __init__(self, secret: bytes) -> None:
        self._signer = URLSafeTimedSerializer(secret, salt="legpress-console-session")

    def issue(self, user: str) -> tuple[str, Session]:
        session = Session(user, secrets.token_urlsafe(24))
        return self._signer.dumps({"u": user, "c": session.csrf}), session

    def read(self, cookie: str | None) -> Session | None:
        if not cookie:
            return None
        try:
            data = self._signer.loads(cookie, max_age=SESSION_MAX_AGE_S)
        except BadSignature:  # also an expired one (SignatureExpired is a BadSignature)
            return None
        if not isinstance(data, dict) or not isinstance(data.get("u"), str) or not isinstance(data.get("c"), str):
            return None
        return Session(data["u"], data["c"])


def csrf_ok(session: Session, token: str | None) -> bool:
    return token is not None and hmac.compare_digest(session.csrf.encode(), token.encode())


class LoginBrake:
    """Wrong passwords, counted per staff name and per address over a window: past `allowed`, a wait.

    The wait doubles with every further failure (up to `max_wait_s`), so 20 guesses cost a guesser
    minutes, while a member of staff who mistypes twice notices nothing.
    """

    def __init__(self, allowed: int = 5, window_s: float = 900.0, first_wait_s: float = 30.0,
                 max_wait_s: float = 900.0) -> None:
        self._allowed = allowed
        self._window_s = window_s
        self._first_wait_s = first_wait_s
        self._max_wait_s = max_wait_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait_s(self, user: str, address: str, now: float | None = None) -> float:
        """Seconds to wait before another attempt may be checked; 0 when it may be now."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return max(self._wait(f"user:{user}", now), self._wait(f"addr:{address}", now))

    def failed(self, user: str, address: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            for key in (f"user:{user}", f"addr:{address}"):
                self._failures.setdefault(key, deque(maxlen=64)).append(now)

    def succeeded(self, user: str, address: str) -> None:
        with self._lock:
            self._failures.pop(f"user:{user}", None)
            self._failures.pop(f"addr:{address}", None)

    def _wait(self, key: str, now: float) -> float:
        times = self._failures.get(key)
        if not times:
            return 0.0
        while times and now - times[0] > self._window_s:
            times.popleft()
        over = len(times) - self._allowed
        if over < 0:
            return 0.0
        wait = min(self._max_wait_s, self._first_wait_s * 2.0 ** min(over, 16))
        return max(0.0, float(times[-1]) + wait - now)
