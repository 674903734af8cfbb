"""Machine models and the safe first-time settings a new member starts from.

A member's settings are kept per machine model because notch numbers mean
different angles on different machines. An unknown model name still works:
it gets the geometry of a common 45-degree sled (about 500 mm of travel).
"""

from dataclasses import dataclass

from kiosk.contract.config import KioskConfig, MachineGeometry, travel_refusal
from kiosk.contract.profile import MachineSettings
from kiosk.core.machine.depth_limits import TARGET_MARGIN_MM

DEFAULT_GEOMETRY = MachineGeometry()

# Sled movement smaller than this is sensor noise, not a member at work (it keeps a session alive).
ACTIVITY_MM = 10.0
# The sled this far below the member's top position means someone is pressing.
PRESSING_MM = 40.0

# Fractions of full sled travel (0 = legs straight). A first-timer stops about
# where the knees reach 90 degrees, well short of where most people's pelvis
# starts to roll; the guided setup then replaces these with their own reps.
FIRST_TARGET_FRACTION = 0.5
FIRST_MAX_FRACTION = 0.65
# The top of each rep stays a little short of straight legs (a soft bend).
FIRST_TOP_FRACTION = 0.06


# Safety floors for a member's depths (legpress-guidance.md, "Settings a member keeps"): the target
# always stops at least this far short of max depth, so reaching it never also means too deep.
# The top of a rep is never above full extension: a negative top would make every lock-out unseen.
LOWEST_TOP_MM = 0.0


@dataclass
class FloorStats:
    """How often a member's saved depths had to be brought inside the floors, for telemetry."""

    profile_values_clamped: int = 0


def geometry_for(model: str, config: KioskConfig) -> MachineGeometry:
    return config.machine_models.get(model, DEFAULT_GEOMETRY)


def check_travel(model: str, travel_mm: float, local_travel_mm: float) -> None:
    """Refuse a travel for this kiosk's own machine model far from the one configured on the kiosk itself."""
    refusal = travel_refusal(model, travel_mm, local_travel_mm)
    if refusal is not None:
        raise ValueError(refusal)


def within_floors(settings: MachineSettings, geometry: MachineGeometry) -> tuple[MachineSettings, list[str]]:
    """`settings` with depths inside the machine's travel and the target a margin short of max.

    Returns the settings to use and the names of the fields that had to change
    (empty when none did). The order `top < target < max` is kept.
    """
    travel = geometry.travel_mm
    max_mm = min(max(settings.max_depth_mm, 2 * TARGET_MARGIN_MM), travel)
    target = min(settings.target_depth_mm, max_mm - TARGET_MARGIN_MM)
    top = min(max(settings.top_mm, LOWEST_TOP_MM), target - TARGET_MARGIN_MM)
    if top < LOWEST_TOP_MM:
        # So short a range is no range: start again from the safe first-time depths.
        fresh = first_time_settings(geometry)
        max_mm, target, top = fresh.max_depth_mm, fresh.target_depth_mm, fresh.top_mm
    update = {"backrest_notch": min(settings.backrest_notch, geometry.backrest_notches),
              "seat_notch": min(settings.seat_notch, geometry.seat_notches),
              "max_depth_mm": max_mm, "target_depth_mm": target, "top_mm": top}
    changed = [name for name in ("max_depth_mm", "target_depth_mm", "top_mm")
               if getattr(settings, name) != update[name]]
    return settings.model_copy(update=update), changed


def on_this_machine(settings: MachineSettings, geometry: MachineGeometry,
                    stats: FloorStats | None = None) -> MachineSettings:
    """Saved settings kept to the notches the machine has now (a config push can take some away)
    and to the depth floors; each clamped depth is counted in `stats`."""
    safe, changed = within_floors(settings, geometry)
    if changed and stats is not None:
        stats.profile_values_clamped += len(changed)
    return safe


def is_pressing(depth_mm: float, settings: MachineSettings) -> bool:
    """Whether the sled is far enough down from the member's top position to be a rep in progress."""
    return depth_mm > settings.top_mm + PRESSING_MM


def most_reclined_notch(geometry: MachineGeometry) -> int:
    """Backrest angles are measured from the floor, so the smallest angle is the most reclined."""
    angles = geometry.backrest_angles_deg
    return angles.index(min(angles)) + 1


def first_time_settings(geometry: MachineGeometry) -> MachineSettings:
    """Safe defaults: reclined back, feet mid-plate at shoulder width, toes slightly out, shallow range."""
    travel = geometry.travel_mm
    max_mm = round(travel * FIRST_MAX_FRACTION, 1)
    # On a short sled the fractions alone would put the target closer to max than the margin.
    target = min(round(travel * FIRST_TARGET_FRACTION, 1), round(max_mm - TARGET_MARGIN_MM, 1))
    return MachineSettings(
        backrest_notch=most_reclined_notch(geometry),
        # Horizontal machines: the middle carriage notch; a sled has only one.
        seat_notch=(geometry.seat_notches + 1) // 2,
        foot_height="mid",
        foot_width="shoulder",
        toe_angle_deg=15,
        target_depth_mm=target,
        max_depth_mm=max_mm,
        top_mm=min(round(travel * FIRST_TOP_FRACTION, 1), target - TARGET_MARGIN_MM),
    )
