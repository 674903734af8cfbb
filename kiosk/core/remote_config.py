"""Config pushed by operators, layered: the kiosk's own file, then the site's push, then this kiosk's.

A push is validated as the whole merged result before it replaces anything;
a bad one is refused with a readable error and the config in force stays.
"""

from typing import Any, Literal

from pydantic import ValidationError

from kiosk.contract.base import describe_validation_error, parse_json_object
from kiosk.contract.config import ConfigState, KioskConfig, merge_config

Scope = Literal["site", "kiosk"]


class ConfigKeeper:
    """Holds the layers and the config in force."""

    def __init__(self, base: KioskConfig):
        self._base = base.model_dump(mode="json")
        self._patches: dict[Scope, dict[str, Any]] = {"site": {}, "kiosk": {}}
        self.applied = base
        self.error: str | None = None

    def offer(self, scope: Scope, payload: bytes) -> bool:
        """Apply a pushed patch (empty payload: withdraw it); False if refused, see `error`."""
        try:
            patch = _parse_patch(payload)
            candidate = {**self._patches, scope: patch}
            merged = merge_config(merge_config(self._base, candidate["site"]), candidate["kiosk"])
            config = KioskConfig.model_validate(merged)
        except ValueError as exc:
            detail = describe_validation_error(exc) if isinstance(exc, ValidationError) else str(exc)
            self.error = f"{scope} config refused, previous config kept: {detail}"
            return False
        self._patches[scope] = patch
        self.applied, self.error = config, None
        return True

    def state(self) -> ConfigState:
        return ConfigState(status="error" if self.error else "ok", error=self.error,
                           config=self.applied.model_dump(mode="json"), version=self.applied.version)


def _parse_patch(payload: bytes) -> dict[str, Any]:
    return parse_json_object(payload) if payload else {}
