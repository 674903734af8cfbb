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
"""

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

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
# Standard gravity, m/s2.
G = 9.80665
# Slower than this (mm/s) at its fastest is no push at all: noise on a still sled.
MIN_PEAK_MM_S = 20.0

Sample = tuple[float, float]  # (ts in s, depth in mm; deeper is larger)


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


def upward_velocities(samples: Sequence[Sample], half_s: float = SMOOTH_HALF_S) -> list[float]:
    """Smoothed upward (towards full extension) velocity at each sample, mm/s.

    Running sums make it one pass whatever the rate: the line through the
    samples within SMOOTH_HALF_S of each one has slope
    (n Stm - St Sm) / (n Stt - St St). Times are taken from the first sample,
    so epoch seconds do not swallow the milliseconds in the squares.
    """
    n = len(samples)
    if n < 3:
        return [0.0] * n
    t0 = samples[0][0]
    ts = [s[0] - t0 for s in samples]
    mm = [s[1] for s in samples]
    out: list[float] = []
    lo = hi = 0
    st = sm = stt = stm = 0.0
    for i in range(n):
        while hi < n and ts[hi] <= ts[i] + half_s:
            t, m = ts[hi], mm[hi]
            st, sm, stt, stm = st + t, sm + m, stt + t * t, stm + t * m
            hi += 1
        while ts[lo] < ts[i] - half_s:
            t, m = ts[lo], mm[lo]
            st, sm, stt, stm = st - t, sm - m, stt - t * t, stm - t * m
            lo += 1
        k = hi - lo
        spread = k * stt - st * st
        # Deeper is larger, so a push (depth falling) is a positive upward velocity.
        out.append(-(k * stm - st * sm) / spread if k >= 2 and spread > 1e-12 else 0.0)
    return out


def concentric_figures(samples: Sequence[Sample]) -> RepFigures | None:
    """The push in `samples` (a stretch of the stream around one rep's concentric phase), or None.

    `samples` should reach from a little before the turn at the bottom to a
    little after the sled settles at the top; its fastest upward stretch is
    taken as the push. None when there is no clear push in it (too few
    samples, or the sled barely moved).
    """
    if len(samples) < 4:
        return None
    v = upward_velocities(samples)
    fastest = max(range(len(v)), key=v.__getitem__)
    peak = v[fastest]
    if peak < MIN_PEAK_MM_S:
        return None
    pos = _smoothed_position(samples)
    deepest = max(range(fastest + 1), key=pos.__getitem__)
    highest = min(range(fastest, len(pos)), key=pos.__getitem__)
    bottom, top = _rest_level(samples, deepest), _rest_level(samples, highest)
    rom = bottom - top
    if rom <= 0:
        return None
    # Height above the bottom before the fastest moment, distance still to go after it: both start at 0.
    # A push off a bounce never rests: it starts where the sled turned (upward velocity through zero), and
    # the line back to rest would reach into the lowering. Noise on a still sled crosses zero too, but
    # the push's own start is never later than its last crossing before it got going.
    start = max(_from_rest(samples, pos, bottom, fastest, rom, -1), _turned(samples, v, fastest, -1))
    end = min(_from_rest(samples, pos, top, fastest, rom, +1), _turned(samples, v, fastest, +1))
    duration = end - start
    if duration <= 0:
        return None
    # The fastest of many noisy slopes is biased up by the noise: the peak is read on a wider line.
    steady_peak = max(upward_velocities(samples, PEAK_HALF_S))
    return RepFigures(mean_velocity_mps=rom / duration / 1000, peak_velocity_mps=steady_peak / 1000,
                      rom_mm=rom, concentric_s=duration)


def _from_rest(samples: Sequence[Sample], pos: list[float], rest: float, i: int, rom: float, step: int) -> float:
    """When the sled was (or came back) at rest at depth `rest`, walking from sample i in direction `step`.

    Leaving rest smoothly, the distance gone grows with the square of the
    time since (constant acceleration at first), so its square root grows
    in a straight line: the least-squares line through the moments it passes
    each of LEVELS of the range, followed back to zero distance, is the
    moment of rest. Several levels, so the noise at each one averages out.
    """
    points = []
    for level in LEVELS:
        t = _passes(samples, pos, rest, i, level * rom, step)
        if t is not None:
            points.append((math.sqrt(level), t))
    edge = samples[0][0] if step < 0 else samples[-1][0]
    if len(points) < 2:
        return edge
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_t = sum(t for _, t in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    slope = sum((x - mean_x) * (t - mean_t) for x, t in points) / spread
    at_rest = mean_t - slope * mean_x
    return max(edge, at_rest) if step < 0 else min(edge, at_rest)


def _passes(samples: Sequence[Sample], pos: list[float], rest: float, i: int, level: float,
            step: int) -> float | None:
    """The first time, walking from sample i by `step`, that the sled comes within `level` of `rest`.

    Found on the running average, then timed on a local quadratic fit at the
    two samples either side: an average rounds off the curve where the sled
    leaves rest and would time every push early by a few hundredths of a second.
    """
    j = i + step
    while 0 <= j < len(pos):
        if abs(pos[j] - rest) <= level < abs(pos[j - step] - rest):
            before, after = j - step, j
            gone_before = abs(_quadratic_at(samples, before) - rest)
            gone_after = abs(_quadratic_at(samples, after) - rest)
            return _between(samples[after][0], gone_after, samples[before][0], gone_before, level)
        j += step
    return None


def _quadratic_at(samples: Sequence[Sample], i: int) -> float:
    """The depth at sample i on the least-squares parabola through the samples within QUADRATIC_HALF_S."""
    t = samples[i][0]
    half = QUADRATIC_HALF_S
    s0 = s1 = s2 = s3 = s4 = y0 = y1 = y2 = 0.0
    j = i
    while j > 0 and samples[j - 1][0] >= t - half:
        j -= 1
    while j < len(samples) and samples[j][0] <= t + half:
        x, y = samples[j][0] - t, samples[j][1]
        xx = x * x
        s0, s1, s2, s3, s4 = s0 + 1, s1 + x, s2 + xx, s3 + xx * x, s4 + xx * xx
        y0, y1, y2 = y0 + y, y1 + x * y, y2 + xx * y
        j += 1
    # Cramer's rule for the intercept of y = a + b x + c x2.
    det = s0 * (s2 * s4 - s3 * s3) - s1 * (s1 * s4 - s3 * s2) + s2 * (s1 * s3 - s2 * s2)
    if s0 < 4 or abs(det) < 1e-18:
        return samples[i][1]
    return (y0 * (s2 * s4 - s3 * s3) - s1 * (y1 * s4 - s3 * y2) + s2 * (y1 * s3 - s2 * y2)) / det


def _turned(samples: Sequence[Sample], v: list[float], i: int, step: int) -> float:
    """When the upward velocity last was zero, walking from sample i by `step` (the window's edge if never)."""
    j = i
    while 0 <= j + step < len(v) and v[j + step] > 0:
        j += step
    if not 0 <= j + step < len(v):
        return samples[j][0]
    k = j + step
    return _between(samples[k][0], v[k], samples[j][0], v[j], 0.0)


def _rest_level(samples: Sequence[Sample], i: int) -> float:
    """Where the sled rests around sample i (an extreme of the smoothed path): the median of the raw depths
    within SMOOTH_HALF_S. The extreme itself sits a noise's width beyond the rest, which would time the
    push as leaving earlier and arriving later than it did."""
    t = samples[i][0]
    return statistics.median(mm for ts, mm in samples if abs(ts - t) <= SMOOTH_HALF_S)


def _between(t0: float, y0: float, t1: float, y1: float, level: float) -> float:
    if y1 == y0:
        return t1
    return t0 + (level - y0) / (y1 - y0) * (t1 - t0)


def _smoothed_position(samples: Sequence[Sample]) -> list[float]:
    """Each sample's depth averaged with those within SMOOTH_HALF_S / 2: the ends of the push sit at rest,
    where a short average removes the noise and cannot blur a motion that is not there."""
    half = SMOOTH_HALF_S / 2
    n = len(samples)
    out: list[float] = []
    lo = hi = 0
    total = 0.0
    for i in range(n):
        t = samples[i][0]
        while hi < n and samples[hi][0] <= t + half:
            total += samples[hi][1]
            hi += 1
        while samples[lo][0] < t - half:
            total -= samples[lo][1]
            lo += 1
        out.append(total / (hi - lo))
    return out
