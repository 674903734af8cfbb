"""`mqtt://[user:pass@]host:port` URLs, as `LEGPRESS_BROKER` takes them."""

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True)
class BrokerUrl:
    host: str
    port: int = 1883
    username: str | None = None
    password: str | None = None
    tls: bool = False

    @classmethod
    def parse(cls, url: str) -> "BrokerUrl":
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"broker URL {url!r} is malformed: {exc}") from None
        if parts.scheme not in ("mqtt", "mqtts"):
            raise ValueError(f"broker URL {url!r} must start with mqtt:// or mqtts://")
        if port == 0:
            raise ValueError(f"broker URL {url!r} has port 0; use 1-65535")
        if not parts.hostname:
            raise ValueError(f"broker URL {url!r} has no host")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(f"broker URL {url!r} must be just mqtt://[user:pass@]host:port")
        tls = parts.scheme == "mqtts"
        return cls(
            host=parts.hostname,
            port=port or (8883 if tls else 1883),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=tls,
        )

    def __str__(self) -> str:
        # Never print the password: URLs end up in logs and diagnostics.
        user = f"{self.username}:***@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"
