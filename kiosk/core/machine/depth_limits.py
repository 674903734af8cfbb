"""How far the target depth stays from the max depth, wherever settings are made or changed.

A target at (or past) the max depth means every rep that reaches it is also
too deep: the member hears "good depth: push" and "too deep" for the same
rep. So the target is always kept `TARGET_MARGIN_MM` short of the max, by
the cue engine when a lumbar lift-off lowers the max, when a profile is
saved, and when an old profile saved before this rule is loaded.
"""

import math

from kiosk.contract.profile import MachineSettings

# shared/domain/legpress-guidance.md: "always at least 10 mm short of max depth".
TARGET_MARGIN_MM = 10.0


def target_short_of_max(target_mm: float, max_mm: float, top_mm: float) -> float:
    """The target depth kept `TARGET_MARGIN_MM` short of `max_mm`, and still below the top position.

    When the range from top to max is too short for the margin (a max
    lowered near the top), the target goes halfway between them: a rep must
    still have somewhere to turn.
    """
    kept = min(target_mm, max_mm - TARGET_MARGIN_MM)
    if kept <= top_mm:
        kept = top_mm + (max_mm - top_mm) / 2
    # Rounded down to a tenth: rounding up could put the target back inside the margin.
    return math.floor(round(kept * 10, 6)) / 10


def with_target_margin(settings: MachineSettings) -> MachineSettings:
    """`settings` with the target kept short of the max; the same object when it already is."""
    target = target_short_of_max(settings.target_depth_mm, settings.max_depth_mm, settings.top_mm)
    if target == settings.target_depth_mm:
        return settings
    return settings.model_copy(update={"target_depth_mm": target})
