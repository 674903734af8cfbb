"""Member profiles, retained on `gym/v1/{site}/members/{member}/profile`."""

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from kiosk.contract.base import CommandModel, ReportModel, Timestamp
from kiosk.contract.ids import Id
from kiosk.contract.language_tag import LanguageTag
from kiosk.contract.sensor import TravelMm
from kiosk.contract.text import PLAIN_TEXT

# The MQTT v5 user property an operator's erasure (an empty retained profile) carries: their login, for the
# recorder's tombstone.
ERASED_BY_PROPERTY = "erased-by"



class EraseRequest(CommandModel):
    """On `gym/v1/{site}/members/{member}/erase`: the console asks the profile desk (the recorder) to erase the
    member. The console's login may not write profiles (an ACL grants a topic, not a payload, so the write an
    erasure needs would let it retain any profile); the desk clears the retained profile and its tombstone
    names `console.<by>`."""

    by: Annotated[Id, Field(description="the staff member who erased, as the console's accounts name them")]


FootHeight = Literal["low", "mid", "high"]
FootWidth = Literal["narrow", "shoulder", "wide"]
# Visits a member's settings on one machine model remember: about 1.3 KiB, so a profile with several
# machine models still fits the kiosks' 8 KiB (the kiosk drops the oldest sooner if it would not).
MAX_VISITS = 12


class Visit(ReportModel):
    """One day's training on a machine model, for "last time" and the member's progress."""

    date: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="The day, YYYY-MM-DD (the kiosk's).")]
    sets: Annotated[int, Field(ge=0, le=1000)]
    reps: Annotated[int, Field(ge=0, le=100_000)]
    load_kg: Annotated[float | None, Field(ge=0, le=1000, description="The best set's load.")] = None
    best_reps: Annotated[int, Field(ge=0, le=10_000, description="The best set's reps.")] = 0
    best_mean_velocity_mps: Annotated[float | None, Field(ge=0, le=10, description=(
        "The best set's fastest mean push velocity."))] = None


class MaxLowered(ReportModel):
    """Why a member's max depth is shallower than it was: a kiosk lowered it after their lower back came off
    the pad. Kept in the profile so the member sees why, and so staff can restore `from_mm` once the cause
    (a backrest too upright, too much weight) is fixed."""

    model_config = ConfigDict(extra="allow")

    from_mm: TravelMm  # the max depth before any kiosk lowered it: what a restore brings back
    liftoff_mm: TravelMm  # where the lower back came off the pad
    ts: Timestamp  # when


class MachineSettings(ReportModel):
    """One member's settings on one machine model."""

    # Kept, not dropped: a newer kiosk may add fields and an older one must
    # not erase them when it saves the profile again.
    model_config = ConfigDict(extra="allow")

    backrest_notch: Annotated[int, Field(ge=1, le=30)]
    seat_notch: Annotated[int, Field(ge=1, le=30)] = 1
    foot_height: FootHeight = "mid"
    foot_width: FootWidth = "shoulder"
    toe_angle_deg: Annotated[int, Field(ge=-10, le=45)] = 15
    target_depth_mm: TravelMm
    max_depth_mm: TravelMm
    top_mm: TravelMm
    notes: Annotated[str, Field(max_length=500)] = ""
    load_kg: Annotated[float | None, Field(ge=0, le=1000, description=(
        "The load last pressed on this machine, in kg (pounds are only shown)."))] = None
    history: Annotated[list[Visit], Field(max_length=MAX_VISITS, description=(
        f"The last {MAX_VISITS} visits on this machine model, newest last."))] = []
    # Optional, added in v1: absent in profiles saved before it, and while no lift-off lowered the max.
    max_lowered: MaxLowered | None = None

    @model_serializer(mode="wrap")
    def _without_absent_extras(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        # No `"max_lowered": null`, `"load_kg": null` or `"history": []` in every profile: absent is what
        # readers from before these fields expect, and the profile stays small.
        data: dict[str, object] = handler(self)
        for name in ("max_lowered", "load_kg", "history"):
            if name in data and data[name] in (None, []):
                del data[name]
        return data

    @model_validator(mode="after")
    def _depths_in_order(self) -> "MachineSettings":
        # The cue engine relies on this order: top of the rep, then target, then the deepest safe point.
        if not self.top_mm < self.target_depth_mm <= self.max_depth_mm:
            raise ValueError("depths must satisfy top_mm < target_depth_mm <= max_depth_mm")
        return self


class MemberProfile(ReportModel):
    """A member's saved settings per machine model. `rev` only grows."""

    model_config = ConfigDict(extra="allow")

    member: Id
    name: Annotated[str, Field(max_length=40), PLAIN_TEXT] = ""
    # Bounded to what every JSON reader holds exactly, so `rev + 1` always fits.
    rev: Annotated[int, Field(ge=0, le=2**53 - 2)]
    updated: Timestamp
    machines: dict[Id, MachineSettings] = {}
    # The language the member reads and hears (BCP 47: `de`, `de-AT`, `pt-BR`); absent, the site's default.
    # Older profiles have none and still load; a tag the kiosk has no catalogue for reads the default.
    language: LanguageTag | None = None
