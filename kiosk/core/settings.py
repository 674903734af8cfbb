"""Kiosk settings from a TOML file and `LEGPRESS_*` environment variables.

Precedence: environment over file over defaults. The file is named by
`LEGPRESS_CONFIG` (or `--config`); nested tables map to variables with `__`,
e.g. `LEGPRESS_TUNING__IDLE_TIMEOUT_S=60`. A wrong setting stops start-up with
one line that names it, because a kiosk that starts half-configured is worse
than one that does not start.
"""

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from kiosk.contract.config import KioskConfig
from kiosk.contract.ids import Id
from kiosk.core.files import private_dir
from kiosk.host.settings_file import SettingsFileError, read_settings, setting_name
from kiosk.mqtt.broker_url import BrokerSettingError, BrokerUrl, login_missing, resolve_broker

ENV_PREFIX = "LEGPRESS_"
DEFAULT_BROKER = "mqtt://127.0.0.1:1883"


def _check_broker(url: str) -> str:
    BrokerUrl.parse(url)
    return url


# Most gyms have fewer members; at the profile size limit this is at most 80 MB of cache.
MAX_MEMBERS = 10_000

CameraKind = Literal["none", "picamera2", "opencv", "files"]


def parse_camera(spec: str) -> tuple[CameraKind, str]:
    """A `LEGPRESS_CAMERA` value as (kind, argument), checked without opening anything.

    The settings own the syntax so a typo stops start-up with one line; `kiosk.core.access.camera`
    turns the parsed value into a source.
    """
    kind, colon, arg = spec.strip().partition(":")
    if not colon and kind == "none":
        return "none", ""
    if not colon and kind == "picamera2":
        return "picamera2", ""
    if colon and kind == "opencv":
        if not (arg.isascii() and arg.isdigit()):
            raise ValueError(f"LEGPRESS_CAMERA={spec!r}: the camera index must be a whole number, e.g. opencv:0")
        return "opencv", arg
    if colon and kind == "files":
        if not arg.strip():
            raise ValueError(f"LEGPRESS_CAMERA={spec!r}: name the folder to watch, e.g. files:/tmp/scans")
        return "files", arg
    raise ValueError(
        f"LEGPRESS_CAMERA={spec!r} is not a camera source: use picamera2, opencv:<index>, files:<dir> or none"
    )


def check_camera(spec: str) -> str:
    """Validate a `LEGPRESS_CAMERA` value without opening the camera."""
    parse_camera(spec)
    return spec


class SettingsError(Exception):
    """A setting that stops start-up; the message is one line naming it."""


class KioskSettings(BaseSettings):
    """What one kiosk needs to start: where it is, where the broker is, what it may trust."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    site: Id
    machine: Id
    broker: Annotated[str, AfterValidator(_check_broker)] = DEFAULT_BROKER
    broker_ca: Path | None = None
    broker_secrets: Path | None = None
    data_dir: Path = Path.home() / ".local" / "share" / "legpress"
    trusted_keys: Path | None = None
    machine_model: Id = "generic-45"
    camera: Annotated[str, AfterValidator(check_camera)] = "none"
    log_level: str = "INFO"
    # The cue sounds (assets/sounds of a checkout when unset); an installed release carries its own copy.
    sounds: Path | None = None
    # Members whose profiles the kiosk keeps offline; the least recently seen are forgotten first.
    profile_cache_members: Annotated[int, Field(ge=10, le=1_000_000)] = MAX_MEMBERS
    tuning: KioskConfig = KioskConfig()

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value.upper()

    @property
    def broker_url(self) -> BrokerUrl:
        """The broker with its credentials and CA, from `broker`, `broker_ca` and `broker_secrets` together."""
        # An explicit `broker` moves a secrets file's credentials to that address; the default does not.
        url = self.broker if "broker" in self.model_fields_set else None
        return resolve_broker(url, self.broker_ca, self.broker_secrets, default=DEFAULT_BROKER)

    @property
    def trusted_keys_dir(self) -> Path:
        return self.trusted_keys or self.data_dir / "trusted_keys"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The TOML file comes from model_config (set by load_settings), not from
        # os.environ, so loading settings never changes the process environment.
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls)


def _setting_name(loc: tuple[int | str, ...]) -> str:
    return setting_name(loc, ENV_PREFIX)


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> KioskSettings:
    """Build the settings or raise `SettingsError` with one readable line."""
    try:
        settings = read_settings(KioskSettings, ENV_PREFIX, config_file, overrides)
    except SettingsFileError as exc:
        raise SettingsError(str(exc)) from None
    _check_broker_access(settings)
    _check_folders(settings)
    return settings


def _check_broker_access(settings: KioskSettings) -> None:
    """The broker settings combine, and a broker off this host is never used without logging in."""
    try:
        url = settings.broker_url
    except BrokerSettingError as exc:
        raise SettingsError(f"setting {_setting_name((exc.setting,))}: {exc}") from None
    if why := login_missing(url, ENV_PREFIX):
        raise SettingsError(why)


def _check_folders(settings: KioskSettings) -> None:
    """The data folder must be writable and the trusted keys, if they exist, a folder."""
    try:
        private_dir(settings.data_dir)
        probe = settings.data_dir / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise SettingsError(f"setting data_dir ({ENV_PREFIX}DATA_DIR): cannot write to {settings.data_dir}: "
                            f"{exc.strerror or exc}") from None
    keys = settings.trusted_keys_dir
    if keys.exists() and not keys.is_dir():
        raise SettingsError(f"setting trusted_keys ({ENV_PREFIX}TRUSTED_KEYS): {keys} is a file, "
                            "not a folder of <kid>.pem keys")
