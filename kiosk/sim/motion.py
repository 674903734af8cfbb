"""A member's sled motion as a chain of smooth segments, sampled like a real sensor would."""

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass, field


def cosine(u: float) -> float:
    """Starts and ends at rest: a controlled lowering or push."""
    return (1 - math.cos(math.pi * u)) / 2


def speeding_up(u: float) -> float:
    """Starts at rest and arrives at full speed (dropping into a bounce)."""
    return 1 - math.cos(math.pi / 2 * u)


def slowing_down(u: float) -> float:
    """Leaves at full speed and arrives at rest (driving out of a bounce)."""
    return math.sin(math.pi / 2 * u)


@dataclass(frozen=True)
class _Segment:
    start: float
    duration: float
    at: Callable[[float], float]  # seconds into the segment -> mm


@dataclass
class SledPath:
    """Where the sled is (mm of travel) at any time, written move by move from `start`."""

    start: float
    mm: float
    end: float = field(init=False)
    _segments: list[_Segment] = field(default_factory=list, init=False)
    _starts: list[float] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.end = self.start

    def hold(self, seconds: float) -> "SledPath":
        mm = self.mm
        return self._add(seconds, lambda _dt: mm, mm)

    def move(self, to_mm: float, seconds: float, shape: Callable[[float], float] = cosine) -> "SledPath":
        frm = self.mm
        return self._add(seconds, lambda dt: frm + (to_mm - frm) * shape(dt / seconds), to_mm)

    def rebound(self, speed_mm_s: float, seconds: float) -> "SledPath":
        """Turn around under constant deceleration, arriving and leaving at `speed_mm_s`.

        The sled goes `speed * seconds / 4` deeper than where it starts and
        comes back to it, which is what a bounce off the bottom looks like.
        """
        frm, half = self.mm, seconds / 2
        decel = speed_mm_s / half
        return self._add(seconds, lambda dt: frm + speed_mm_s * half / 2 - decel / 2 * (dt - half) ** 2, frm)

    def at(self, t: float) -> float:
        i = bisect.bisect_right(self._starts, t) - 1
        if i < 0:
            return self._segments[0].at(0.0) if self._segments else self.mm
        seg = self._segments[i]
        return seg.at(min(t - seg.start, seg.duration))

    def _add(self, seconds: float, at: Callable[[float], float], end_mm: float) -> "SledPath":
        self._segments.append(_Segment(self.end, seconds, at))
        self._starts.append(self.end)
        self.end += seconds
        self.mm = end_mm
        return self

    def crossings(self, level_mm: float, back_mm: float, step_s: float = 0.001) -> list[tuple[float, bool]]:
        """Times the sled goes deeper than `level_mm` (True) and back above `back_mm` (False)."""
        found, past = [], False
        steps = int((self.end - self.start) / step_s)
        for k in range(steps + 1):
            t = self.start + k * step_s
            mm = self.at(t)
            if not past and mm > level_mm:
                past = True
                found.append((t, True))
            elif past and mm < back_mm:
                past = False
                found.append((t, False))
        return found
