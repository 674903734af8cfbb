"""The load the member presses: set between sets or mid-set from the set screen, kept in the profile, and never
at the cost of the set's safety state (the same engine goes on, its lift-off count and learnt max with it)."""

import math
import tempfile
from pathlib import Path

import pytest

from kiosk.contract.events import CueRaised, SetEnd
from kiosk.contract.profile import MachineSettings
from kiosk.contract.sensor import DepthSample, LiftoffEvent, SensorStatus
from tests.support.helpers import FakeClock
from tests.support.kiosk_harness import Keyring
from tests.support.stepped_kiosk import SteppedKiosk

T0 = 1_764_000_000.0


class Gym:
    def __init__(self, root: Path) -> None:
        self.clock = FakeClock(T0)
        keyring = Keyring(root)
        self.kiosk = SteppedKiosk(root / "data", keyring, self.clock)
        self.kiosk.start()
        self.saved: list[MachineSettings] = []
        save = self.kiosk.profiles.save

        def saved(member: str, name: str, settings: MachineSettings, language: str | None = None) -> None:
            self.saved.append(settings)
            save(member, name, settings, language)
        self.kiosk.profiles.save = saved  # type: ignore[method-assign]
        self.events: list = []
        self.kiosk.observe(self.events.append)
        self.seq = self.lift_seq = 0
        self.kiosk.deliver(self.kiosk.topics.sensor_status, SensorStatus(state="ready", ts=T0, fw="1.0"))
        self.sample(30.0)
        self.kiosk.scan(keyring.code("m_ada", "Ada", now=T0))
        self.kiosk.run()
        self.kiosk.guided_setup("skip")
        self.kiosk.run()

    def sample(self, mm: float) -> None:
        self.clock.advance(0.04)
        self.kiosk.deliver(self.kiosk.topics.sensor_depth, DepthSample(seq=self.seq, ts=self.clock.now(), mm=mm))
        self.seq += 1

    def move(self, to_mm: float, seconds: float) -> None:
        start, steps = self.kiosk.sensor.monitor.last_mm or 30.0, round(seconds / 0.04)
        for i in range(1, steps + 1):
            self.sample(start + (to_mm - start) * i / steps)

    def lumbar(self) -> None:
        self.lift_seq += 1
        self.kiosk.deliver(self.kiosk.topics.sensor_event, LiftoffEvent(
            seq=self.lift_seq, ts=self.clock.now(), type="liftoff", zone="lumbar", state="start"))

    def cues(self) -> list[tuple[str, str]]:
        return [(e.cue, e.severity) for e in self.events if isinstance(e, CueRaised)]


@pytest.fixture
def gym():
    with tempfile.TemporaryDirectory() as root:
        g = Gym(Path(root))
        yield g
        g.kiosk.stop()


def test_a_load_set_mid_set_keeps_the_lift_off_count_and_the_second_still_stops(gym):
    engine = gym.kiosk.engine
    assert engine is not None
    gym.move(200.0, 1.5)
    gym.lumbar()  # the first: a warn, and the max depth learnt
    learnt_max = engine.max_depth_mm
    gym.kiosk.set_load(102.5)
    gym.kiosk.run()
    assert gym.kiosk.engine is engine and engine.set_open
    assert engine.max_depth_mm == learnt_max and gym.kiosk.session.settings.max_depth_mm == learnt_max
    assert gym.saved[-1].load_kg == 102.5
    gym.lumbar()  # the second in the same set
    assert ("liftoff_lumbar", "stop") in gym.cues()
    end = next(e for e in gym.events if isinstance(e, SetEnd))
    assert end.stopped and end.load_kg == 102.5


def test_a_load_set_between_sets_is_in_the_next_set_end(gym):
    gym.move(200.0, 1.5)
    gym.move(40.0, 1.2)
    gym.move(40.0, 5.0)  # rests at the top: the set ends
    first = [e for e in gym.events if isinstance(e, SetEnd)]
    assert len(first) == 1 and first[0].load_kg is None
    engine = gym.kiosk.engine
    gym.kiosk.set_load(80.0)
    gym.kiosk.run()
    assert gym.kiosk.engine is engine
    gym.move(200.0, 1.5)
    gym.move(40.0, 1.2)
    gym.move(40.0, 5.0)
    ends = [e for e in gym.events if isinstance(e, SetEnd)]
    assert len(ends) == 2 and ends[1].load_kg == 80.0


@pytest.mark.parametrize("hostile", [-5.0, 1e9, math.nan, math.inf])
def test_a_load_outside_the_contract_changes_nothing(gym, hostile):
    gym.kiosk.set_load(60.0)
    gym.kiosk.run()
    saves = len(gym.saved)
    gym.kiosk.set_load(hostile)
    gym.kiosk.run()
    assert gym.kiosk.session.settings.load_kg == 60.0 and len(gym.saved) == saves
