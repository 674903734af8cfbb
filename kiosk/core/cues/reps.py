"""Reps out of the noisy depth stream: phases, depth reached, lowering and pushing times.

Every decision uses hysteresis: the sled must move `hysteresis_mm` past the
extreme it is leaving before a phase changes, so sensor noise (a few mm) and
uneven sample timing never split or invent a rep.
"""

import math
from collections import deque
from dataclasses import dataclass
from typing import Literal

Phase = Literal["top", "lowering", "bottom", "pushing"]

# Flags returned by `RepTracker.update`; one sample may carry two (a rep that
# ends straight into the next descent).
DESCENT = 1
TURN = 2
REP = 4

# How long the sled must stay put before it counts as paused (at the bottom,
# or back at the top with the rep finished). Shorter than any real pause at
# the top, longer than the slow stretch at the end of a smooth push.
SETTLE_S = 0.3
# Samples kept from the lowering phase to time the turn at the bottom; 2.5 s
# at 100 Hz. A turn that spends longer than that near the bottom is slow anyway.
TRAIL_SAMPLES = 256


@dataclass(slots=True)
class Rep:
    """One rep: filled in at the turn (depth, lowering) and at the top (pushing)."""

    start_ts: float
    start_mm: float
    depth_mm: float = 0.0
    bottom_ts: float = 0.0
    eccentric_s: float = 0.0
    concentric_s: float = 0.0
    reversal_mm_s2: float = 0.0


class RepTracker:
    """Phase machine top -> lowering -> (bottom) -> pushing -> top over (ts, mm) samples.

    Times are estimated from where the sled leaves and reaches a narrow band
    (a third of the hysteresis) around each turning point, so they do not
    depend on how far the hysteresis lets a phase run before it is confirmed.
    """

    def __init__(self, hysteresis_mm: float):
        self.hysteresis_mm = hysteresis_mm
        self._band = hysteresis_mm / 3
        self.phase: Phase = "top"
        self.rep: Rep | None = None  # the rep in progress
        # The rep the last REP flag completed. Not `rep`: a rep that runs straight
        # into the next descent has already been replaced by the new one.
        self.finished: Rep | None = None
        self.top_since = 0.0
        # Shallowest point while at the top or pushing, and the last time the sled was near it.
        self._low = math.inf
        self._near_low_ts = 0.0
        # While pushing: the point the sled last stepped a band higher from, and when.
        self._anchor_mm = math.inf
        self._arrived_ts = 0.0
        self._bottom_mm = -math.inf
        self._bottom_ts = 0.0
        self._trail: deque[tuple[float, float]] = deque(maxlen=TRAIL_SAMPLES)

    def update(self, ts: float, mm: float) -> int:
        """Feed one accepted sample; returns DESCENT / TURN / REP flags (0 for most samples)."""
        phase = self.phase
        if phase == "top":
            if mm < self._low:
                self._low = mm
            if mm <= self._low + self._band:
                self._near_low_ts = ts
            elif mm > self._low + self.hysteresis_mm:
                self._descend(ts, mm)
                return DESCENT
            return 0
        if phase == "pushing":
            return self._push(ts, mm)
        self._trail.append((ts, mm))
        if mm > self._bottom_mm:
            self._bottom_mm, self._bottom_ts = mm, ts
            self.phase = "lowering"
        elif mm < self._bottom_mm - self.hysteresis_mm:
            self._turn(ts, mm)
            return TURN
        elif phase == "lowering" and ts - self._bottom_ts >= SETTLE_S:
            self.phase = "bottom"
        return 0

    def retune(self, hysteresis_mm: float) -> None:
        """A new hysteresis (the member's settings were saved with pushed thresholds), from the next sample."""
        self.hysteresis_mm = hysteresis_mm
        self._band = hysteresis_mm / 3

    def resume_mid_rep(self, ts: float, mm: float) -> None:
        """Follow a stream that starts again with the sled down (the sensor restarted mid-rep): at the bottom,
        with no rep to finish, so a still sled down there is not taken for one resting at the top."""
        self.phase, self.rep = "bottom", None
        self._bottom_mm, self._bottom_ts = mm, ts
        self._trail.clear()

    def drop_rep(self) -> None:
        """Forget the rep in progress (set stopped, or data lost mid-rep) but keep following the sled."""
        self.rep = None

    def _descend(self, ts: float, mm: float) -> None:
        self.phase = "lowering"
        self.rep = Rep(start_ts=self._near_low_ts, start_mm=self._low)
        self._bottom_mm, self._bottom_ts = mm, ts
        self._trail.clear()
        self._trail.append((ts, mm))

    def _turn(self, ts: float, mm: float) -> None:
        rep = self.rep
        if rep is not None:
            rep.depth_mm = self._bottom_mm
            rep.bottom_ts = self._bottom_ts
            rep.eccentric_s = max(0.0, self._bottom_ts - rep.start_ts)
            rep.reversal_mm_s2 = self._reversal_mm_s2(ts, mm)
        self._start_push(ts, mm)

    def _start_push(self, ts: float, mm: float) -> None:
        self.phase = "pushing"
        self._low = self._anchor_mm = mm
        self._near_low_ts = self._arrived_ts = ts

    def _push(self, ts: float, mm: float) -> int:
        if mm < self._anchor_mm - self._band:
            self._anchor_mm, self._arrived_ts = mm, ts
        if mm < self._low:
            self._low = mm
        if mm <= self._low + self._band:
            self._near_low_ts = ts
        elif mm > self._low + self.hysteresis_mm:
            # Straight into the next rep without a pause at the top.
            flags = self._finish()
            self._descend(ts, mm)
            return flags | DESCENT
        if ts - self._arrived_ts >= SETTLE_S:
            flags = self._finish()
            self.phase = "top"
            self.top_since = self._arrived_ts
            return flags
        return 0

    def _finish(self) -> int:
        rep = self.rep
        if rep is None:
            return 0
        rep.concentric_s = max(0.0, self._arrived_ts - rep.bottom_ts)
        self.finished = rep
        return REP

    def _reversal_mm_s2(self, ts: float, mm: float) -> float:
        """How hard the sled turned: the deceleration that fits its time within `hysteresis_mm` of the bottom.

        Under constant deceleration a the sled spends dwell = 2 * sqrt(2h / a)
        within h of its deepest point, so a = 8h / dwell**2. Only the two band
        crossings are used, interpolated between samples, because differencing
        noisy samples twice for an acceleration amplifies 1-2 mm of noise into
        tens of thousands of mm/s2.
        """
        samples = list(self._trail)
        samples.append((ts, mm))
        deepest = max(range(len(samples)), key=lambda i: samples[i][1])
        if deepest == 0:
            return 0.0
        level = _peak(samples[deepest - 1], samples[deepest], samples[deepest + 1], self.hysteresis_mm / 2)
        level -= self.hysteresis_mm
        entered = left = None
        for i in range(deepest, 0, -1):
            if samples[i - 1][1] <= level:
                entered = _crossing(samples[i - 1], samples[i], level)
                break
        for i in range(deepest, len(samples) - 1):
            if samples[i + 1][1] <= level:
                left = _crossing(samples[i], samples[i + 1], level)
                break
        if entered is None or left is None or left <= entered:
            return 0.0
        dwell = left - entered
        return 8 * self.hysteresis_mm / (dwell * dwell)


def _peak(before: tuple[float, float], top: tuple[float, float], after: tuple[float, float], limit: float) -> float:
    """The deepest point of the parabola through three samples around the deepest one.

    At 20 Hz the deepest sample can miss a sharp turn by several mm; the
    parabola puts it back, and `limit` keeps noise from inventing depth.
    """
    (t0, d0), (t1, d1), (t2, d2) = before, top, after
    if not t0 < t1 < t2:
        return d1
    slope = (d1 - d0) / (t1 - t0)
    curve = ((d2 - d1) / (t2 - t1) - slope) / (t2 - t0)
    if curve >= 0:
        return d1
    t = (t0 + t1) / 2 - slope / (2 * curve)
    return min(d1 + limit, max(d1, d0 + slope * (t - t0) + curve * (t - t0) * (t - t1)))


def _crossing(a: tuple[float, float], b: tuple[float, float], level: float) -> float:
    """When the straight line between samples a and b passes `level`."""
    (t0, d0), (t1, d1) = a, b
    if d1 == d0:
        return t1
    return t0 + (level - d0) / (d1 - d0) * (t1 - t0)
