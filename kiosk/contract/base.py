"""Base models and the JSON codec every payload goes through.

Four strictness levels, following the contract:
- `CommandModel`: commands; unknown fields are an error, types strict.
- `ConfigModel`: config; unknown fields are an error, values coerced.
- `SensorModel`: sensor data; strict types, finite numbers, unknown fields
  ignored but kept visible in `model_extra` so the receiver can count them.
- `ReportModel`: what kiosks publish for others; unknown fields from a newer
  kiosk are ignored so old tools keep reading new kiosks.
"""

import json
from typing import Annotated, Any, TypeVar, overload

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from kiosk.contract import MAX_PAYLOAD_BYTES

_COMMON = ConfigDict(allow_inf_nan=False, serialize_by_alias=True, validate_by_name=True, validate_by_alias=True)


class CommandModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, **_COMMON)


class ConfigModel(BaseModel):
    """Configuration: unknown keys are an error, but values are coerced (TOML and env give strings)."""

    model_config = ConfigDict(extra="forbid", **_COMMON)


class SensorModel(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, frozen=True, **_COMMON)

    @property
    def unknown_fields(self) -> list[str]:
        return sorted(self.model_extra or ())


class ReportModel(BaseModel):
    model_config = ConfigDict(extra="ignore", **_COMMON)


# Unix time in seconds on the sender's clock; bounded so a garbage value
# (negative, or year 5000) is rejected rather than stored.
Timestamp = Annotated[float, Field(ge=0, le=32503680000)]
Seq = Annotated[int, Field(ge=0, le=2**63 - 1)]

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class PayloadError(ValueError):
    """A payload that cannot be accepted; `reason` is short and stable for counters."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def describe_validation_error(exc: ValidationError, limit: int = 3) -> str:
    """One readable line out of a pydantic error: `field: problem; ...`."""
    parts = []
    for err in exc.errors()[:limit]:
        where = ".".join(str(p) for p in err["loc"]) or "payload"
        parts.append(f"{where}: {err['msg']}")
    more = exc.error_count() - limit
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


@overload
def decode(model: type[M], payload: bytes | str) -> M: ...
@overload
def decode(model: TypeAdapter[T], payload: bytes | str) -> T: ...
def decode(model: type[M] | TypeAdapter[T], payload: bytes | str) -> M | T:
    """Validate a raw MQTT payload into `model`, or raise `PayloadError`.

    Size is checked before parsing so an oversized payload costs nothing.
    """
    raw = payload.encode() if isinstance(payload, str) else bytes(payload)
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise PayloadError("too_large", f"payload of {len(raw)} bytes is over the {MAX_PAYLOAD_BYTES} byte limit")
    if not raw.strip():
        raise PayloadError("empty", "payload is empty")
    if not raw.lstrip().startswith(b"{"):
        raise PayloadError("not_object", "payload must be a JSON object")
    try:
        if isinstance(model, TypeAdapter):
            return model.validate_json(raw)
        return model.model_validate_json(raw)
    except ValidationError as exc:
        reason = "not_json" if any(e["type"] == "json_invalid" for e in exc.errors()) else "invalid"
        raise PayloadError(reason, describe_validation_error(exc)) from None


def parse_json_object(payload: bytes | str) -> dict[str, Any]:
    """A raw payload as a JSON object, for the few places that merge or peek before validating.

    Same limits and reasons as `decode`; deep nesting is refused, not a crash.
    """
    raw = payload.encode() if isinstance(payload, str) else bytes(payload)
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise PayloadError("too_large", f"payload of {len(raw)} bytes is over the {MAX_PAYLOAD_BYTES} byte limit")
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError("not_json", f"not JSON: {exc}") from None
    except RecursionError:
        raise PayloadError("not_json", "JSON nested too deeply") from None
    if not isinstance(value, dict):
        raise PayloadError("not_object", "payload must be a JSON object")
    return value


def encode(model: BaseModel) -> bytes:
    return model.model_dump_json(by_alias=True).encode()


def as_dict(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True)
