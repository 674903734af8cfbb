"""Advice after a set the lumbar rule stopped, chosen from what the member's settings still allow.

"Recline the backrest by one notch" to a member whose backrest is already as
reclined as it goes cannot be followed (issue 22): each suggestion that moves a
setting is offered only while that setting can still move that way.
"""

from kiosk.contract.config import MachineGeometry
from kiosk.contract.profile import MachineSettings
from kiosk.core.machine.models import most_reclined_notch
from kiosk.words.wording import STOP_SUGGESTIONS

RECLINE, FEET_HIGHER, LESS_WEIGHT, SHORTER_REPS = STOP_SUGGESTIONS


def stop_suggestions(settings: MachineSettings, geometry: MachineGeometry) -> list[str]:
    """The suggestions that fit this member on this machine, most useful first."""
    can = {
        RECLINE: geometry.backrest_notches > 1 and settings.backrest_notch != most_reclined_notch(geometry),
        FEET_HIGHER: settings.foot_height != "high",
    }
    return [line for line in STOP_SUGGESTIONS if can.get(line, True)]
