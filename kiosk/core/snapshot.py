"""What the screen may know of the core: one read-only snapshot, made on the core thread.

The screen reads `Kiosk.snapshot` (a reference swap, so it never sees half an
update) and calls the kiosk's thread-safe inputs; it reads nothing else of
the core. A new snapshot is taken before every observer call, so an event
the screen receives is never newer than the snapshot it then reads, and at
most about every frame while sensor samples stream in.
"""

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

from kiosk.contract.config import MachineGeometry
from kiosk.contract.events import Role
from kiosk.contract.kiosk import KioskMode
from kiosk.contract.profile import MachineSettings, Visit
from kiosk.core.machine.calibration import SledCalibration
from kiosk.words import wording
from kiosk.words.language import DEFAULT, speaking


class SetupProgress(BaseModel):
    """The guided setup as the screen shows it: counting slow reps, or done (the result is in the settings)."""

    model_config = ConfigDict(frozen=True)

    session: str
    stage: Literal["reps", "done", "skipped"]
    reps_done: int
    reps_needed: int
    fast_reps: int
    lifted_reps: int = 0  # reps not counted because the back or the hips left their pad
    # Once done: the range exactly as saved in the member's settings (after the safety floors).
    target_depth_mm: float | None = None
    top_mm: float | None = None
    max_depth_mm: float | None = None


class ScanFeedback(BaseModel):
    """What the screen says right after a scan, accepted or not.

    `message` is the line in English (logs, tests); the screen shows `text()`, built from `message_id` and
    `fills` in its own language, again whenever that changes. Make one with `ScanFeedback.told`.
    """

    accepted: bool
    message: str
    member: str | None = None
    name: str = ""
    role: Role | None = None
    message_id: str = ""  # wording's message id; empty: `message` is its own id (a constant's English)
    fills: dict[str, str] = {}

    @classmethod
    def told(cls, accepted: bool, message_id: str, fills: dict[str, str] | None = None, *,
             member: str | None = None, name: str = "", role: Role | None = None) -> "ScanFeedback":
        with speaking(DEFAULT):
            english = wording.told(message_id, fills)
        return cls(accepted=accepted, message=english, member=member, name=name, role=role,
                   message_id=message_id, fills=dict(fills or {}))

    def text(self) -> str:
        """The line in the current language (`kiosk.words.language`)."""
        return wording.told(self.message_id or self.message, self.fills)


class LastVisit(BaseModel):
    """Told at tap-in to a member with a history on this machine: what they did last time."""

    member: str
    visit: Visit
    load_kg: float | None = None  # the load the stepper starts from


class OperatorNotice(BaseModel):
    """What operators told this kiosk to show: out of order, back in service, or a message."""

    kind: Literal["out_of_order", "in_service", "message"]
    text: str
    seconds: float = 0.0


@dataclass(frozen=True)
class SledReading:
    """The sensor node as the maintenance screen and the depth gauge see it."""

    mm: float | None  # calibrated travel from full extension
    raw_mm: float | None  # as the sensor sent it
    sensor_ts: float | None  # the sample's own time, on the sensor's clock
    received: int  # samples accepted so far; a new value means a new sample
    invalid: int
    dropped: int
    rate_hz: float
    silent_s: float | None  # since the last sample, on the kiosk clock; None: nothing yet
    lumbar_lifted: bool
    pelvis_lifted: bool


@dataclass(frozen=True)
class MemberAtMachine:
    """The member whose session is on."""

    session: str
    member: str
    name: str
    role: Role
    settings: MachineSettings
    first_time: bool
    language: str | None = None  # the profile's BCP 47 tag; None: the site's default


@dataclass(frozen=True)
class KioskSnapshot:
    """Everything the screen shows of the kiosk, as of `taken_at` (kiosk clock)."""

    taken_at: float
    mode: KioskMode
    site: str
    machine: str
    machine_model: str
    geometry: MachineGeometry
    config_version: str
    sound: bool
    sensor_lost_s: float
    member: MemberAtMachine | None
    set_open: bool  # the member is in a set: reps are being counted
    setup: SetupProgress | None  # a first-timer's guided setup, while it runs and once it has learnt
    sled: SledReading
    calibration: SledCalibration | None  # None until the kiosk has started
    calibration_undo: bool  # an earlier calibration is kept, for the maintenance screen's Undo
    broker_connected: bool
    broker_connects: int
    broker_disconnects: int
    camera: str  # the camera setting: `none`, `files:...`, `picamera2`, ...
    camera_running: bool
    camera_error: str | None
    fps: float | None  # the screen's real display rate (frames drawn a second), as it reported it
    log_lines: tuple[str, ...]  # the kiosk's last warnings and errors, newest first
