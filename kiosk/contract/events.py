"""Kiosk events on `R/kiosk/event`, one model per `type`."""

from typing import Annotated, Any, Literal

from pydantic import Field, SerializerFunctionWrapHandler, StringConstraints, TypeAdapter, model_serializer

from kiosk.contract.base import ReportModel, Timestamp
from kiosk.contract.ids import Id
from kiosk.contract.text import ESCAPED_TEXT, PLAIN_TEXT, SESSION_ID_PATTERN

CueId = Literal[
    "liftoff_lumbar",
    "liftoff_pelvis",
    "too_deep",
    "depth_reached",
    "shallow",
    "descent_fast",
    "bounce",
    "lockout",
    "sensor_lost",
    "pain_stop",
    "velocity_loss",
]
Severity = Literal["info", "warn", "stop"]
# Least to most urgent: a more urgent cue goes first on the wire and may replace a less urgent one on screen.
SEVERITY_ORDER: tuple[Severity, ...] = ("info", "warn", "stop")


def severity_rank(severity: Severity) -> int:
    """0 for `info`, growing with urgency."""
    return SEVERITY_ORDER.index(severity)


Role = Literal["member", "staff"]
ScanRejectReason = Literal["bad_signature", "expired", "unknown_key", "malformed", "not_allowed"]
# `seen`: the alert is on a staff screen; `coming`: a named person is on the way to the member.
AssistState = Literal["seen", "coming"]
PainKind = Literal["sharp", "radiating", "numbness", "dull"]
SensorFaultKind = Literal["stale", "rate_low", "invalid_payloads", "out_of_range"]
# `shutdown`: the kiosk itself was stopped (SIGTERM, the service manager), not an operator's command.
SessionEndReason = Literal["logout", "timeout", "command", "shutdown"]
# Why the kiosk calls for staff on its own: a STOP the member has not acknowledged on screen.
AlertReason = Literal["stop_unacknowledged"]
Mm = Annotated[float, Field(ge=-200, le=2000)]
Seconds = Annotated[float, Field(ge=0)]
Velocity = Annotated[float, Field(ge=0, le=10)]
Watts = Annotated[float, Field(ge=0, le=20_000)]
Kg = Annotated[float, Field(ge=0, le=100_000)]


# The largest integer a JSON number carries exactly everywhere (JavaScript's Number.MAX_SAFE_INTEGER).
MAX_SAFE_INT = 2**53 - 1
Eid = Annotated[int, Field(ge=1, le=MAX_SAFE_INT)]
# Ends up in logs, `watch` lines and the members CSV: an id, never free text.
SessionId = Annotated[str, StringConstraints(pattern=SESSION_ID_PATTERN)]
# Free text a kiosk writes for operators, often quoting what it refused: control characters escaped.
Detail = Annotated[str, ESCAPED_TEXT]


class _Event(ReportModel):
    ts: Timestamp
    session: SessionId | None = None
    # Grows by one with every event a kiosk emits and is never reused; a gap means events are missing.
    eid: Eid | None = None
    # Set on copies sent again by the `replay` command.
    replayed: bool | None = None

    @model_serializer(mode="wrap")
    def _leave_out_unset_identity(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # `eid` and `replayed` are the contract's later optional additions: a receiver from before them
        # (or one strict about booleans) sees no field rather than a null.
        data: dict[str, Any] = handler(self)
        for name in ("eid", "replayed"):
            if data.get(name) is None:
                data.pop(name, None)
        return data


class SessionStart(_Event):
    type: Literal["session_start"] = "session_start"
    member: Id
    role: Role


class RepDone(_Event):
    type: Literal["rep"] = "rep"
    rep: Annotated[int, Field(ge=1)]
    depth_mm: Mm
    eccentric_s: Seconds
    concentric_s: Seconds
    # The push, along the sled (absent from kiosks before the training record, and when a push was unclear).
    mean_velocity_mps: Velocity | None = None
    peak_velocity_mps: Velocity | None = None
    rom_mm: Mm | None = None
    power_w: Watts | None = None  # mean concentric power, only when the load and the sled's mechanics are known


class CueRaised(_Event):
    type: Literal["cue"] = "cue"
    cue: CueId
    severity: Severity
    rep: Annotated[int, Field(ge=0)] = 0


class SetEnd(_Event):
    type: Literal["set_end"] = "set_end"
    set_number: Annotated[int, Field(ge=1, alias="set")]
    reps: Annotated[int, Field(ge=0)]
    max_depth_mm: Mm
    liftoffs: Annotated[int, Field(ge=0)]
    stopped: bool = False
    suggestions: Annotated[list[Detail], Field(max_length=10)] = []
    load_kg: Kg | None = None
    best_mean_velocity_mps: Velocity | None = None
    velocity_loss_pct: Annotated[float, Field(ge=0, le=100)] | None = None  # the last rep's fall from the best
    tut_s: Seconds | None = None  # time under tension: every rep from leaving the top to arriving back


class SessionEnd(_Event):
    type: Literal["session_end"] = "session_end"
    reason: SessionEndReason
    sets: Annotated[int, Field(ge=0)]
    reps: Annotated[int, Field(ge=0)]
    member: Id | None = None
    duration_s: Seconds = 0.0
    max_depth_mm: Mm | None = None
    liftoffs: Annotated[int, Field(ge=0)] = 0
    volume_kg: Kg | None = None  # load x reps over the session's sets with a load


class PainReport(_Event):
    type: Literal["pain_report"] = "pain_report"
    member: Id
    kind: PainKind


class AssistTold(_Event):
    """Staff answered the `assist` command: the member was told who saw the alert or who is coming."""

    type: Literal["assist"] = "assist"
    state: AssistState
    by: Annotated[str, Field(min_length=1, max_length=40), PLAIN_TEXT]


class ScanRejected(_Event):
    type: Literal["scan_rejected"] = "scan_rejected"
    reason: ScanRejectReason
    detail: Detail = ""


class SensorFault(_Event):
    type: Literal["sensor_fault"] = "sensor_fault"
    fault: SensorFaultKind
    detail: Detail = ""


class ProfileSaved(_Event):
    type: Literal["profile_saved"] = "profile_saved"
    member: Id
    rev: Annotated[int, Field(ge=0)]


class Alert(_Event):
    """Staff should look at the member now: a STOP was not acknowledged on screen for `waited_s`.

    The member may still be under the weight. Sent again (`repeat` growing) while it stays unacknowledged;
    the session stays open meanwhile instead of timing out.
    """

    type: Literal["alert"] = "alert"
    reason: AlertReason
    member: Id | None = None
    cue: CueId | None = None  # the stop cue left unacknowledged
    waited_s: Seconds = 0.0
    repeat: Annotated[int, Field(ge=1)] = 1


KioskEvent = Annotated[
    SessionStart | RepDone | CueRaised | SetEnd | SessionEnd | PainReport | ScanRejected | SensorFault | ProfileSaved
    | Alert | AssistTold,
    Field(discriminator="type"),
]
KIOSK_EVENT = TypeAdapter(KioskEvent)
