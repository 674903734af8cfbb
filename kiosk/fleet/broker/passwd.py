"""Mosquitto password files in its `$7$` format (PBKDF2-HMAC-SHA512), made in Python.

A line is `user:$7$<iterations>$<base64 salt>$<base64 hash>`, exactly what
`mosquitto_passwd` writes: a 12-byte salt and a 64-byte hash (mosquitto 2.0
refuses any other length and drops the user). Generating it here, instead of
calling `mosquitto_passwd`, means rendering needs no broker on the
operator's machine and no password ever appears on a command line.
"""

import base64
import hashlib
import hmac
import secrets

# mosquitto_passwd's own default. The passwords are 192 random bits, so more
# iterations would add nothing against guessing and only cost every connect.
ITERATIONS = 101
SALT_BYTES = 12
HASH_BYTES = 64
PASSWORD_BYTES = 24


def new_password() -> str:
    """32 URL-safe characters: safe in a URL, a TOML string and a mosquitto.conf value."""
    return secrets.token_urlsafe(PASSWORD_BYTES)


def hash_password(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """The `$7$...` string mosquitto checks `password` against."""
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    if len(salt) != SALT_BYTES:
        raise ValueError(f"mosquitto needs a {SALT_BYTES}-byte salt, got {len(salt)}")
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, HASH_BYTES)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def check_password(password: str, hashed: str) -> bool:
    """True when `hashed` (a `$7$` string) is the hash of `password`, as the broker decides it."""
    parts = hashed.split("$")
    if len(parts) != 5 or parts[:2] != ["", "7"] or not parts[2].isdigit():
        return False
    try:
        salt, digest = base64.b64decode(parts[3], validate=True), base64.b64decode(parts[4], validate=True)
    except ValueError:
        return False
    if len(salt) != SALT_BYTES or len(digest) != HASH_BYTES:
        return False
    computed = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, int(parts[2]), HASH_BYTES)
    return hmac.compare_digest(computed, digest)


def password_file(passwords: dict[str, str]) -> str:
    """A whole password file, one user a line, sorted so renders diff cleanly."""
    return "".join(f"{user}:{hash_password(password)}\n" for user, password in sorted(passwords.items()))
