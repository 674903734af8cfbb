"""Member QR codes: operators sign them, kiosks verify them.

A code is `LP1.<base64url(claims JSON)>.<base64url(Ed25519 signature of the
claims bytes)>`, without padding (spec/mqtt-contract.md, "Member QR codes").
Kiosks hold only public keys, so a stolen kiosk cannot mint codes.

`verify_code` runs on whatever a camera or a keyboard hands it, so it never
raises on the text; every refusal carries one of the contract's
`ScanRejectReason`s and a sentence a member at the machine understands.
"""

import base64
import binascii
import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import re2
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kiosk.contract.base import PayloadError, decode
from kiosk.contract.config import MEMBER_CODE_PREFIXES, compile_id_pattern
from kiosk.contract.events import Role, ScanRejectReason
from kiosk.contract.ids import check_id, is_valid_id
from kiosk.contract.member_code import CODE_PREFIX, MemberClaims
from kiosk.words.wording import CODE_NOT_YET_VALID, CODE_TOO_OLD, SCAN_REFUSED, WELCOME, told

log = logging.getLogger(__name__)

# The longest code we can mint is about 520 characters (a 40-character name
# of 4-byte characters); anything much longer is not ours, and refusing it
# early bounds the work.
MAX_CODE_CHARS = 2048
SIGNATURE_BYTES = 64
# Claims made for a plain membership id carry this kid: no key signed them.
PLAIN_ID_KID = "plain"

_B64URL = re.compile(r"[A-Za-z0-9_-]+")

# The member's words for each refusal live with everything else a member reads (and are translated where shown).
MESSAGES: dict[ScanRejectReason, str] = SCAN_REFUSED
NOT_YET_VALID = CODE_NOT_YET_VALID


@dataclass(frozen=True)
class Admitted:
    """A code that lets its holder in; `message` greets them on screen."""

    claims: MemberClaims
    message: str
    accepted: Literal[True] = True


@dataclass(frozen=True)
class Refused:
    """A code that does not let anyone in.

    `message` is for the member on screen; `detail` is for operators (logs and
    the `scan_rejected` event) and may be technical.
    """

    reason: ScanRejectReason
    message: str
    detail: str = ""
    accepted: Literal[False] = False


# What the kiosk makes of one scanned text: narrow it with `isinstance` or `accepted`.
ScanVerdict = Admitted | Refused


def _accept(claims: MemberClaims) -> Admitted:
    return Admitted(claims, told(WELCOME, {"name": claims.name or claims.sub}))


def _reject(reason: ScanRejectReason, detail: str, message: str | None = None) -> Refused:
    return Refused(reason, message or MESSAGES[reason], detail)


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes | None:
    """Strict base64url without padding, or None."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def sign_code(claims: MemberClaims, private_key: Ed25519PrivateKey) -> str:
    """The code text for `claims`, signed with the operators' private key."""
    if not isinstance(private_key, Ed25519PrivateKey):
        raise TypeError(f"member codes are signed with Ed25519 keys, not {type(private_key).__name__}")
    # Absent fields stay absent: every byte saved keeps the QR code coarser and easier to scan.
    body = claims.model_dump_json(by_alias=True, exclude_none=True).encode()
    return f"{CODE_PREFIX}.{_b64encode(body)}.{_b64encode(private_key.sign(body))}"


class TrustedKeys:
    """The public keys a kiosk trusts, by kid, read from a directory of `<kid>.pem` files.

    A file that is not an Ed25519 public key is skipped with a warning naming
    it, so one bad file cannot lock every member out. `reload` is cheap when
    nothing changed (it compares names, sizes and times), so the kiosk may call
    it before every scan and a key copied in takes effect at once. It swaps
    the whole set at once: a scan verifying on another thread sees the old set
    or the new one, never half of each.
    """

    def __init__(self, directory: str | Path | None = None):
        self.directory = Path(directory) if directory is not None else None
        self._keys: dict[str, Ed25519PublicKey] = {}
        self._listing: tuple[tuple[str, int, int], ...] | None = None

    @classmethod
    def load(cls, directory: str | Path) -> "TrustedKeys":
        """Keys from `directory`; a folder that does not exist (yet) gives none, with a warning."""
        trusted = cls(directory)
        trusted.reload()
        return trusted

    def reload(self) -> None:
        """Read the directory again if its key files changed; keys not from a directory stay as they are."""
        if self.directory is None:
            return
        listing = self._list()
        if listing == self._listing:
            return
        self._listing = listing
        keys = {}
        for name, _, _ in listing:
            key = _read_public_key(self.directory / name)
            if key is not None:
                keys[Path(name).stem] = key
        self._keys = keys
        if not self.directory.is_dir():
            log.warning("trusted keys directory %s does not exist: every signed code will be refused", self.directory)
        else:
            log.info("trusted keys from %s: %s", self.directory, ", ".join(keys) or "none")

    def _list(self) -> tuple[tuple[str, int, int], ...]:
        found = []
        if self.directory is None:
            return ()
        try:
            paths = sorted(self.directory.glob("*.pem"))
        except OSError:
            return ()
        for path in paths:
            try:
                stat = path.stat()
            except OSError:
                continue
            found.append((path.name, stat.st_size, stat.st_mtime_ns))
        return tuple(found)

    def get(self, kid: str) -> Ed25519PublicKey | None:
        return self._keys.get(kid)

    def kids(self) -> list[str]:
        return sorted(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def signer_of(self, body: bytes, signature: bytes) -> str | None:
        """The kid of the trusted key that made `signature` over `body`, if any."""
        for kid, key in list(self._keys.items()):
            if _signed_by(key, body, signature):
                return kid
        return None


def _read_public_key(path: Path) -> Ed25519PublicKey | None:
    kid = path.stem
    if not is_valid_id(kid) or kid == PLAIN_ID_KID:
        log.warning("skipping trusted key %s: %r is not a usable key id", path, kid)
        return None
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError, TypeError, UnsupportedAlgorithm) as exc:
        log.warning("skipping trusted key %s: not a PEM public key (%s)", path, exc)
        return None
    if not isinstance(key, Ed25519PublicKey):
        log.warning("skipping trusted key %s: a %s key, not Ed25519", path, type(key).__name__)
        return None
    return key


def _signed_by(key: Ed25519PublicKey, body: bytes, signature: bytes) -> bool:
    try:
        key.verify(signature, body)
    except InvalidSignature:
        return False
    return True


def _claimed_kid(body: bytes) -> str | None:
    """The `kid` the claims name, read before they are trusted, or None."""
    try:
        obj = json.loads(body)
    except (ValueError, RecursionError):
        return None
    kid = obj.get("kid") if isinstance(obj, dict) else None
    return kid if is_valid_id(kid) else None


def verify_code(
    text: str,
    keys: TrustedKeys,
    now: float,
    plain_id_pattern: str | None = None,
    leeway_s: float = 60,
    max_age_s: Mapping[Role, float] | None = None,
) -> ScanVerdict:
    """Decide whether `text` lets a member in; never raises on the text.

    `leeway_s` is how far the issuer's and the kiosk's clocks may disagree; it
    widens both ends of the validity window. `max_age_s` bounds how long ago a
    code of each role may have been issued, whatever its `exp` says: a photo of
    a staff code must not open maintenance for ever.

    Nothing in the claims is believed before the signature checks out, so any
    change to a code that keeps its shape (three base64url parts) is
    `bad_signature`, except a change that turns the kid into one this kiosk
    does not have, which cannot be told apart from a code by a foreign key
    (`unknown_key`). A code issued in the future is `not_allowed`, not
    `malformed`: it is authentic and well formed, and it becomes usable later
    (like JWT's `nbf`); mostly it means one of the two clocks is wrong.
    """
    text = text.strip()
    if not text:
        return _reject("malformed", "empty scan")
    if len(text) > MAX_CODE_CHARS:
        return _reject("malformed", f"{len(text)} characters, more than the {MAX_CODE_CHARS} a code can have")
    if not text.startswith(CODE_PREFIX + "."):
        return _verify_plain_id(text, now, plain_id_pattern)

    parts = text.split(".")
    if len(parts) != 3:
        return _reject("malformed", f"{len(parts)} dot-separated parts, expected 3")
    body, signature = _b64decode(parts[1]), _b64decode(parts[2])
    if body is None or signature is None:
        return _reject("malformed", "claims or signature is not base64url")
    if len(signature) != SIGNATURE_BYTES:
        return _reject("malformed", f"signature of {len(signature)} bytes, expected {SIGNATURE_BYTES}")

    kid = _claimed_kid(body)
    if kid is None:
        # Claims we cannot read are only the issuer's mistake if a trusted key signed them.
        if keys.signer_of(body, signature) is None:
            return _reject("bad_signature", "unreadable claims not signed by any trusted key")
        return _reject("malformed", "signed claims are not a JSON object with a kid")
    key = keys.get(kid)
    if key is None:
        return _reject("unknown_key", f"kid {kid!r} is not among the trusted keys")
    if not _signed_by(key, body, signature):
        return _reject("bad_signature", f"signature does not match key {kid!r}")
    if _b64encode(body) != parts[1] or _b64encode(signature) != parts[2]:
        # Only the unused low bits of a last character differ: the bytes are
        # genuine but the text is not what was issued, so it was altered.
        return _reject("bad_signature", "non-canonical base64url: the code text was altered")

    try:
        claims = decode(MemberClaims, body)
    except PayloadError as exc:
        return _reject("malformed", f"signed claims are invalid: {exc}")
    if claims.iat > now + leeway_s:
        return _reject("not_allowed", f"issued at {claims.iat:.0f}, after now ({now:.0f}); check both clocks",
                       NOT_YET_VALID)
    if claims.exp is not None and now > claims.exp + leeway_s:
        return _reject("expired", f"expired at {claims.exp:.0f}, now {now:.0f}")
    oldest = max_age_s.get(claims.role) if max_age_s else None
    if oldest is not None and now - claims.iat > oldest + leeway_s:
        return _reject("expired", f"{claims.role} code issued at {claims.iat:.0f} is older than the "
                       f"{oldest / 3600:g} h this kiosk accepts", CODE_TOO_OLD)
    return _accept(claims)


def _verify_plain_id(text: str, now: float, plain_id_pattern: str | None) -> ScanVerdict:
    if plain_id_pattern is None:
        return _reject("not_allowed", "not a signed code and plain membership ids are not accepted here")
    # The id check comes first: it is cheap and bounded, and keeps long input
    # away from an operator-written pattern that might backtrack badly.
    if not is_valid_id(text) or _compiled(plain_id_pattern).fullmatch(text) is None:
        return _reject("not_allowed", "not a signed code and not a membership id accepted here")
    if text.startswith(MEMBER_CODE_PREFIXES):
        # The pattern's floor refuses this already; a pattern from before the floor must not let it through.
        return _reject("not_allowed", "an id of the signed-code form typed as a plain membership id")
    return _accept(MemberClaims(sub=text, role="member", iat=now, kid=PLAIN_ID_KID))


@lru_cache(maxsize=8)
def _compiled(pattern: str) -> "re2._Regexp":
    # Config validation already compiled it once; this keeps scans from compiling it every time.
    return compile_id_pattern(pattern)


def new_signing_key(kid: str, directory: str | Path) -> tuple[Path, Path]:
    """Make a key pair: `<kid>.key` (PKCS#8 PEM, mode 0600) and `<kid>.pem` (public).

    Refuses to overwrite either file: losing a signing key would void every
    code it issued. Returns (private path, public path).
    """
    check_id(kid, "key id")
    directory = Path(directory)
    private_path, public_path = directory / f"{kid}.key", directory / f"{kid}.pem"
    for path in (private_path, public_path):
        if path.exists():
            raise FileExistsError(f"{path} already exists; refusing to overwrite a key")
    directory.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _write_new(private_path, private_pem, 0o600)
    try:
        _write_new(public_path, public_pem, 0o644)
    except OSError:
        private_path.unlink()
        raise
    return private_path, public_path


def _write_new(path: Path, data: bytes, mode: int) -> None:
    # O_EXCL makes "refuse to overwrite" hold even against a concurrent writer;
    # fchmod because the umask may only narrow the mode given to open.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)
        os.write(fd, data)
    finally:
        os.close(fd)


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    """The Ed25519 signing key in a PKCS#8 PEM file, or ValueError naming the file."""
    path = Path(path)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ValueError(f"{path} is not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
    return key
