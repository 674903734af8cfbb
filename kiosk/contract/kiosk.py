"""What a kiosk publishes about itself: status, info, telemetry."""

from typing import Annotated, Literal

from pydantic import Field

from kiosk.contract.base import ReportModel, Timestamp

KioskMode = Literal["idle", "session", "out_of_order", "maintenance"]
LinkState = Literal["ready", "disconnected", "lost"]


class KioskStatus(ReportModel):
    """Retained on `R/kiosk/status`; `lost` comes from the Will, `disconnected` from a clean stop."""

    state: LinkState
    mode: KioskMode = "idle"
    ts: Timestamp
    version: str
    boot: Annotated[int, Field(ge=0)]


class KioskInfo(ReportModel):
    """Retained on `R/kiosk/info`: what this kiosk is and runs."""

    version: str
    machine_model: str
    config_version: str
    contract_version: str
    site: str
    machine: str


class SensorHealth(ReportModel):
    rate_hz: float = 0.0
    last_seen_ts: Timestamp | None = None
    received: int = 0
    invalid: int = 0
    dropped: int = 0
    out_of_range: int = 0
    unknown_fields: int = 0


class LinkHealth(ReportModel):
    connected: bool
    connects: int = 0
    disconnects: int = 0
    callback_errors: int = 0


class JournalHealth(ReportModel):
    """The kiosk's event journal: what waits for the broker, what it holds for `replay`, what it had to drop."""

    held: int = 0
    undelivered: int = 0
    last_eid: int | None = None
    oldest_eid: int | None = None
    pruned: int = 0
    pruned_undelivered: int = 0
    write_errors: int = 0
    last_error: str | None = None


class KioskTelemetry(ReportModel):
    """Published every 30 s on `R/kiosk/telemetry`."""

    ts: Timestamp
    uptime_s: float
    memory_mb: float | None = None
    cpu_temp_c: float | None = None
    fps: float | None = None
    sensor: SensorHealth
    broker: LinkHealth
    journal: JournalHealth | None = None
