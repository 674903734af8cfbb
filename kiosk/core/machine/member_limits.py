"""What a member may set on this machine themselves, on the screen or typed headless.

The screen's steppers and the headless `/settings` command hold a member's
edits to the same ranges. The max depth and the top position are not among
them: the guided setup and the cue engine (a lumbar lift-off lowers the max)
set those, never a member's tap.
"""

from kiosk.contract.config import MachineGeometry
from kiosk.contract.profile import MachineSettings
from kiosk.core.machine.depth_limits import TARGET_MARGIN_MM

TOE_STEP, TOE_MIN, TOE_MAX = 5, 0, 30
DEPTH_STEP_MM = 10.0
# The target stays this far below the top position, so a rep still has some range.
MIN_RANGE_MM = 50.0
MEMBER_FIELDS = ("backrest_notch", "seat_notch", "foot_height", "foot_width", "toe_angle_deg", "target_depth_mm")


def out_of_reach(settings: MachineSettings, geometry: MachineGeometry, changed: set[str]) -> str | None:
    """Why a member could not have set the `changed` fields of `settings` on this machine, or None.

    Only what was changed is held to the screen's ranges: an older profile's value (a toe angle the
    screen no longer offers) is theirs to keep while they change something else.
    """
    if "backrest_notch" in changed and settings.backrest_notch > geometry.backrest_notches:
        return f"backrest_notch {settings.backrest_notch}: this machine has {geometry.backrest_notches} notches"
    if "seat_notch" in changed and settings.seat_notch > geometry.seat_notches:
        return f"seat_notch {settings.seat_notch}: this machine has {geometry.seat_notches} seat positions"
    if "toe_angle_deg" in changed and not TOE_MIN <= settings.toe_angle_deg <= TOE_MAX:
        return f"toe_angle_deg {settings.toe_angle_deg}: between {TOE_MIN} and {TOE_MAX}"
    deepest, shallowest = settings.max_depth_mm - TARGET_MARGIN_MM, settings.top_mm + MIN_RANGE_MM
    if "target_depth_mm" in changed and not shallowest <= settings.target_depth_mm <= deepest:
        return (f"target_depth_mm {settings.target_depth_mm:g}: between {shallowest:g} and {deepest:g} "
                f"(short of this member's max depth {settings.max_depth_mm:g})")
    return None
