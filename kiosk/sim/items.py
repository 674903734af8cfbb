"""The unit of a trace: one message as the sensor node sends it."""

from dataclasses import dataclass
from typing import Literal

Kind = Literal["depth", "event"]


@dataclass(frozen=True)
class TraceItem:
    """One MQTT message: when the node sends it (its clock), to which stream, and the raw payload."""

    ts: float
    kind: Kind
    payload: bytes
