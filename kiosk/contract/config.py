"""Kiosk configuration that operators push (`R/kiosk/config/set`, `gym/v1/{site}/config/set`).

A pushed payload is any subset of `KioskConfig`; the kiosk merges it over the
site config and its own file, validates the whole, and either applies it or
keeps the old one and reports the error on `R/kiosk/config/state`.
"""

from collections.abc import Mapping
from typing import Annotated, Any, Literal

import re2
from pydantic import Field, field_validator, model_validator

from kiosk.contract.base import ConfigModel, ReportModel
from kiosk.contract.events import Role
from kiosk.contract.ids import Id
from kiosk.contract.language_tag import LanguageTag
from kiosk.contract.text import LABEL_MAX, PLAIN_TEXT, escaped_within

# Safety floors (docs/security.md): no pushed config may cross them, whoever sends it.
# Two lumbar lift-offs in one set stop it (legpress-guidance.md, "Live cues").
MAX_LIFTOFFS_TO_STOP = 2
# A velocity-loss cue for any slowing (under 10%) would ring on noise; past 50% the member is spent long before.
MIN_VELOCITY_LOSS_PCT = 10.0
MAX_VELOCITY_LOSS_PCT = 50.0
# "No sensor data for about 1 s during a set" raises `sensor_lost`; 2 s is the most it may wait.
MAX_SENSOR_LOST_S = 2.0
# Below this a slow (20 Hz) stream's ordinary jitter would read as a lost sensor: false cues, no reps.
MIN_SENSOR_LOST_S = 0.25
# The learnt max depth always stays this far short of where the back lifted.
MIN_LIFTOFF_MARGIN_MM = 10.0
# A cue the member must act on (too deep, lock-out) comes back at least this often.
MAX_REPEAT_S = 15.0
# Wider than this and the lock-out line, or the turn at the bottom, is no longer where the member is.
MAX_LOCKOUT_MARGIN_MM = 50.0
MAX_HYSTERESIS_MM = 40.0
# A pushed travel for this kiosk's own machine model may differ from the one configured on the
# kiosk itself by this fraction at most: a push can correct a measurement, not describe another machine.
TRAVEL_BAND = 0.1
# Member codes older than this are refused unless the config says otherwise (they also carry `exp`).
MEMBER_CODE_MAX_AGE_DAYS = 400.0
STAFF_CODE_MAX_AGE_HOURS = 24.0

PositiveS = Annotated[float, Field(gt=0, le=3600)]


LoadUnit = Literal["kg", "lb"]
KG_PER_LB = 0.45359237  # exact, by the international yard and pound agreement of 1959


class MachineGeometry(ConfigModel):
    """A machine model's mechanics: notch numbers mean different angles on different machines."""

    machine_type: Literal["sled_45", "horizontal"] = Field(
        "sled_45", description="How the sled moves: a 45-degree sled or a horizontal seated press (the diagram).")
    travel_mm: Annotated[float, Field(gt=50, le=1500, description=(
        "Sled travel from full extension to the bottom stop, in mm; calibration maps the sensor onto it. "
        "A push may correct the kiosk's own model by 10% at most."))] = 500.0
    backrest_angles_deg: Annotated[list[float], Field(min_length=1, max_length=30, description=(
        "Backrest angle of each notch, from the floor, in degrees; notch 1 first."))] = [
        30.0, 35.0, 40.0, 45.0, 50.0, 55.0, 60.0, 65.0,
    ]
    seat_notches: Annotated[int, Field(ge=1, le=30, description="How many seat positions the machine has.")] = 1
    sled_angle_deg: Annotated[float | None, Field(gt=0, le=90, description=(
        "The sled's incline from the floor, in degrees (45 on a 45-degree sled); with `sled_mass_kg` it gives "
        "power in watts. Without them the kiosk shows velocity only."))] = None
    sled_mass_kg: Annotated[float | None, Field(ge=0, le=500, description=(
        "The empty sled's mass, in kg: it moves with the plates on every push."))] = None

    @model_validator(mode="after")
    def _angles_sane(self) -> "MachineGeometry":
        if any(not 0 <= a <= 90 for a in self.backrest_angles_deg):
            raise ValueError("backrest angles must be between 0 and 90 degrees")
        return self

    @property
    def backrest_notches(self) -> int:
        return len(self.backrest_angles_deg)


class CueThresholds(ConfigModel):
    """Cue engine thresholds; defaults follow shared/domain/legpress-guidance.md.

    The limits of the fields that decide safety cues are safety floors: a
    push beyond them is refused with the field named, whoever sends it.
    """

    descent_fast_s: Annotated[float, Field(gt=0, le=10, description="A faster lowering is `descent_fast`.")] = 2.0
    shallow_fraction: Annotated[float, Field(
        gt=0, lt=1, description="A rep turning short of this fraction of the target is `shallow`.")] = 0.75
    depth_reached_tolerance_mm: Annotated[float, Field(
        ge=0, le=100, description="`depth_reached` fires this far before the target.")] = 5.0
    lockout_margin_mm: Annotated[float, Field(
        ge=0, le=MAX_LOCKOUT_MARGIN_MM,
        description="How far past the top position the sled may go before `lockout`; "
        f"floor: at most {MAX_LOCKOUT_MARGIN_MM:g} mm.",
    )] = 0.0
    bounce_mm_s2: Annotated[float, Field(
        gt=0, le=100_000, description="A reversal sharper than this at the bottom is `bounce`.")] = 6000.0
    hysteresis_mm: Annotated[float, Field(
        gt=0, le=MAX_HYSTERESIS_MM,
        description=f"Movement needed to count a change of direction; floor: at most {MAX_HYSTERESIS_MM:g} mm.",
    )] = 15.0
    liftoff_margin_mm: Annotated[float, Field(
        ge=MIN_LIFTOFF_MARGIN_MM, le=200,
        description="The learnt max depth stays this far short of where the lower back lifted; "
        f"floor: at least {MIN_LIFTOFF_MARGIN_MM:g} mm.",
    )] = 30.0
    sensor_lost_s: Annotated[float, Field(
        ge=MIN_SENSOR_LOST_S, le=MAX_SENSOR_LOST_S,
        description="Sensor silence during a set that raises `sensor_lost`; "
        f"floor: at most {MAX_SENSOR_LOST_S:g} s (and at least {MIN_SENSOR_LOST_S:g} s, or jitter reads as lost).",
    )] = 1.0
    set_rest_s: Annotated[float, Field(gt=0, le=120, description="Rest at the top that ends a set.")] = 4.0
    repeat_s: Annotated[float, Field(
        ge=0, le=MAX_REPEAT_S,
        description=f"The same cue is not shown again sooner than this; floor: at most {MAX_REPEAT_S:g} s.",
    )] = 6.0
    lumbar_liftoffs_to_stop: Annotated[int, Field(
        ge=1, le=MAX_LIFTOFFS_TO_STOP,
        description=f"Lumbar lift-offs in one set that stop it; floor: at most {MAX_LIFTOFFS_TO_STOP}.",
    )] = 2
    velocity_loss_pct: Annotated[float, Field(
        ge=MIN_VELOCITY_LOSS_PCT, le=MAX_VELOCITY_LOSS_PCT,
        description="A rep whose mean push velocity falls this many percent below the set's best raises "
        f"`velocity_loss`; floor: {MIN_VELOCITY_LOSS_PCT:g}-{MAX_VELOCITY_LOSS_PCT:g}%.",
    )] = 25.0


class CodeMaxAge(ConfigModel):
    """How old a member code may be, counted from its `iat`, whatever its `exp` says."""

    member_days: Annotated[float, Field(gt=0, le=3660, description="Oldest member code accepted, in days.")] = (
        MEMBER_CODE_MAX_AGE_DAYS)
    staff_hours: Annotated[float, Field(gt=0, le=24 * 90, description="Oldest staff code accepted, in hours.")] = (
        STAFF_CODE_MAX_AGE_HOURS)

    def seconds_by_role(self) -> Mapping[Role, float]:
        return {"member": self.member_days * 86400, "staff": self.staff_hours * 3600}


class KioskConfig(ConfigModel):
    """Everything an operator may tune remotely, with the defaults a kiosk starts from."""

    version: Annotated[str, Field(max_length=64, description="The operators' name for this config."),
                       PLAIN_TEXT] = "default"
    idle_timeout_s: Annotated[PositiveS, Field(description=(
        "A session with no touch and no sled movement this long ends (reason `timeout`); applies at once."))] = 90.0
    telemetry_interval_s: Annotated[float, Field(ge=1, le=3600, description=(
        "Seconds between telemetry messages; applies from the next one."))] = 30.0
    sound: Annotated[bool, Field(description="Warning tones; a `stop` always sounds, whatever this says "
                                 "(safety floor).")] = True
    home_assistant: Annotated[bool, Field(description=(
        "Publish Home Assistant MQTT discovery for this kiosk (one device: mode, sessions today, lift-off rate, "
        "sensor health, in service / out of order buttons); turning it off removes the device. Applies at once."))
    ] = False
    member_id_pattern: Annotated[str | None, Field(
        max_length=200,
        description="Plain membership ids accepted as well as signed codes (RE2 syntax, matched in linear time); "
        "a pattern that accepts ids of any shape is refused.",
    )] = None
    scan_repeat_s: Annotated[float, Field(ge=0, le=60, description=(
        "The same code seen again within this many seconds is one scan (a camera sees a card many times)."))] = 3.0
    code_max_age: CodeMaxAge = Field(default_factory=CodeMaxAge, description=(
        "How old a member or staff code may be, whatever its own expiry says; applies to the next scan."))
    cues: CueThresholds = Field(default_factory=CueThresholds, description=(
        "The cue engine's thresholds, within the safety floors; a session uses those in force when it started."))
    load_unit: LoadUnit = Field("kg", description=(
        "How loads are shown to members and stepped on the set screen: `kg` (2.5 kg steps) or `lb` (5 lb steps). "
        "Profiles and events always hold kilograms."))
    target_reps: Annotated[int, Field(ge=1, le=50, description=(
        "The reps every set must reach before the summary suggests one step more load for next time "
        "(double progression: reps first, then load)."))] = 10
    languages: list[LanguageTag] = Field(default_factory=lambda: ["en"], min_length=1, max_length=12, description=(
        "The languages the kiosk offers members, one tap each; the first is for members whose profile names "
        "none. A language without a catalogue on the kiosk reads the first one that has one."))
    machine_models: dict[Id, MachineGeometry] = Field(default_factory=dict, description=(
        "Geometry per machine model id; the kiosk uses its own model's. Sessions started after a push use it."))

    @field_validator("languages")
    @classmethod
    def _each_language_once(cls, languages: list[str]) -> list[str]:
        if len({tag.lower() for tag in languages}) != len(languages):
            raise ValueError("languages names a language twice")
        return languages

    @field_validator("member_id_pattern")
    @classmethod
    def _pattern_is_safe(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            check_id_pattern(pattern)
        return pattern


# Ids of every shape a member id can take. A pattern for a gym's own membership cards
# (a prefix and digits, say) accepts few of them; one accepting most accepts anyone's id.
# Ids of every shape a gym might use. A pattern for one gym's cards matches one or two of them at most.
_PROBE_IDS = ("a", "member", "z9", "0", "12345678", "m_7f3a9c", "a-b", "x_y", "sam-2", "0a", "abc123def456",
              "qwertyuiopasdfghjklzxcvbnm012345", "abcdef", "member01", "x1y2z3", "john-doe", "a_b_c_d", "zz99zz99")
# Accepting this many of them is accepting nearly anyone.
_PROBES_TOO_MANY = 3
# The form of the ids `legpress-fleet members` issues signed codes for: members `m_...`, staff `t_...`.
# A plain membership id is typed, not signed, so none of these may ever be one: typing `m_bob` must not
# log in as Bob. One such id matched is one too many.
MEMBER_CODE_PREFIXES = ("m_", "t_")
_CODE_FORM_PROBES = ("m_bob", "m_7f3a9c", "m_a", "m_1", "m_sam", "m_demo", "m_12345678", "m_abc-def", "m_x_y",
                     "m_qwertyuiopasdfghjklzxcvbnm0123", "t_robin", "t_demo", "t_1", "t_tech")
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


def compile_id_pattern(pattern: str) -> "re2._Regexp":
    """The pattern compiled with RE2, whose matching time grows linearly with the text, never exponentially."""
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as exc:
        detail = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ValueError(f"member_id_pattern is not a valid regular expression (RE2 syntax): {detail}") from None


def check_id_pattern(pattern: str) -> None:
    """Refuse a membership-id pattern that does not compile with RE2, or that lets (nearly) any id in.

    Member ids are public (every kiosk event names them), so a pattern like
    `.*` would let anyone type someone else's id and get their session.
    """
    compiled = compile_id_pattern(pattern)
    if compiled.fullmatch("") is not None:
        raise ValueError("member_id_pattern matches an empty scan; write one that matches only your "
                         "membership cards, e.g. gym[0-9]{6}")
    accepted = sum(compiled.fullmatch(probe) is not None for probe in _PROBE_IDS)
    if accepted >= _PROBES_TOO_MANY:
        raise ValueError(f"member_id_pattern accepts {accepted} of {len(_PROBE_IDS)} unrelated sample ids, so "
                         "it would let anyone in; write one that matches only your membership cards, "
                         "e.g. gym[0-9]{6}")
    # Checked after the broad test, so a pattern letting anyone in is told so first.
    code_form = [probe for probe in _CODE_FORM_PROBES if compiled.fullmatch(probe) is not None]
    if code_form:
        raise ValueError(f"member_id_pattern accepts {code_form[0]!r}, an id of the form signed member codes "
                         f"carry ({' or '.join(p + '...' for p in MEMBER_CODE_PREFIXES)}): anyone could type it "
                         "and get that member's session; write one that matches only your membership cards, "
                         "e.g. gym[0-9]{6}")


def merge_config(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge `patch` over `base`: tables merge key by key, anything else replaces."""
    merged = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_config(merged[key], value)
        else:
            merged[key] = value
    return merged


def travel_refusal(model: str, travel_mm: float, local_travel_mm: float) -> str | None:
    """Why a kiosk configured with `local_travel_mm` for its machine `model` refuses `travel_mm`, or None.

    The cue engine believes depths up to the travel: a push that doubles it would let a member go past
    the end of a real sled's safe range unwarned. Kiosks refuse it; `legpress-fleet config` asks the same.
    """
    low, high = local_travel_mm * (1 - TRAVEL_BAND), local_travel_mm * (1 + TRAVEL_BAND)
    if low <= travel_mm <= high:
        return None
    return (f"machine_models.{model}.travel_mm: {travel_mm:g} mm is outside {low:g}-{high:g} mm, "
            f"within {TRAVEL_BAND:.0%} of the {local_travel_mm:g} mm configured on this kiosk (safety floor)")


class ConfigState(ReportModel):
    """Retained on `R/kiosk/config/state`: the config in force and whether the last push was taken."""

    status: Literal["ok", "error"]
    # Often quotes the refused push: escaped, so it reaches `status` and logs as plain text.
    error: Annotated[str, escaped_within(500)] | None = None
    config: dict[str, Any]
    version: Annotated[str, Field(max_length=LABEL_MAX), PLAIN_TEXT]
