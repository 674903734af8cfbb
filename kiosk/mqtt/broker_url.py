"""Where a client's broker is and how it logs in: `mqtt[s]://[user:pass@]host:port`, a CA file, a secrets file.

Three settings describe it, the same for the kiosk, the simulator and
`legpress-fleet`:
- `LEGPRESS_BROKER`: the URL; `mqtts://` means TLS;
- `LEGPRESS_BROKER_CA`: the PEM file of the CA that signed the broker's
  certificate (default for `mqtts://`: the host's public CAs);
- `LEGPRESS_BROKER_SECRETS`: a `secrets/<user>.toml` written by
  `legpress-fleet broker render` (`username`, `password`, `broker`, `ca`).

The secrets file gives everything; a URL given as well replaces its broker
address, and credentials in that URL replace its username and password; a
CA given as well replaces its CA. So one secrets file can be pointed at
another address (a tunnel, a test port) without copying the password.
"""

import ipaddress
import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")


# `user:password@` after a scheme's `//`: what `masked` hides, even in a URL too broken to parse.
_CREDENTIALS = re.compile(r"(//[^/@:\s]*):[^\s/]*@")


def masked(text: str) -> str:
    """`text` with the password of any `scheme://user:password@host` in it shown as `***`."""
    return _CREDENTIALS.sub(r"\1:***@", text)


@dataclass(frozen=True)
class BrokerUrl:
    """A broker address with the credentials and CA to use on it; `str()` never shows the password."""

    host: str
    port: int = 1883
    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca: Path | None = None

    @classmethod
    def parse(cls, url: str) -> "BrokerUrl":
        # Every complaint quotes the URL with its password masked: these lines reach terminals and logs.
        shown = masked(url)
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"broker URL {shown!r} is malformed: {masked(str(exc))}") from None
        if parts.scheme not in ("mqtt", "mqtts"):
            raise ValueError(f"broker URL {shown!r} must start with mqtt:// or mqtts://")
        if port == 0:
            raise ValueError(f"broker URL {shown!r} has port 0; use 1-65535")
        if not parts.hostname:
            raise ValueError(f"broker URL {shown!r} has no host")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(f"broker URL {shown!r} must be just mqtt://[user:pass@]host:port")
        tls = parts.scheme == "mqtts"
        return cls(
            host=parts.hostname,
            port=port or (8883 if tls else 1883),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=tls,
        )

    @property
    def on_loopback(self) -> bool:
        """The broker is on this host, so nothing said to it crosses a network."""
        if self.host.lower() in LOOPBACK_NAMES:
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    @property
    def address(self) -> str:
        """`scheme://host:port`, no credentials: what a secrets file records as `broker`."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'mqtts' if self.tls else 'mqtt'}://{host}:{self.port}"

    def __str__(self) -> str:
        # Never print the password: URLs end up in logs and diagnostics.
        user = f"{self.username}:***@" if self.username else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{host}:{self.port}"


class BrokerSecrets(BaseModel):
    """One MQTT user's `secrets/<user>.toml`, as `legpress-fleet broker render` writes it (mode 0600)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    username: str = Field(min_length=1, max_length=256, title="MQTT username")
    password: str = Field(min_length=1, max_length=1024, title="MQTT password")
    broker: str = Field(title="Broker address", description="mqtt://host:port or mqtts://host:port")
    ca: Path | None = Field(None, title="CA file",
                            description="PEM file of the CA that signed the broker's certificate")

    @field_validator("username", "password")
    @classmethod
    def _printable(cls, value: str) -> str:
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
            raise ValueError("must not contain control characters")
        return value

    @field_validator("broker")
    @classmethod
    def _url(cls, value: str) -> str:
        url = BrokerUrl.parse(value)
        if url.username:
            raise ValueError("must not carry credentials (they are the username and password fields)")
        return value

    @classmethod
    def load(cls, path: Path) -> "BrokerSecrets":
        """Read a secrets file; a relative `ca` is relative to the file's folder. Raises ValueError in one line."""
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path} is not valid TOML: {exc}") from None
        try:
            secrets = cls.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "file"
            raise ValueError(f"{path}: {where}: {err['msg'].removeprefix('Value error, ')}") from None
        if secrets.ca is not None and not secrets.ca.is_absolute():
            secrets = secrets.model_copy(update={"ca": path.parent / secrets.ca})
        return secrets

    def url(self) -> BrokerUrl:
        return replace(BrokerUrl.parse(self.broker), username=self.username, password=self.password, ca=self.ca)


class BrokerSettingError(ValueError):
    """A broker setting that cannot be used; `setting` names which one (broker, broker_ca or broker_secrets)."""

    def __init__(self, setting: str, message: str):
        super().__init__(message)
        self.setting = setting


def resolve_broker(url: str | None, ca: Path | str | None = None, secrets: Path | str | None = None,
                   default: str = "mqtt://127.0.0.1:1883") -> BrokerUrl:
    """Combine the three broker settings (see the module docstring); raises `BrokerSettingError`."""
    base: BrokerUrl | None = None
    if secrets:
        try:
            base = BrokerSecrets.load(Path(secrets)).url()
        except ValueError as exc:
            raise BrokerSettingError("broker_secrets", str(exc)) from None
    try:
        given = BrokerUrl.parse(url) if url else None
    except ValueError as exc:
        raise BrokerSettingError("broker", str(exc)) from None
    if given is None:
        result = base or BrokerUrl.parse(default)
    elif base is None:
        result = given
    else:
        # The URL moves the secrets to another address; its own credentials, if any, win.
        keep_ca = base.ca if given.tls else None
        result = replace(given, username=given.username or base.username,
                         password=given.password if given.username else base.password, ca=keep_ca)
    if ca:
        if not result.tls:
            raise BrokerSettingError("broker_ca", f"a CA file is set but the broker {result} is not mqtts://")
        result = replace(result, ca=Path(ca))
    if result.ca is not None:
        which = "broker_ca" if ca else "broker_secrets"
        if not result.ca.is_file():
            raise BrokerSettingError(which, f"CA file {result.ca} does not exist")
        try:
            text = result.ca.read_bytes()
        except OSError as exc:
            raise BrokerSettingError(which, f"cannot read CA file {result.ca}: {exc.strerror or exc}") from None
        if b"-----BEGIN CERTIFICATE-----" not in text:
            raise BrokerSettingError(which, f"CA file {result.ca} holds no PEM certificate")
    return result


def login_missing(url: BrokerUrl, env_prefix: str) -> str | None:
    """Why `url` must not be used, or None: only a loopback development broker may let anyone in; anywhere
    else a client without credentials is either refused or on a broker anyone can command."""
    if url.on_loopback or url.username:
        return None
    return (f"setting broker ({env_prefix}BROKER): {url} is not on this host and no credentials are set; "
            f"give mqtt[s]://user:pass@host:port or {env_prefix}BROKER_SECRETS")
