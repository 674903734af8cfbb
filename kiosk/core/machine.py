"""Machine models and the safe first-time settings a new member starts from.

A member's settings are kept per machine model because notch numbers mean
different angles on different machines. An unknown model name still works:
it gets the geometry of a common 45-degree sled (about 500 mm of travel).
"""

from kiosk.contract.config import KioskConfig, MachineGeometry
from kiosk.contract.profile import MachineSettings

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


def geometry_for(model: str, config: KioskConfig) -> MachineGeometry:
    return config.machine_models.get(model, DEFAULT_GEOMETRY)


def on_this_machine(settings: MachineSettings, geometry: MachineGeometry) -> MachineSettings:
    """Saved settings kept to the notches the machine has now: a config push can take some away."""
    return settings.model_copy(update={"backrest_notch": min(settings.backrest_notch, geometry.backrest_notches),
                                       "seat_notch": min(settings.seat_notch, geometry.seat_notches)})


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
    return MachineSettings(
        backrest_notch=most_reclined_notch(geometry),
        # Horizontal machines: the middle carriage notch; a sled has only one.
        seat_notch=(geometry.seat_notches + 1) // 2,
        foot_height="mid",
        foot_width="shoulder",
        toe_angle_deg=15,
        target_depth_mm=round(travel * FIRST_TARGET_FRACTION, 1),
        max_depth_mm=round(travel * FIRST_MAX_FRACTION, 1),
        top_mm=round(travel * FIRST_TOP_FRACTION, 1),
    )
