"""Feed a trace through a cue engine the way the kiosk does: decode, dispatch, and tick the clock.

A trace is anything shaped like the simulator's (`kiosk.sim.traces.Trace`): the core states the
shape it reads as a Protocol, so tests and benchmarks replay the simulator's traces without the
core importing the simulator.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from kiosk.contract.base import PayloadError, decode
from kiosk.contract.config import CueThresholds, MachineGeometry
from kiosk.contract.profile import MachineSettings
from kiosk.contract.sensor import DepthSample, LiftoffEvent
from kiosk.core.cues import CueEngine, CueEvent


class TraceItem(Protocol):
    @property
    def ts(self) -> float: ...
    @property
    def kind(self) -> str: ...
    @property
    def payload(self) -> bytes: ...


class Trace(Protocol):
    @property
    def settings(self) -> MachineSettings: ...
    @property
    def geometry(self) -> MachineGeometry: ...
    @property
    def items(self) -> Sequence[TraceItem]: ...

# The kiosk's clock ticks the engine ten times a second.
TICK_S = 0.1


@dataclass
class Replay:
    """Everything the engine said, in order, and how many payloads never reached it."""

    events: list[CueEvent] = field(default_factory=list)
    rejected: int = 0


def engine_for(trace: Trace, thresholds: CueThresholds | None = None, session: str | None = None) -> CueEngine:
    return CueEngine(settings=trace.settings, geometry=trace.geometry, thresholds=thresholds, session=session)


def replay(trace: Trace, engine: CueEngine, tick_s: float = TICK_S) -> Replay:
    result = Replay()
    if not trace.items:
        return result
    next_tick = trace.items[0].ts + tick_s
    for item in trace.items:
        while next_tick <= item.ts:
            result.events += engine.tick(next_tick)
            next_tick += tick_s
        try:
            if item.kind == "depth":
                result.events += engine.on_depth(decode(DepthSample, item.payload))
            else:
                result.events += engine.on_liftoff(decode(LiftoffEvent, item.payload))
        except PayloadError:
            result.rejected += 1
    return result
