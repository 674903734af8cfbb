"""Config pushed by operators, layered: the kiosk's own file, then the site's push, then this kiosk's.

Each pushed layer is validated on its own (over the defaults) and then as the
merged whole, before it replaces anything: a bad one is refused with a
readable error, and every layer in force stays as it was. Withdrawing a layer
(an empty retained payload) is always possible. Both checks include the
safety floors: the limits of `KioskConfig`'s fields, and a travel for this
kiosk's own machine model close to the one configured on the kiosk itself.

The layers in force are kept on disk (`config_layers.json`) and restored at
start, before any retained push arrives: a kiosk that restarts while the
broker retains a push it refuses stays on its last good config, as its
neighbours do, rather than falling back to its file and silently differing.
"""

import json
import logging
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from kiosk.contract.base import describe_validation_error, parse_json_object
from kiosk.contract.config import ConfigState, KioskConfig, merge_config
from kiosk.core.machine.models import DEFAULT_GEOMETRY, check_travel
from kiosk.host.private_files import write_private

log = logging.getLogger(__name__)

Scope = Literal["site", "kiosk"]
_DEFAULTS = KioskConfig().model_dump(mode="json")
LAYERS_FILE = "config_layers.json"


class ConfigKeeper:
    """Holds the layers and the config in force.

    `machine_model` is the model this kiosk stands beside; the travel its own
    config file gives that model (or the default geometry's) is the reference
    a pushed travel must stay close to.
    """

    def __init__(self, base: KioskConfig, machine_model: str | None = None):
        self._base = base.model_dump(mode="json")
        self._patches: dict[Scope, dict[str, Any]] = {"site": {}, "kiosk": {}}
        self._model = machine_model
        self._local_travel_mm = base.machine_models.get(machine_model or "", DEFAULT_GEOMETRY).travel_mm
        self.applied = base
        self.error: str | None = None

    def offer(self, scope: Scope, payload: bytes) -> bool:
        """Apply a pushed patch (empty payload: withdraw it); False if refused, see `error`."""
        try:
            patch = _parse_patch(payload)
            if patch:
                # On its own first: a layer that is no config by itself must not hide behind another one.
                self._check_layer(patch)
            candidate = {**self._patches, scope: patch}
            config = self._validated(merge_config(merge_config(self._base, candidate["site"]), candidate["kiosk"]))
        except ValueError as exc:
            detail = describe_validation_error(exc) if isinstance(exc, ValidationError) else str(exc)
            if payload:
                self.error = f"{scope} config refused, previous config kept: {detail}"
                return False
            # A withdrawal is never refused: what remains without it falls back to the kiosk's own file.
            self._patches = {"site": {}, "kiosk": {}}
            self.applied = KioskConfig.model_validate(self._base)
            self.error = f"{scope} config withdrawn; the other layer no longer applied alone ({detail}), " \
                "so the kiosk's own config is in force"
            return True
        self._patches[scope] = patch
        self.applied, self.error = config, None
        return True

    def save(self, data_dir: Path) -> None:
        """Keep the layers in force for the next start (after each push applied or withdrawn)."""
        try:
            write_private(data_dir / LAYERS_FILE, json.dumps(self._patches, sort_keys=True))
        except OSError as exc:
            log.error("could not keep the applied config in %s: %s", data_dir / LAYERS_FILE, exc)

    def restore(self, data_dir: Path) -> bool:
        """Put back the layers the last run kept; True if they apply. Unreadable or refused: the file's config."""
        path = data_dir / LAYERS_FILE
        try:
            kept = json.loads(path.read_text())
            patches: dict[Scope, dict[str, Any]] = {"site": dict(kept["site"]), "kiosk": dict(kept["kiosk"])}
            for patch in patches.values():
                if patch:
                    self._check_layer(patch)
            config = self._validated(merge_config(merge_config(self._base, patches["site"]), patches["kiosk"]))
        except FileNotFoundError:
            return False
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # The kiosk's own file may have changed since (another travel): its config is the safe one.
            detail = describe_validation_error(exc) if isinstance(exc, ValidationError) else str(exc)
            log.warning("the config kept in %s no longer applies (%s); starting from the kiosk's own", path, detail)
            return False
        self._patches, self.applied, self.error = patches, config, None
        return True

    def _check_layer(self, patch: dict[str, Any]) -> None:
        layer = KioskConfig.model_validate(merge_config(_DEFAULTS, patch))
        # Over the defaults, a layer that leaves the travel alone would seem to set the default one.
        models = patch.get("machine_models")
        own = models.get(self._model) if isinstance(models, dict) and self._model is not None else None
        if self._model is not None and isinstance(own, dict) and "travel_mm" in own:
            check_travel(self._model, layer.machine_models[self._model].travel_mm, self._local_travel_mm)

    def _validated(self, data: dict[str, Any]) -> KioskConfig:
        config = KioskConfig.model_validate(data)
        if self._model is not None and self._model in config.machine_models:
            check_travel(self._model, config.machine_models[self._model].travel_mm, self._local_travel_mm)
        return config

    def state(self) -> ConfigState:
        return ConfigState(status="error" if self.error else "ok", error=self.error,
                           config=self.applied.model_dump(mode="json"), version=self.applied.version)


def _parse_patch(payload: bytes) -> dict[str, Any]:
    return parse_json_object(payload) if payload else {}
