"""What a lumbar lift-off teaches the kiosk: a shallower safe depth, and advice when a set is stopped."""

from kiosk.words.wording import STOP_SUGGESTIONS

__all__ = ["LEARNT_FLOOR_FRACTION", "STOP_SUGGESTIONS", "depth_floor", "lowered_max_depth"]

# The learnt max depth never drops below halfway from the top position to the
# max depth the session started with. A back that lifts off that early is a
# setup problem (backrest too upright, feet too low, too much weight) that a
# still shorter range would hide rather than fix, and the stop advice covers it.
LEARNT_FLOOR_FRACTION = 0.5


def depth_floor(top_mm: float, session_max_mm: float) -> float:
    return top_mm + LEARNT_FLOOR_FRACTION * (session_max_mm - top_mm)


def lowered_max_depth(max_mm: float, liftoff_mm: float, margin_mm: float, floor_mm: float) -> float:
    """The max depth after a lumbar lift-off at `liftoff_mm`: a margin short of it, never deeper than before."""
    return min(max_mm, max(floor_mm, liftoff_mm - margin_mm))
