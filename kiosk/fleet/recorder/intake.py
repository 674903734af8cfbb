"""What the recorder keeps of each delivered message: one row, or a reason it was refused.

Kept: kiosk events, kiosk and sensor statuses, telemetry, kiosk info, member
profiles (every revision, for the members report and recovery) and erasures
(a tombstone: who and when, the revisions stay). A kiosk's save of the member
in session (`R/kiosk/profile`) is not kept as such: it is a `ProfileSave` for
the profile desk (desk.py), whose published revision then comes back as a profile.

Every payload is hostile until it fits the contract. A known event type must fit
its contract model; an unknown type from a newer kiosk is still kept by its
envelope (type, ts, session, eid), so the record stays complete, and the reports,
which only read known types, ignore it.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Annotated, Any

from pydantic import Field, StringConstraints, TypeAdapter, ValidationError, field_validator

from kiosk.contract.base import (
    PayloadError,
    ReportModel,
    Timestamp,
    decode,
    describe_validation_error,
    parse_json_object,
)
from kiosk.contract.config import ConfigState, KioskConfig
from kiosk.contract.events import (
    KIOSK_EVENT,
    CueRaised,
    PainReport,
    ProfileSaved,
    RepDone,
    ScanRejected,
    SensorFault,
    SessionEnd,
    SessionStart,
    SetEnd,
)
from kiosk.contract.kiosk import KioskInfo, KioskStatus, KioskTelemetry
from kiosk.contract.profile import EraseRequest, MemberProfile
from kiosk.contract.sensor import SensorStatus
from kiosk.contract.text import SESSION_ID_PATTERN
from kiosk.contract.topics import parse
from kiosk.fleet.recorder.discovery import HomeAssistantWanted

# Twice what a kiosk's cache keeps of a profile (kiosk/core/profiles/cache.py, before unknown fields are
# trimmed): a bigger one is refused and counted, never stored.
MAX_PROFILE_BYTES = 16 * 1024
# What the record keeps of one event, status, telemetry sample or info: a kiosk's largest is a few KiB.
MAX_STORED_BYTES = 16 * 1024
DEFAULT_HEARTBEAT_S = float(KioskConfig.model_fields["telemetry_interval_s"].default)

KNOWN_EVENT_TYPES = frozenset(
    model.model_fields["type"].default
    for model in (SessionStart, RepDone, CueRaised, SetEnd, SessionEnd, PainReport, ScanRejected, SensorFault,
                  ProfileSaved)
)


class EventEnvelope(ReportModel):
    """The fields every kiosk event carries, and the contract's optional `eid` and `replayed`.

    The contract's event models ignore fields they do not name, `eid` among them,
    so the recorder reads the identity through this model.
    """

    type: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
    ts: Timestamp
    # Kiosks send short hex ids; bounded and printable so a hostile one cannot bloat or break a row.
    session: Annotated[str, StringConstraints(pattern=SESSION_ID_PATTERN)] | None = None
    eid: Annotated[int, Field(ge=0, le=2**63 - 1)] | None = None
    replayed: bool = False

    @field_validator("replayed", mode="before")
    @classmethod
    def _null_is_original(cls, value: object) -> object:
        # An optional field sent as null means what leaving it out means: not a replayed copy.
        return False if value is None else value


_ENVELOPE = TypeAdapter(EventEnvelope)


@dataclass(frozen=True)
class EventRow:
    """One kiosk event: identified by (site, machine, eid) with an `eid`, else by (site, machine, session, type, ts)."""

    site: str
    machine: str
    type: str
    ts: float
    session: str | None
    eid: int | None
    replayed: bool
    received_at: float
    payload: str
    member: str | None = None
    cue: str | None = None
    rep: int | None = None
    depth_mm: float | None = None
    # The training record (schema.TRAINING_COLUMNS): a rep's push, a set's load and velocity, a session's volume.
    mean_velocity_mps: float | None = None
    peak_velocity_mps: float | None = None
    rom_mm: float | None = None
    power_w: float | None = None
    load_kg: float | None = None
    best_mean_velocity_mps: float | None = None
    velocity_loss_pct: float | None = None
    tut_s: float | None = None
    reps_counted: int | None = None
    volume_kg: float | None = None


@dataclass(frozen=True)
class StatusRow:
    """A kiosk's or sensor node's retained status; `at` is when it took effect (see `status_row`)."""

    site: str
    machine: str
    source: str  # "kiosk" or "sensor"
    state: str
    mode: str | None
    ts: float
    at: float
    received_at: float
    payload: str


@dataclass(frozen=True)
class TelemetryRow:
    """One telemetry sample of a kiosk; `last_eid` (its journal's newest event, not stored) shows a gap at the end."""

    site: str
    machine: str
    ts: float
    received_at: float
    payload: str
    last_eid: int | None = None


@dataclass(frozen=True)
class InfoRow:
    """What a kiosk is and runs, kept once per distinct combination (a report reads the machine model from it)."""

    site: str
    machine: str
    machine_model: str
    version: str
    config_version: str
    received_at: float


@dataclass(frozen=True)
class ProfileRow:
    """One revision of a member's settings per machine model (JSON); the name is not kept, the id is enough."""

    site: str
    member: str
    rev: int
    updated: float
    received_at: float
    machines: str


@dataclass(frozen=True)
class ProfileErased:
    """An operator erased the member: a tombstone with who (as their erase said) and when it was received.

    The revisions stay: an erasure by a stolen operator login, or a mistaken one, can be undone from them.
    """

    site: str
    member: str
    erased_by: str
    erased_at: float


@dataclass(frozen=True)
class ProfileSave:
    """A kiosk's save of a member's settings, for the profile desk to check and publish; never stored as is."""

    site: str
    machine: str
    member: str
    profile: MemberProfile
    received_at: float


@dataclass(frozen=True)
class EraseAsk:
    """The console asking the profile desk to erase a member (`members/<member>/erase`); never stored as is:
    the desk's clearing of the profile comes back as a `ProfileErased` naming `console.<by>`."""

    site: str
    member: str
    by: str
    received_at: float


UNNAMED_ERASER = "an operator (unnamed)"


@dataclass(frozen=True)
class LostRange:
    """Events `from_eid`..`to_eid` of one kiosk that its `replay` said it no longer holds."""

    site: str
    machine: str
    from_eid: int
    to_eid: int
    recorded_at: float


Row = (EventRow | StatusRow | TelemetryRow | InfoRow | ProfileRow | ProfileErased | ProfileSave | LostRange
       | HomeAssistantWanted | EraseAsk)


class Refused(ValueError):
    """A message the recorder does not keep; `reason` is short and stable, for the counters."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def to_row(topic: str, payload: bytes, received_at: float, erased_by: str | None = None) -> Row:
    """The row to store for a delivered message, or `Refused`; `erased_by`: the erasure's user property."""
    parsed = parse(topic)
    if parsed is not None and parsed.kind == "member_profile" and parsed.member is not None:
        if not payload:
            return ProfileErased(parsed.site, parsed.member, _eraser(erased_by), received_at)
        return _profile_row(topic, parsed.site, parsed.member, payload, received_at)
    if parsed is not None and parsed.kind == "kiosk_profile" and parsed.machine is not None:
        return _profile_save(topic, parsed.site, parsed.machine, payload, received_at)
    if parsed is not None and parsed.kind == "member_erase" and parsed.member is not None:
        return _erase_ask(topic, parsed.site, parsed.member, payload, received_at)
    if parsed is None or parsed.machine is None or parsed.kind not in _READERS:
        raise Refused("foreign_topic", f"{topic!r} is not a topic the recorder keeps")
    if not payload:
        # A retained message withdrawn (a machine taken out of the inventory): nothing to keep.
        raise Refused("empty", f"{topic}: empty payload")
    if len(payload) > MAX_STORED_BYTES:
        # A kiosk's biggest event or telemetry is a few KiB: one past this is a flood, refused and counted.
        raise Refused("too_large", f"{topic}: {len(payload)} bytes, more than the {MAX_STORED_BYTES} the record keeps")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("not_utf8", f"{topic}: payload is not UTF-8") from None
    try:
        fields = parse_json_object(text)
        return _READERS[parsed.kind](parsed.site, parsed.machine, fields, text, received_at)
    except PayloadError as exc:
        raise Refused(exc.reason, f"{topic}: {exc}") from None
    except ValidationError as exc:
        raise Refused("invalid", f"{topic}: {describe_validation_error(exc)}") from None


def _eraser(erased_by: str | None) -> str:
    # Only operators can write a profile topic (the ACL); the name is what their tool said, kept printable.
    if erased_by and is_valid_login(erased_by):
        return erased_by
    return UNNAMED_ERASER


def is_valid_login(name: str) -> bool:
    return 0 < len(name) <= 64 and all(c.isascii() and (c.isalnum() or c in "_-.") for c in name)


def _member_profile(topic: str, payload: bytes) -> MemberProfile:
    if len(payload) > MAX_PROFILE_BYTES:
        raise Refused("too_large", f"{topic}: a profile of {len(payload)} bytes (at most {MAX_PROFILE_BYTES})")
    try:
        return MemberProfile.model_validate(parse_json_object(payload))
    except PayloadError as exc:
        raise Refused(exc.reason, f"{topic}: {exc}") from None
    except ValidationError as exc:
        raise Refused("invalid", f"{topic}: {describe_validation_error(exc)}") from None


def _profile_save(topic: str, site: str, machine: str, payload: bytes, received_at: float) -> ProfileSave:
    profile = _member_profile(topic, payload)
    return ProfileSave(site, machine, profile.member, profile, received_at)


def _erase_ask(topic: str, site: str, member: str, payload: bytes, received_at: float) -> EraseAsk:
    try:
        request = decode(EraseRequest, payload)
    except PayloadError as exc:
        raise Refused("invalid", f"{topic}: not an erase request: {exc}") from None
    return EraseAsk(site, member, request.by, received_at)


def _profile_row(topic: str, site: str, member: str, payload: bytes, received_at: float) -> ProfileRow:
    profile = _member_profile(topic, payload)
    if profile.member != member:
        raise Refused("invalid", f"{topic}: the profile is {profile.member}'s, not {member}'s")
    machines = json.dumps({model: s.model_dump(mode="json") for model, s in profile.machines.items()},
                          sort_keys=True)
    return ProfileRow(site, member, profile.rev, profile.updated, received_at, machines)


def _info_row(site: str, machine: str, fields: dict[str, Any], _text: str, received_at: float) -> InfoRow:
    info = KioskInfo.model_validate(fields)
    return InfoRow(site, machine, info.machine_model[:64], info.version[:64], info.config_version[:64], received_at)


def _event_row(site: str, machine: str, fields: dict[str, Any], text: str, received_at: float) -> EventRow:
    envelope = _ENVELOPE.validate_python(fields)
    row = EventRow(site, machine, envelope.type, envelope.ts, envelope.session, envelope.eid, envelope.replayed,
                   received_at, text)
    if envelope.type not in KNOWN_EVENT_TYPES:
        return row
    event = KIOSK_EVENT.validate_python(fields)
    extra: dict[str, Any] = {}
    if isinstance(event, (SessionStart, PainReport, ProfileSaved, SessionEnd)):
        extra["member"] = event.member
    if isinstance(event, CueRaised):
        extra.update(cue=event.cue, rep=event.rep)
    if isinstance(event, RepDone):
        extra.update(rep=event.rep, depth_mm=event.depth_mm)
    extra.update(_training(event))
    return replace(row, **extra)


def _training(event: object) -> dict[str, Any]:
    if isinstance(event, RepDone):
        return {"mean_velocity_mps": event.mean_velocity_mps, "peak_velocity_mps": event.peak_velocity_mps,
                "rom_mm": event.rom_mm, "power_w": event.power_w}
    if isinstance(event, SetEnd):
        return {"load_kg": event.load_kg, "best_mean_velocity_mps": event.best_mean_velocity_mps,
                "velocity_loss_pct": event.velocity_loss_pct, "tut_s": event.tut_s, "reps_counted": event.reps}
    if isinstance(event, SessionEnd):
        return {"volume_kg": event.volume_kg, "reps_counted": event.reps}
    return {}


def training_figures(payload: str) -> dict[str, Any]:
    """The training record's columns of one stored event's payload; empty when it does not fit its contract model.

    For the schema's backfill: a payload stored before the columns existed was kept by its envelope and
    may be anything a kiosk sent, so a bad one is skipped, never a failed migration.
    """
    try:
        event = KIOSK_EVENT.validate_python(parse_json_object(payload))
    except (PayloadError, ValidationError):
        return {}
    return _training(event)


def _kiosk_status_row(site: str, machine: str, fields: dict[str, Any], text: str, received_at: float) -> StatusRow:
    status = KioskStatus.model_validate(fields)
    return StatusRow(site, machine, "kiosk", status.state, status.mode, status.ts,
                     _took_effect(status.state, status.ts, received_at), received_at, text)


def _sensor_status_row(site: str, machine: str, fields: dict[str, Any], text: str, received_at: float) -> StatusRow:
    status = SensorStatus.model_validate(fields)
    return StatusRow(site, machine, "sensor", status.state, None, status.ts,
                     _took_effect(status.state, status.ts, received_at), received_at, text)


def _took_effect(state: str, ts: float, received_at: float) -> float:
    # A `lost` status is the Will, written when its sender connected: its `ts` is that
    # connect, not the loss. The broker publishes it when the loss happens, so the
    # recorder's receipt is the best moment known for it.
    return received_at if state == "lost" else ts


def _telemetry_row(site: str, machine: str, fields: dict[str, Any], text: str, received_at: float) -> TelemetryRow:
    telemetry = KioskTelemetry.model_validate(fields)
    last_eid = telemetry.journal.last_eid if telemetry.journal is not None else None
    return TelemetryRow(site, machine, telemetry.ts, received_at, text, last_eid)


def _config_state_row(site: str, machine: str, fields: dict[str, Any], _text: str,
                      _received_at: float) -> HomeAssistantWanted:
    state = ConfigState.model_validate(fields)
    heartbeat = state.config.get("telemetry_interval_s")
    if isinstance(heartbeat, bool) or not isinstance(heartbeat, (int, float)) or not 1 <= heartbeat <= 3600:
        heartbeat = DEFAULT_HEARTBEAT_S  # what a kiosk uses unless its config says otherwise
    return HomeAssistantWanted(site, machine, state.config.get("home_assistant") is True, float(heartbeat))


_READERS: dict[str, Callable[[str, str, dict[str, Any], str, float], Row]] = {
    "kiosk_config_state": _config_state_row,
    "kiosk_event": _event_row,
    "kiosk_status": _kiosk_status_row,
    "sensor_status": _sensor_status_row,
    "kiosk_telemetry": _telemetry_row,
    "kiosk_info": _info_row,
}
