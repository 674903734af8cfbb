"""Settings from a TOML file and the environment, or one line saying which setting is wrong.

The kiosk and the sensor node both read pydantic-settings models this way: keyword overrides, then
`<PREFIX>...` environment variables, then the TOML file named by the argument or `<PREFIX>CONFIG`. A
technician at the machine reads the one line (`setting broker_ca (LEGPRESS_BROKER_CA): ...`), so a
validation error names the setting as they would set it, in the file and in the environment.
"""

import os
import tomllib
from collections.abc import Collection
from pathlib import Path
from typing import Any, TypeVar, cast

from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError as PydanticSettingsError

Settings = TypeVar("Settings", bound=BaseSettings)


class SettingsFileError(ValueError):
    """A setting that stops the program from starting; the message is one line naming it."""


def setting_name(loc: tuple[int | str, ...], env_prefix: str, skip: Collection[str] = ()) -> str:
    """`broker_ca (LEGPRESS_BROKER_CA)` for a validation error's location; `skip`: path parts that are not
    settings (a discriminated union puts the chosen kind in the path, the variable has no such part)."""
    path = [str(p) for p in loc if not isinstance(p, int) and p not in skip]
    env = env_prefix + "__".join(p.upper() for p in path)
    return f"{'.'.join(path)} ({env})" if path else "settings"


def read_settings(settings_cls: type[Settings], env_prefix: str, config_file: str | Path | None,
                  overrides: dict[str, Any], skip: Collection[str] = ()) -> Settings:
    """Build `settings_cls` or raise `SettingsFileError` with one readable line.

    The class's `settings_customise_sources` must read `toml_file` from its model_config: the file is set
    on a subclass made here, so loading never changes `os.environ`.
    """
    toml_file = config_file or os.environ.get(f"{env_prefix}CONFIG")
    cls = settings_cls
    if toml_file:
        path = Path(toml_file)
        if not path.is_file():
            raise SettingsFileError(f"config file {path} ({env_prefix}CONFIG) does not exist")
        try:
            tomllib.loads(path.read_text())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsFileError(f"config file {path} is not valid TOML: {exc}") from None
        # A subclass under the same name, so messages and reprs still say the class's name; cast because
        # typeshed types three-argument type() as plain `type`, not as a subclass of its base.
        cls = cast(type[Settings], type(settings_cls.__name__, (settings_cls,), {
            "model_config": SettingsConfigDict(**{**settings_cls.model_config, "toml_file": path}),
            "__module__": settings_cls.__module__,
        }))
    try:
        return cls(**overrides)
    except PydanticSettingsError as exc:
        # Raised for an environment value that should be JSON (a whole table) and is not.
        raise SettingsFileError(f"settings: {exc}") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        value = err.get("input")
        shown = "" if err["type"] == "missing" or isinstance(value, dict) else f" (got {value!r})"
        msg = err["msg"].removeprefix("Value error, ")
        more = f" [+{exc.error_count() - 1} more]" if exc.error_count() > 1 else ""
        where = f"setting {setting_name(err['loc'], env_prefix, skip)}" if err["loc"] else "settings"
        raise SettingsFileError(f"{where}: {msg}{shown}{more}") from None
