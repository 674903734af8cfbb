"""A first-timer's target depth and top position, learnt from two slow reps.

The member starts from safe defaults (`machine.first_time_settings`) and does
two slow, light reps only as deep as feels easy. The deepest point they
reached, less a margin, becomes their target depth (never deeper than the
max depth they already have); the highest point they rested at between reps,
plus a margin, becomes their top position so the knees keep a soft bend.

Pure logic: samples in with their own time, no clock, no screen.
"""

import math
from dataclasses import dataclass
from typing import Literal

from kiosk.contract.profile import MachineSettings

SetupPhase = Literal["top", "lowering", "pushing"]


@dataclass(frozen=True)
class SetupRep:
    """One rep seen during the guided setup."""

    top_mm: float
    depth_mm: float
    descent_s: float


@dataclass(frozen=True)
class SetupResult:
    """What the guided setup learnt; `apply` puts it into the member's settings."""

    target_depth_mm: float
    top_mm: float
    reps: tuple[SetupRep, ...]

    def apply(self, settings: MachineSettings) -> MachineSettings:
        return settings.model_copy(update={"target_depth_mm": self.target_depth_mm, "top_mm": self.top_mm})


class GuidedSetup:
    """Watches the depth stream for `reps_needed` slow reps and then holds a `SetupResult`.

    A rep is a descent of at least `min_range_mm` below the top it started
    from, a turn (the sled comes back `hysteresis_mm` from the deepest point)
    and a return to the upper quarter of that range. A rep lowered faster than
    `slow_descent_s` is not counted (`fast_reps` grows): a quick rep bounces
    past where the member can hold the position, so it teaches the wrong depth.
    """

    def __init__(self, max_depth_mm: float, reps_needed: int = 2, min_range_mm: float = 60.0,
                 hysteresis_mm: float = 15.0, slow_descent_s: float = 1.5, depth_margin_mm: float = 20.0,
                 top_margin_mm: float = 15.0):
        self.max_depth_mm = max_depth_mm
        self.reps_needed = reps_needed
        self.min_range_mm = min_range_mm
        self.hysteresis_mm = hysteresis_mm
        self.slow_descent_s = slow_descent_s
        self.depth_margin_mm = depth_margin_mm
        self.top_margin_mm = top_margin_mm
        self.phase: SetupPhase = "top"
        self.reps: list[SetupRep] = []
        self.fast_reps = 0
        self.result: SetupResult | None = None
        self._top = math.inf
        self._near_top_ts = 0.0
        self._start_ts = 0.0
        self._rep_top = 0.0
        self._bottom = -math.inf
        self._bottom_ts = 0.0
        self._rise_low = math.inf

    @property
    def done(self) -> bool:
        return self.result is not None

    def update(self, mm: float, ts: float) -> SetupResult | None:
        """Feed one sample (mm of sled travel, the sample's time in s); the result once enough reps were seen."""
        if self.result is not None:
            return self.result
        if self.phase == "top":
            self._at_top(mm, ts)
        elif self.phase == "lowering":
            self._lowering(mm, ts)
        else:
            self._pushing(mm, ts)
        return self.result

    def _at_top(self, mm: float, ts: float) -> None:
        if mm < self._top:
            self._top = mm
        # The rep starts when the sled last left the top, not when the hysteresis confirmed it.
        if mm <= self._top + self.hysteresis_mm / 3:
            self._near_top_ts = ts
        elif mm > self._top + self.hysteresis_mm:
            self.phase = "lowering"
            self._rep_top, self._start_ts = self._top, self._near_top_ts
            self._bottom, self._bottom_ts = mm, ts

    def _lowering(self, mm: float, ts: float) -> None:
        if mm > self._bottom:
            self._bottom, self._bottom_ts = mm, ts
        elif mm < self._bottom - self.hysteresis_mm:
            if self._bottom - self._rep_top >= self.min_range_mm:
                self.phase, self._rise_low = "pushing", mm
            else:
                # A shuffle in the seat, not a rep: keep the top it started from.
                self.phase = "top"

    def _pushing(self, mm: float, ts: float) -> None:
        self._rise_low = min(self._rise_low, mm)
        if mm > self._rise_low + self.hysteresis_mm:
            # Went down again before coming up: still the same rep.
            self.phase = "lowering"
            return
        if mm <= self._rep_top + (self._bottom - self._rep_top) / 4:
            self._count_rep()
            self.phase, self._top, self._near_top_ts = "top", mm, ts

    def _count_rep(self) -> None:
        rep = SetupRep(top_mm=self._rep_top, depth_mm=self._bottom, descent_s=self._bottom_ts - self._start_ts)
        if rep.descent_s < self.slow_descent_s:
            self.fast_reps += 1
            return
        self.reps.append(rep)
        if len(self.reps) >= self.reps_needed:
            deepest = max(r.depth_mm for r in self.reps)
            highest = min(r.top_mm for r in self.reps)
            self.result = SetupResult(
                target_depth_mm=round(min(deepest - self.depth_margin_mm, self.max_depth_mm), 1),
                top_mm=round(max(0.0, highest) + self.top_margin_mm, 1),
                reps=tuple(self.reps),
            )
