"""What the machine's sensor node publishes under `R/sensor/`."""

from typing import Annotated, Literal

from pydantic import Field

from kiosk.contract.base import ReportModel, SensorModel, Seq, Timestamp

# Sled travel in mm. A real sled travels well under 1.5 m; the range is wide
# enough for any machine and calibration offset yet rejects garbage.
TravelMm = Annotated[float, Field(ge=-200.0, le=2000.0)]


class DepthSample(SensorModel):
    """Sled travel from full extension: 0 with legs extended, growing as the sled comes down."""

    seq: Seq
    ts: Timestamp
    mm: TravelMm


LiftoffZone = Literal["lumbar", "pelvis"]


class LiftoffEvent(SensorModel):
    """The lower back (`lumbar`) or the hips (`pelvis`) left (`start`) or returned to (`end`) their pad."""

    seq: Seq
    ts: Timestamp
    type: Literal["liftoff"]
    zone: LiftoffZone
    state: Literal["start", "end"]


SensorState = Literal["ready", "disconnected", "lost"]


class SensorStatus(ReportModel):
    """Retained health of the sensor node; the broker publishes `lost` as its Will.

    `fault` (optional, added in v1): what is wrong with the node's hardware while it is
    connected but cannot measure (a sensor not answering, a wire out of range); while it
    is set the node sends no depth rather than a made-up one.
    """

    state: SensorState
    ts: Timestamp
    fw: Annotated[str, Field(max_length=64)] = ""
    rate_hz: Annotated[float, Field(ge=0, le=10_000)] = 0.0
    fault: Annotated[str, Field(max_length=200)] | None = None
