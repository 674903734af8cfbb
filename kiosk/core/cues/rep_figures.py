"""What one rep was worth: concentric velocity (mean and peak), range of motion, time under tension, power.

Pure: the samples carry their own times. The depth stream is noisy (1-2 mm)
and uneven (20-100 Hz, jittered), so the velocity is never a difference of
two samples: it is the slope of a least-squares line through every sample
within `SMOOTH_HALF_S` either side, which weighs each sample by its real
time and keeps the noise of a 20 Hz node to a few mm/s.

Where the push starts and ends is the hard part: the sled leaves the bottom
and arrives at the top at (nearly) zero speed, where noise hides it. Leaving
rest smoothly, the distance gone grows with the square of the time, so the
moments the sled is 4% to 20% of its range away from rest (read off a local
parabola through the samples, which keeps that curve's shape) give a straight
line in the square root of distance, followed back to zero: the moment of
rest, with no threshold in mm/s that would suit one member's speed and not
another's. The mean velocity is the range over the time between the two
moments. Against the simulator's pushes (cosine-shaped, 1-2 mm noise,
jittered 20-100 Hz) it reads about 1.5% slow on average (docs/training-record.md).

Every windowed fit is done for all samples at once from running sums
(numpy), so a rep costs the core a fraction of what its samples did.
"""

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# Half the smoothing window: long enough for 5+ samples at 20 Hz, short
# enough next to a push of a second or more not to blunt its peak (< 1%).
SMOOTH_HALF_S = 0.15
# The line whose slope is the peak velocity: wider, so noise does not lift the peak (it blunts a 1.5 s
# push's peak by about 1.5%).
PEAK_HALF_S = 0.2
# The local parabola that times the ends of a push: it keeps their curve, so it may reach wider for noise.
QUADRATIC_HALF_S = 0.15
# Where each end of the push is read off the position, as fractions of the range: the nearest clear of the
# noise (a few mm), the farthest still close enough to rest for the start to be nearly constant acceleration.
LEVELS = (0.04, 0.07, 0.1, 0.13, 0.16, 0.2)
_LEVELS = np.array(LEVELS)
_ROOTS = [math.sqrt(level) for level in LEVELS]
# Standard gravity, m/s2.
G = 9.80665
# Slower than this (mm/s) at its fastest is no push at all: noise on a still sled.
MIN_PEAK_MM_S = 20.0

Sample = tuple[float, float]  # (ts in s, depth in mm; deeper is larger)
Floats = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class RepFigures:
    """The concentric phase of one rep, along the sled."""

    mean_velocity_mps: float
    peak_velocity_mps: float
    rom_mm: float
    concentric_s: float


@dataclass(frozen=True, slots=True)
class Mechanics:
    """What turns a velocity into watts: the sled's incline and the mass moving with it."""

    sled_angle_deg: float
    sled_mass_kg: float

    def power_w(self, load_kg: float, mean_velocity_mps: float) -> float:
        """Mean concentric power: the work lifting sled and plates up the incline over the push's time.

        The sled starts and ends the push at rest, so over the whole push the
        work is all potential energy: m g sin(angle) times the distance, and
        over the push's time that is m g sin(angle) times the mean velocity.
        """
        mass = load_kg + self.sled_mass_kg
        return mass * G * math.sin(math.radians(self.sled_angle_deg)) * mean_velocity_mps


class _Sums:
    """Running sums of t^k (k = 0..4) and y t^k (k = 0..2) over the samples, for least-squares fits in any
    window of them: one cumulative sum over a stacked array, since each numpy call costs more than the
    few hundred values it adds.

    Times are taken from the first sample, so epoch seconds do not swallow
    the milliseconds in the powers.
    """

    def __init__(self, t: Floats, y: Floats) -> None:
        self.t = t
        n = len(t)
        rows = np.zeros((8, n + 1))
        t2 = t * t
        rows[0, 1:] = 1.0
        rows[1, 1:] = t
        rows[2, 1:] = t2
        rows[3, 1:] = t2 * t
        rows[4, 1:] = t2 * t2
        rows[5, 1:] = y
        rows[6, 1:] = y * t
        rows[7, 1:] = y * t2
        np.cumsum(rows[:, 1:], axis=1, out=rows[:, 1:])
        self._rows = rows
        self.running_depth = rows[5]
        self._windows: dict[float, Floats] = {}

    def window(self, half_s: float) -> Floats:
        """The eight sums over the samples within `half_s` of each sample: rows s0..s4, y0..y2."""
        sums = self._windows.get(half_s)
        if sums is None:
            t = self.t
            lo = np.searchsorted(t, t - half_s, "left")
            hi = np.searchsorted(t, t + half_s, "right")
            sums = self._windows[half_s] = self._rows[:, hi] - self._rows[:, lo]
        return sums


def upward_velocities(sums: _Sums, half_s: float = SMOOTH_HALF_S) -> Floats:
    """Smoothed upward (towards full extension) velocity at each sample, mm/s: the slope of the line through
    the samples within `half_s`, (n Sty - St Sy) / (n Stt - St St)."""
    n, st, stt, _, _, sy, sty, _ = sums.window(half_s)
    spread = n * stt - st * st
    slope = np.divide(n * sty - st * sy, spread, out=np.zeros_like(spread), where=(n >= 2) & (spread > 1e-12))
    # Deeper is larger, so a push (depth falling) is a positive upward velocity.
    upward: Floats = -slope
    return upward


def _averaged(sums: _Sums, half_s: float) -> Floats:
    """Each sample's depth averaged with those within `half_s`: quick to search for where a level is passed."""
    t, running = sums.t, sums.running_depth
    lo = np.searchsorted(t, t - half_s, "left")
    hi = np.searchsorted(t, t + half_s, "right")
    averaged: Floats = (running[hi] - running[lo]) / (hi - lo)
    return averaged


def _quadratic(sums: _Sums, y: Floats) -> Floats:
    """The depth at each sample on the least-squares parabola through the samples within QUADRATIC_HALF_S.

    The window's moments about each sample (x = t - t_i) come from the
    running sums by the binomial expansion, and the parabola's value at
    x = 0 is its intercept (Cramer's rule). Where a window holds too few
    samples for a parabola the raw depth stands.
    """
    s0, s1, s2, s3, s4, y0, y1, y2 = sums.window(QUADRATIC_HALF_S)
    c = sums.t
    c2 = c * c
    c3 = c2 * c
    m1 = s1 - c * s0
    m2 = s2 - 2 * c * s1 + c2 * s0
    m3 = s3 - 3 * c * s2 + 3 * c2 * s1 - c3 * s0
    m4 = s4 - 4 * c * s3 + 6 * c2 * s2 - 4 * c3 * s1 + c2 * c2 * s0
    n1 = y1 - c * y0
    n2 = y2 - 2 * c * y1 + c2 * y0
    det = s0 * (m2 * m4 - m3 * m3) - m1 * (m1 * m4 - m3 * m2) + m2 * (m1 * m3 - m2 * m2)
    top = y0 * (m2 * m4 - m3 * m3) - m1 * (n1 * m4 - m3 * n2) + m2 * (n1 * m3 - m2 * n2)
    fits = (s0 >= 4) & (np.abs(det) > 1e-18)
    return np.where(fits, np.divide(top, det, out=np.zeros_like(det), where=fits), y)


def concentric_figures(samples: Sequence[Sample]) -> RepFigures | None:
    """The push in `samples` (a stretch of the stream around one rep's concentric phase), or None.

    `samples` should reach from a little before the turn at the bottom to a
    little after the sled settles at the top; its fastest upward stretch is
    taken as the push. None when there is no clear push in it (too few
    samples, or the sled barely moved).
    """
    if len(samples) < 4:
        return None
    data = np.asarray(samples, dtype=np.float64)
    return figures_of(data[:, 0], data[:, 1])


def figures_of(ts: Floats, mm: Floats) -> RepFigures | None:
    """`concentric_figures` on the times and depths as arrays (times ascending)."""
    if len(ts) < 4:
        return None
    t = ts - ts[0]
    sums = _Sums(t, mm)
    v = upward_velocities(sums)
    fastest = int(np.argmax(v))
    peak = float(v[fastest])
    if peak < MIN_PEAK_MM_S:
        return None
    pos = _averaged(sums, SMOOTH_HALF_S / 2)
    deepest = int(np.argmax(pos[: fastest + 1]))
    highest = fastest + int(np.argmin(pos[fastest:]))
    bottom, top = _rest_level(t, mm, deepest), _rest_level(t, mm, highest)
    rom = bottom - top
    if rom <= 0:
        return None
    times, fitted = t.tolist(), _quadratic(sums, mm).tolist()
    # Height above the bottom before the fastest moment, distance still to go after it: both start at 0.
    # A push off a bounce never rests: it starts where the sled turned (upward velocity through zero), and
    # the line back to rest would reach into the lowering. Noise on a still sled crosses zero too, but
    # the push's own start is never later than its last crossing before it got going.
    start = max(_from_rest(times, pos, fitted, bottom, fastest, rom, -1), _turned(times, v, fastest, -1))
    end = min(_from_rest(times, pos, fitted, top, fastest, rom, +1), _turned(times, v, fastest, +1))
    duration = end - start
    if duration <= 0:
        return None
    # The fastest of many noisy slopes is biased up by the noise: the peak is read on a wider line there.
    steady = _slope_near(t, mm, fastest)
    steady_peak = peak if steady is None else max(steady, 0.0)
    return RepFigures(mean_velocity_mps=rom / duration / 1000, peak_velocity_mps=steady_peak / 1000,
                      rom_mm=rom, concentric_s=duration)


def _slope_near(t: Floats, mm: Floats, i: int) -> float | None:
    """The upward velocity of the line through the samples within PEAK_HALF_S of sample i."""
    lo, hi = np.searchsorted(t, [t[i] - PEAK_HALF_S, t[i] + PEAK_HALF_S], "left")
    if hi - lo < 3:
        return None
    x, y = t[lo:hi], mm[lo:hi]
    x = x - x.mean()
    return float(-(x @ y) / (x @ x))


def _from_rest(ts: list[float], averaged: Floats, fitted: list[float], rest: float, i: int, rom: float,
               step: int) -> float:
    """When the sled was (or came back) at rest at depth `rest`, walking from sample i in direction `step`.

    Leaving rest smoothly, the distance gone grows with the square of the
    time since (constant acceleration at first), so its square root grows
    in a straight line: the least-squares line through the moments it passes
    each of LEVELS of the range, followed back to zero distance, is the
    moment of rest. Several levels, so the noise at each one averages out.
    """
    gone = np.abs(averaged - rest)
    # The samples from i outwards: before it walking back, or after it walking on. The first sample within
    # each level is where the running minimum first gets there: one search for all the levels.
    side = gone[i::-1] if step < 0 else gone[i:]
    closest = np.minimum.accumulate(side)
    firsts = np.searchsorted(-closest, -_LEVELS * rom, "left").tolist()
    points = []
    for level, root, k in zip(LEVELS, _ROOTS, firsts, strict=True):
        if k == 0 or k >= len(side):
            continue
        # Found on the running average, then timed on the local parabola at the two samples either side: an
        # average rounds off the curve where the sled leaves rest and would time every push early.
        after = i + step * k
        before = after - step
        t = _between(ts[after], abs(fitted[after] - rest), ts[before], abs(fitted[before] - rest), level * rom)
        points.append((root, t))
    edge = ts[0] if step < 0 else ts[-1]
    if len(points) < 2:
        return edge
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_t = sum(t for _, t in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    slope = sum((x - mean_x) * (t - mean_t) for x, t in points) / spread
    at_rest = mean_t - slope * mean_x
    # Rest is never short of the moment the sled came within the nearest level of it. On a short push the
    # levels are a few mm, within the sensor's noise, and the line can tilt the wrong way: it then put the
    # end of a 1.4 s push 0.03 s after its fastest moment, doubled its mean velocity and raised a false
    # velocity_loss on the next rep (the cue engine's property test, scenario shallow, seed 3592).
    passed = [t for _, t in points]
    at_rest = min(at_rest, min(passed)) if step < 0 else max(at_rest, max(passed))
    return max(edge, at_rest) if step < 0 else min(edge, at_rest)


def _turned(ts: list[float], v: Floats, i: int, step: int) -> float:
    """When the upward velocity last was zero, walking from sample i by `step` (the window's edge if never)."""
    side = v[i::-1] if step < 0 else v[i:]
    still = np.flatnonzero(side <= 0)
    if not len(still):
        return ts[0] if step < 0 else ts[-1]
    k = i + step * int(still[0])
    j = k - step
    return _between(ts[k], float(v[k]), ts[j], float(v[j]), 0.0)


def _rest_level(t: Floats, mm: Floats, i: int) -> float:
    """Where the sled rests around sample i (an extreme of the smoothed path): the median of the raw depths
    within SMOOTH_HALF_S. The extreme itself sits a noise's width beyond the rest, which would time the
    push as leaving earlier and arriving later than it did."""
    lo, hi = np.searchsorted(t, [t[i] - SMOOTH_HALF_S, t[i] + SMOOTH_HALF_S], "left")
    # A few dozen values: sorting them in Python is quicker than numpy's median is to call.
    values: list[float] = mm[lo:max(hi, i + 1)].tolist()
    return statistics.median(values)


def _between(t0: float, y0: float, t1: float, y1: float, level: float) -> float:
    if y1 == y0:
        return t1
    return t0 + (level - y0) / (y1 - y0) * (t1 - t0)
