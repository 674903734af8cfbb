"""Kiosk configuration that operators push (`R/kiosk/config/set`, `gym/v1/{site}/config/set`).

A pushed payload is any subset of `KioskConfig`; the kiosk merges it over the
site config and its own file, validates the whole, and either applies it or
keeps the old one and reports the error on `R/kiosk/config/state`.
"""

import importlib
import re
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from kiosk.contract.base import ConfigModel, ReportModel
from kiosk.contract.ids import Id

# The parse tree is the only way to see nested repeats. re's parser is private and has no stub
# (typeshed's sre_parse gets the repeat operands wrong), so it is imported as a plain module and
# its tree typed below as what `_nested_repeat` reads: (opcode, operands) pairs whose operands'
# shape depends on the opcode.
re_constants = importlib.import_module("re._constants")
re_parser = importlib.import_module("re._parser")
_ParseTree = Iterable[tuple[object, Any]]

PositiveS = Annotated[float, Field(gt=0, le=3600)]


class MachineGeometry(ConfigModel):
    """A machine model's mechanics: notch numbers mean different angles on different machines."""

    machine_type: Literal["sled_45", "horizontal"] = "sled_45"
    travel_mm: Annotated[float, Field(gt=50, le=1500)] = 500.0
    backrest_angles_deg: Annotated[list[float], Field(min_length=1, max_length=30)] = [
        30.0, 35.0, 40.0, 45.0, 50.0, 55.0, 60.0, 65.0,
    ]
    seat_notches: Annotated[int, Field(ge=1, le=30)] = 1

    @model_validator(mode="after")
    def _angles_sane(self) -> "MachineGeometry":
        if any(not 0 <= a <= 90 for a in self.backrest_angles_deg):
            raise ValueError("backrest angles must be between 0 and 90 degrees")
        return self

    @property
    def backrest_notches(self) -> int:
        return len(self.backrest_angles_deg)


class CueThresholds(ConfigModel):
    """Cue engine thresholds; defaults follow shared/domain/legpress-guidance.md."""

    descent_fast_s: Annotated[float, Field(gt=0, le=10)] = 2.0
    shallow_fraction: Annotated[float, Field(gt=0, lt=1)] = 0.75
    depth_reached_tolerance_mm: Annotated[float, Field(ge=0, le=100)] = 5.0
    lockout_margin_mm: Annotated[float, Field(ge=0, le=200)] = 0.0
    bounce_mm_s2: Annotated[float, Field(gt=0, le=100_000)] = 6000.0
    hysteresis_mm: Annotated[float, Field(gt=0, le=100)] = 15.0
    liftoff_margin_mm: Annotated[float, Field(ge=0, le=200)] = 30.0
    sensor_lost_s: Annotated[float, Field(gt=0, le=30)] = 1.0
    set_rest_s: Annotated[float, Field(gt=0, le=120)] = 4.0
    repeat_s: Annotated[float, Field(ge=0, le=120)] = 6.0
    lumbar_liftoffs_to_stop: Annotated[int, Field(ge=1, le=10)] = 2


class KioskConfig(ConfigModel):
    """Everything an operator may tune remotely, with the defaults a kiosk starts from."""

    version: Annotated[str, Field(max_length=64)] = "default"
    idle_timeout_s: PositiveS = 90.0
    telemetry_interval_s: Annotated[float, Field(ge=1, le=3600)] = 30.0
    sound: bool = True
    member_id_pattern: Annotated[str, Field(max_length=200)] | None = None
    scan_repeat_s: Annotated[float, Field(ge=0, le=60)] = 3.0
    cues: CueThresholds = CueThresholds()
    machine_models: dict[Id, MachineGeometry] = {}

    @model_validator(mode="after")
    def _pattern_is_safe(self) -> "KioskConfig":
        if self.member_id_pattern is not None:
            check_id_pattern(self.member_id_pattern)
        return self


def check_id_pattern(pattern: str) -> None:
    """Refuse a membership-id pattern that does not compile or could backtrack for minutes.

    Python's `re` has no time limit, and a pattern like `(a+)+b` on a
    32-character scan would freeze the kiosk; nested repeats are what cause it.
    """
    try:
        parsed = re_parser.parse(pattern)
    except re.error as exc:
        raise ValueError(f"member_id_pattern is not a valid regular expression: {exc}") from None
    if _nested_repeat(parsed, inside_repeat=False):
        raise ValueError("member_id_pattern repeats a group that itself repeats (like (a+)+); "
                         "write it without nested repeats")


def _nested_repeat(items: _ParseTree, inside_repeat: bool) -> bool:
    for op, arg in items:
        if op in (re_constants.MAX_REPEAT, re_constants.MIN_REPEAT, re_constants.POSSESSIVE_REPEAT):
            low, high, sub = arg
            if inside_repeat or _nested_repeat(sub, inside_repeat=high > 1):
                return True
        elif op is re_constants.SUBPATTERN:
            if _nested_repeat(arg[-1], inside_repeat):
                return True
        elif op is re_constants.BRANCH and any(_nested_repeat(branch, inside_repeat) for branch in arg[1]):
            return True
    return False


def merge_config(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge `patch` over `base`: tables merge key by key, anything else replaces."""
    merged = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_config(merged[key], value)
        else:
            merged[key] = value
    return merged


class ConfigState(ReportModel):
    """Retained on `R/kiosk/config/state`: the config in force and whether the last push was taken."""

    status: Literal["ok", "error"]
    error: str | None = None
    config: dict[str, Any]
    version: str
