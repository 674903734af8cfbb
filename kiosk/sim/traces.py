"""Deterministic sensor traces: scripted members doing named scenarios, as the sensor node would send them.

Shared by the simulator (publishes them), the tests (replay them through the
cue engine and check the ground truth) and the benchmark. The same scenario
and seed always give the same bytes.
"""

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace

from kiosk.contract.base import encode
from kiosk.contract.config import CueThresholds, MachineGeometry
from kiosk.contract.profile import MachineSettings
from kiosk.contract.sensor import DepthSample, LiftoffEvent
from kiosk.sim.chaos import Havoc, wreck
from kiosk.sim.items import TraceItem
from kiosk.sim.motion import SledPath, slowing_down, speeding_up

SCENARIOS = ("good", "butt-wink", "too-deep", "fast-descent", "lockout", "bounce", "dropout", "chaos", "shallow")

# The member every scenario is written for: 45-degree sled with 500 mm travel.
TRACE_GEOMETRY = MachineGeometry()
TRACE_SETTINGS = MachineSettings(backrest_notch=3, target_depth_mm=250.0, max_depth_mm=300.0, top_mm=60.0)
START_TS = 1_764_000_000.0
# Where this member's lower back peels off the pad (butt-wink), and where it is back on.
LUMBAR_LIFTS_MM = 255.0
LUMBAR_BACK_MM = 245.0

_DEFAULTS = CueThresholds()
# Longer than the engine's rest, so every set in a trace ends by itself.
SET_REST_S = _DEFAULTS.set_rest_s + 1.5
# The dropout starts and ends this long inside a pause at the top.
DROPOUT_MARGIN_S = 0.4

Cue = tuple[str, str]  # (cue id, severity)


@dataclass(frozen=True)
class GroundTruth:
    """What a correct engine must make of the trace (with `TRACE_SETTINGS` and default thresholds)."""

    reps: int
    cues: frozenset[Cue]  # each raised at least once; no other cue may be
    sets: int = 1
    stopped: bool = False
    learnt_max_depth_mm: float | None = None
    silences: tuple[tuple[float, float], ...] = ()  # sensor quiet from, to
    havoc: Havoc = Havoc()
    # Each rep's push as scripted: (range in mm, seconds), so its mean velocity is known exactly.
    pushes: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class Trace:
    """A generated scenario: the messages in sending order and what they should lead to."""

    scenario: str
    seed: int
    rate_hz: float
    settings: MachineSettings
    geometry: MachineGeometry
    items: tuple[TraceItem, ...]
    truth: GroundTruth

    @property
    def duration_s(self) -> float:
        return self.items[-1].ts - self.items[0].ts if self.items else 0.0


@dataclass
class _Rep:
    depth: float
    top: float
    lowering_s: float
    pushing_s: float
    bottom_s: float
    top_s: float


def generate(scenario: str, seed: int = 0, rate_hz: float | None = None, reps: int | None = None,
             sets: int = 1, start_ts: float = START_TS) -> Trace:
    """The trace of `scenario` (one of SCENARIOS) for `seed`.

    Rate and rep count are drawn from the seed unless given.
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
    if scenario == "butt-wink" and sets != 1:
        raise ValueError("butt-wink is one set: its second lift-off stops it")
    rng = random.Random(f"{scenario}:{seed}")
    rate = rate_hz or rng.uniform(20.0, 100.0)
    noise_mm = rng.uniform(1.0, 2.0)
    s = TRACE_SETTINGS
    path = SledPath(start_ts, s.top_mm + rng.uniform(0, 8))
    total_reps, silences, pushes = 0, [], []
    for _ in range(sets):
        path.hold(rng.uniform(1.0, 2.0))
        plan = _plan(scenario, rng, reps or rng.randint(4, 7))
        for i, rep in enumerate(plan):
            if scenario == "bounce":
                _bounce(path, rep, rng)
            else:
                path.move(rep.depth, rep.lowering_s).hold(rep.bottom_s).move(rep.top, rep.pushing_s).hold(rep.top_s)
                pushes.append((rep.depth - rep.top, rep.pushing_s))
            if scenario == "dropout" and i == len(plan) // 2:
                # Quiet inside the pause at the top, half way through the set.
                silences.append((path.end - rep.top_s + DROPOUT_MARGIN_S, path.end - DROPOUT_MARGIN_S))
        path.hold(SET_REST_S)
        total_reps += len(plan)
    depth = _sample(path, rate, noise_mm, rng, silences)
    events = _liftoff_events(path) if scenario == "butt-wink" else []
    truth = _truth(scenario, total_reps, sets, tuple(silences))
    if scenario == "chaos":
        depth, events, havoc = wreck(depth, events, rng)
        truth = replace(truth, havoc=havoc)
    truth = replace(truth, pushes=tuple(pushes))
    items = tuple(sorted(depth + events, key=lambda item: item.ts))
    return Trace(scenario, seed, rate, s, TRACE_GEOMETRY, items, truth)


def timed_pushes(push_s: Sequence[float], seed: int = 0, rate_hz: float = 50.0, rom_mm: float = 250.0,
                 start_ts: float = START_TS) -> Trace:
    """One set whose pushes take `push_s` seconds each over `rom_mm`: a member slowing down (or not), for the
    velocity figures. Lowering, pauses and noise are drawn from the seed as in `generate`."""
    rng = random.Random(f"timed:{seed}")
    noise_mm = rng.uniform(1.0, 2.0)
    top = 40.0
    path = SledPath(start_ts, top).hold(rng.uniform(1.0, 2.0))
    for seconds in push_s:
        path.move(top + rom_mm, rng.uniform(2.4, 3.0)).hold(rng.uniform(0.1, 0.4))
        path.move(top, seconds).hold(rng.uniform(0.6, 1.2))
    path.hold(SET_REST_S)
    settings = MachineSettings(backrest_notch=3, target_depth_mm=top + rom_mm, max_depth_mm=top + rom_mm + 60,
                               top_mm=top)
    truth = GroundTruth(reps=len(push_s), cues=frozenset({("depth_reached", "info")}),
                        pushes=tuple((rom_mm, seconds) for seconds in push_s))
    items = tuple(_sample(path, rate_hz, noise_mm, rng, []))
    return Trace("timed", seed, rate_hz, settings, TRACE_GEOMETRY, items, truth)


def _plan(scenario: str, rng: random.Random, count: int) -> list[_Rep]:
    s = TRACE_SETTINGS

    # Every scripted member pushes at a steady pace (within 10%): none slows past the velocity-loss threshold.
    # `timed_pushes` writes one who does.
    def rep(depth: float | None = None, top: float | None = None, lowering: tuple[float, float] = (2.6, 3.4),
            bottom: tuple[float, float] = (0.1, 0.4)) -> _Rep:
        return _Rep(depth=depth if depth is not None else s.target_depth_mm + rng.uniform(-3, 10),
                    top=top if top is not None else s.top_mm + rng.uniform(0, 8),
                    lowering_s=rng.uniform(*lowering), pushing_s=rng.uniform(1.65, 1.8),
                    bottom_s=rng.uniform(*bottom), top_s=rng.uniform(0.5, 1.5))

    if scenario == "butt-wink":
        # Fine, then past the lift-off point (warn), then shallower but past the
        # lowered max depth, then past the lift-off point again (stop).
        return [rep(depth=rng.uniform(247, 252)), rep(depth=rng.uniform(262, 270)),
                rep(depth=rng.uniform(236, 244)), rep(depth=rng.uniform(262, 270))]
    if scenario == "too-deep":
        return [rep(depth=s.max_depth_mm + rng.uniform(15, 35)) for _ in range(count)]
    if scenario == "fast-descent":
        return [rep(lowering=(0.9, 1.4), bottom=(0.25, 0.4)) for _ in range(count)]
    if scenario == "lockout":
        return [rep(top=s.top_mm - rng.uniform(30, 45)) for _ in range(count)]
    if scenario == "dropout":
        plan = [rep() for _ in range(count)]
        # Long enough for the engine to call the sensor lost, short of ending the set.
        plan[count // 2].top_s = 2 * DROPOUT_MARGIN_S + rng.uniform(1.6, 2.2)
        return plan
    if scenario == "shallow":
        # On a short rep the first few mm of lowering hide in the sensor noise,
        # so the engine reads it a little quick; these members lower slowly
        # enough to stay clear of descent_fast.
        plan = [rep(depth=s.target_depth_mm * rng.uniform(0.5, 0.65), lowering=(2.8, 3.5)) for _ in range(count)]
        for r in plan:
            # Shorter reps take shorter pushes: the member's pace stays steady whatever the range.
            r.pushing_s *= (r.depth - r.top) / (0.6 * s.target_depth_mm - s.top_mm)
        return plan
    return [rep() for _ in range(count)]


def _bounce(path: SledPath, rep: _Rep, rng: random.Random) -> None:
    """Drop fast into the bottom, rebound off it, drive out fast: no pause anywhere near the bottom."""
    speed = rng.uniform(400, 430)
    turn_s = rng.uniform(0.03, 0.05)
    turn_mm = rep.depth - speed * turn_s / 4
    # Each easing leaves or arrives at `speed` when it lasts (pi / 2) * distance / speed.
    path.move(turn_mm, 1.5708 * (turn_mm - path.mm) / speed, speeding_up)
    path.rebound(speed, turn_s)
    path.move(rep.top, 1.5708 * (turn_mm - rep.top) / speed, slowing_down).hold(rep.top_s)


def _sample(path: SledPath, rate: float, noise_mm: float, rng: random.Random,
            silences: list[tuple[float, float]]) -> list[TraceItem]:
    items, seq, t, period = [], 0, path.start, 1.0 / rate
    while t <= path.end:
        if not any(a <= t < b for a, b in silences):
            mm = round(path.at(t) + rng.gauss(0.0, noise_mm), 1)
            items.append(TraceItem(t, "depth", encode(DepthSample(seq=seq, ts=round(t, 4), mm=mm))))
            seq += 1
        # Sensor nodes on a busy microcontroller never sample exactly on the beat.
        t += period * rng.uniform(0.85, 1.15)
    return items


def _liftoff_events(path: SledPath) -> list[TraceItem]:
    items = []
    for seq, (t, started) in enumerate(path.crossings(LUMBAR_LIFTS_MM, LUMBAR_BACK_MM)):
        event = LiftoffEvent(seq=seq, ts=round(t, 4), type="liftoff", zone="lumbar",
                             state="start" if started else "end")
        items.append(TraceItem(t, "event", encode(event)))
    return items


def _truth(scenario: str, reps: int, sets: int, silences: tuple[tuple[float, float], ...]) -> GroundTruth:
    reached = ("depth_reached", "info")
    cues: dict[str, frozenset[Cue]] = {
        "good": frozenset({reached}),
        "chaos": frozenset({reached}),
        "too-deep": frozenset({reached, ("too_deep", "warn")}),
        "fast-descent": frozenset({reached, ("descent_fast", "info")}),
        "lockout": frozenset({reached, ("lockout", "warn")}),
        "bounce": frozenset({reached, ("bounce", "info"), ("descent_fast", "info")}),
        "dropout": frozenset({reached, ("sensor_lost", "warn")}),
        "shallow": frozenset({("shallow", "info")}),
        "butt-wink": frozenset({reached, ("too_deep", "warn"), ("liftoff_lumbar", "warn"),
                                ("liftoff_lumbar", "stop")}),
    }
    if scenario == "butt-wink":
        # The second lift-off stops the set during the fourth rep.
        return GroundTruth(reps=3, cues=cues[scenario], sets=1, stopped=True,
                           learnt_max_depth_mm=LUMBAR_LIFTS_MM - _DEFAULTS.liftoff_margin_mm)
    return GroundTruth(reps=reps, cues=cues[scenario], sets=sets, silences=silences)
