"""What each operator command answers with: the `data` of its `CommandReply` on `R/kiosk/res/{name}`.

One model per command, so a script knows what it gets and docs/mqtt.md shows
it. Like every report, receivers ignore fields they do not know: a newer
kiosk may add some.
"""

from typing import Annotated

from pydantic import Field

from kiosk.contract.base import ReportModel, Timestamp
from kiosk.contract.events import AssistState
from kiosk.contract.kiosk import KioskMode, KioskTelemetry


class ModeReply(ReportModel):
    """`out_of_order` and `in_service`: the mode the kiosk is in now (maintenance stays until staff leave).

    An `out_of_order` that cut a member's session short says so, and whether they were mid-set (maybe still
    under the weight), so the operator who sent it knows to go and look.
    """

    mode: KioskMode
    ended_session: str | None = Field(
        None, description="`out_of_order`: the member's session it ended; null when nobody was training.")
    mid_set: bool = Field(
        False, description="`out_of_order`: that member was in a set (reps being counted) when it arrived.")


class MessageShown(ReportModel):
    """`message`: how long the text stays on screen."""

    shown_s: float


class SessionEnded(ReportModel):
    """`end_session`: the session that was ended, or null when nobody was at the machine."""

    ended_session: str | None


class Republished(ReportModel):
    """`rebirth`: the retained topics published again."""

    republished: list[str]


class AssistShown(ReportModel):
    """`assist`: what the member's screen now says, and the session it was told in (null when none is open)."""

    state: AssistState
    by: str
    session: str | None


class Restarting(ReportModel):
    """`restart`: the kiosk leaves after this reply; its service manager starts it again."""

    restarting: bool


class SelfTestChecks(ReportModel):
    """Each check the self-test makes; the report is `ok` when all pass."""

    broker: bool = Field(description="connected to the broker, every subscription acknowledged")
    sensor_live: bool = Field(description="a depth sample arrived within the sensor-lost time")
    sensor_rate_ok: bool = Field(description="the sensor node sends at least 20 samples a second")
    trusted_keys: bool = Field(description="at least one public key to check member codes with")
    camera: bool = Field(description="the camera runs, or none is configured")
    calibrated: bool = Field(description="the sled sensor has been calibrated at both ends")


class CalibrationReport(ReportModel):
    """The sled calibration in force: raw readings at both ends of the travel, and when the pads were checked."""

    zero_raw_mm: float
    full_raw_mm: float | None = None
    travel_mm: float
    calibrated_at: Timestamp | None = None
    pads_checked: dict[str, Timestamp] = {}


class ProfileCounts(ReportModel):
    """What the kiosk's profile cache has done since it started."""

    received: int = 0
    stored: int = 0
    stale_ignored: int = 0
    invalid: int = 0
    erased: int = 0
    saves_held: int = Field(0, description="Saves made on this kiosk and not yet acknowledged by the broker.")
    saves_published: int = Field(0, description="Saves made on this kiosk and published for the profile desk.")
    saves_waiting: int = Field(
        0, description="Saves held for a member the cache forgot, until their retained profile comes in again.")


class LinkCounts(ReportModel):
    """The broker link since the kiosk started."""

    connects: int = 0
    disconnects: int = 0
    refused: int = 0
    callback_errors: int = 0
    received: int = 0
    last_error: str = ""


class CommandCounts(ReportModel):
    """Operator commands answered `ok` and `error` since the kiosk started."""

    handled: int = 0
    refused: int = 0


class DiagnosticsReport(ReportModel):
    """`diagnostics`: the self-test, the same one the maintenance screen shows."""

    ok: bool
    checks: SelfTestChecks
    mode: KioskMode
    version: str
    config_version: str
    machine_model: str
    boot: Annotated[int, Field(ge=0)]
    telemetry: KioskTelemetry
    camera: str = Field(description="what the camera test saw, in the technician's words")
    calibration: CalibrationReport
    pads_lifted: dict[str, bool]
    profiles: ProfileCounts
    link: LinkCounts
    commands: CommandCounts
    core_errors: int = Field(description="jobs on the core thread that raised (each one logged)")
    core_overflows: int = Field(description="inputs dropped because the core thread's queue was full")
    trusted_key_ids: list[str]


class EidRange(ReportModel):
    """Events `from_eid` to `to_eid`, both included."""

    from_eid: int
    to_eid: int


class Replayed(ReportModel):
    """`replay`: how many events were published again, and the parts of the range this kiosk no longer holds."""

    sent: int
    missing: list[EidRange] = Field(description="ranges asked for that the journal no longer holds (or never had)")
    truncated_at: int | None = Field(
        default=None, description="a range longer than one request may cover stops after this eid; ask again")
    skipped: list[EidRange] = Field(
        default_factory=list,
        description="parts of `missing` this kiosk skipped when it started after a power cut, so that no eid "
        "is used twice: any of them a receiver holds is the only copy, the rest were never used")
    retry_after_s: float | None = Field(
        default=None, description="nothing was sent: the same range was replayed moments ago, or replays are "
        "over the kiosk's rate; ask again after this many seconds (`truncated_at` is then `from_eid - 1`)")


# The reply `data` of each contract command, by command name.
REPLIES: dict[str, type[ReportModel]] = {
    "out_of_order": ModeReply,
    "in_service": ModeReply,
    "message": MessageShown,
    "end_session": SessionEnded,
    "diagnostics": DiagnosticsReport,
    "rebirth": Republished,
    "restart": Restarting,
    "replay": Replayed,
    "assist": AssistShown,
}
