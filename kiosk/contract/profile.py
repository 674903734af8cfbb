"""Member profiles, retained on `gym/v1/{site}/members/{member}/profile`."""

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from kiosk.contract.base import ReportModel, Timestamp
from kiosk.contract.ids import Id
from kiosk.contract.sensor import TravelMm

FootHeight = Literal["low", "mid", "high"]
FootWidth = Literal["narrow", "shoulder", "wide"]


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


class MemberProfile(ReportModel):
    """A member's saved settings per machine model. `rev` only grows."""

    model_config = ConfigDict(extra="allow")

    member: Id
    name: Annotated[str, Field(max_length=40)] = ""
    rev: Annotated[int, Field(ge=0)]
    updated: Timestamp
    machines: dict[Id, MachineSettings] = {}
