"""The load the member presses: set between sets or mid-set from the set screen, kept in the profile, and never
at the cost of the set's safety state (the same engine goes on, its lift-off count and learnt max with it)."""

import math
from pathlib import Path

import pytest

from kiosk.contract.events import SetEnd
from tests.support.stepped_gym import SteppedGym, gym_in


class Gym(SteppedGym):
    """Ada, past the guided setup, at a stepped kiosk; her lower back leaves the pad on `lumbar()`."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, "m_ada", "Ada", tick=False)
        self.kiosk.guided_setup("skip")
        self.kiosk.run()

    def lumbar(self) -> None:
        self.pad("lumbar", "start")


@pytest.fixture
def gym(tmp_path):
    with gym_in(Gym, tmp_path) as g:
        yield g


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
