"""The session's end says today against last time and the load for next time (double progression), the
headless log says it in one line, and the next tap-in's load stepper starts from that load."""

import tempfile
from pathlib import Path
from typing import Any

import pytest

from kiosk.contract.config import KG_PER_LB
from kiosk.core.snapshot import LastVisit, VisitDone
from kiosk.core.training.history import day_of
from kiosk.core.training.load_steps import stepped_load
from tests.support.stepped_gym import SteppedGym, gym_in

DAY_S = 86_400.0


class Gym(SteppedGym):
    """Ada, past the guided setup, at a kiosk whose site asks for 3 reps a set before adding load."""

    def __init__(self, root: Path, **tuning: Any) -> None:
        super().__init__(root, "m_ada", "Ada", tick=False, target_reps=3, **tuning)
        self.kiosk.guided_setup("skip")
        self.kiosk.run()

    def rep(self, push_s: float = 1.0) -> None:
        """Down 170 mm in 1.5 s, and up again in `push_s` (the push whose speed is measured)."""
        self.move(200.0, 1.5)
        self.move(40.0, push_s)

    def a_set(self, *pushes: float) -> None:
        for push in pushes:
            self.rep(push)
        self.hold(5.0)  # rests at the top: the set ends

    def finish(self) -> VisitDone:
        self.kiosk.end_session()
        self.kiosk.run()
        return [e for e in self.events if isinstance(e, VisitDone)][-1]

    def tap_in(self) -> None:
        self.kiosk.scan(self.keyring.code("m_ada", "Ada", now=self.clock.now()))
        self.kiosk.run()


@pytest.fixture
def gym(tmp_path):
    with gym_in(Gym, tmp_path) as g:
        yield g


def test_every_set_at_the_target_reps_suggests_one_step_more_and_the_next_tap_in_starts_there(gym):
    gym.kiosk.set_load(80.0)
    gym.kiosk.run()
    gym.a_set(1.0, 1.0, 1.0)
    gym.a_set(1.0, 1.0, 1.0)
    done = gym.finish()
    assert (done.next_load_kg, done.why, done.first_visit, done.before) == (82.5, "all_sets_done", True, None)
    assert (done.today.sets, done.today.load_kg, done.today.best_reps) == (2, 80.0, 3)
    assert gym.saved[-1].load_kg == 82.5
    summary = next(line for line in gym.lines if line.startswith("session summary: "))
    assert summary.startswith("session summary: Best set today: 80 kg x 3. Fastest push today: 0.")
    assert summary.endswith("Your first visit at this machine: next time you can compare. Load for next time: "
                            "82.5 kg. Every set reached 3 reps without slowing down too much: one step more.")
    # The summary is told before the session's end, which brings the summary screen.
    kinds = [type(e).__name__ for e in gym.events]
    assert kinds.index("VisitDone") < kinds.index("SessionEnd")

    gym.tap_in()
    told = [e for e in gym.events if isinstance(e, LastVisit)]
    assert told and told[-1].load_kg == 82.5
    session = gym.kiosk.session
    assert session is not None and session.settings.load_kg == 82.5
    assert gym.kiosk.snapshot.member is not None and gym.kiosk.snapshot.member.settings.load_kg == 82.5


def test_the_next_day_compares_with_last_time_and_a_set_that_slowed_keeps_the_load(gym):
    gym.kiosk.set_load(80.0)
    gym.kiosk.run()
    gym.a_set(1.0, 1.0, 1.0)
    first = gym.finish()
    assert first.next_load_kg == 82.5
    gym.clock.advance(DAY_S)
    gym.hold(1.0)
    gym.tap_in()
    gym.a_set(0.8, 0.8, 1.2)  # the last push a third slower than the best: past the 25% velocity loss
    done = gym.finish()
    assert day_of(gym.clock.now()) > first.today.date
    assert done.before == first.today and not done.first_visit
    assert (done.today.load_kg, done.next_load_kg, done.why) == (82.5, 82.5, "slowed")
    assert done.today.best_mean_velocity_mps is not None and first.today.best_mean_velocity_mps is not None
    assert done.today.best_mean_velocity_mps > first.today.best_mean_velocity_mps
    summary = [line for line in gym.lines if line.startswith("session summary: ")][-1]
    assert "Best set today: 82.5 kg x 3 (last time 80 kg x 3)." in summary
    assert "Fastest push today: " in summary and "(last time 0." in summary
    assert "first visit" not in summary
    assert summary.endswith("Load for next time: 82.5 kg. The same again: a set slowed down too much towards its end.")
    assert gym.saved[-1].load_kg == 82.5 and [v.date for v in gym.saved[-1].history] == [
        first.today.date, done.today.date]


def test_a_lift_off_keeps_the_load_and_a_session_without_a_load_suggests_none(gym):
    gym.kiosk.set_load(80.0)
    gym.kiosk.run()
    gym.move(200.0, 1.5)
    gym.pad("lumbar", "start")  # the first lift-off of the set: a warning, the set goes on
    gym.pad("lumbar", "end")
    gym.move(40.0, 1.0)
    gym.rep()
    gym.rep()
    gym.hold(5.0)
    done = gym.finish()
    assert (done.next_load_kg, done.why) == (80.0, "liftoff")
    summary = [line for line in gym.lines if line.startswith("session summary: ")][-1]
    assert summary.endswith("Load for next time: 80 kg. The same again: your lower back came off the pad.")
    gym.tap_in()
    gym.kiosk.set_load(None)
    gym.kiosk.run()
    gym.a_set(1.0, 1.0, 1.0)
    done = gym.finish()
    assert (done.next_load_kg, done.why, done.today.load_kg) == (None, None, None)
    assert "Load for next time" not in [line for line in gym.lines if line.startswith("session summary: ")][-1]


def test_a_site_in_pounds_steps_and_says_pounds_and_keeps_kilograms():
    with tempfile.TemporaryDirectory() as root:
        gym = Gym(Path(root), load_unit="lb")
        try:
            load = None
            for _ in range(20):  # twenty taps on the stepper's +
                load = stepped_load(load, 1, "lb")
            assert load is not None and round(load / KG_PER_LB, 3) == 100.0  # kept to 0.1 g
            gym.kiosk.set_load(load)
            gym.kiosk.run()
            assert gym.saved[-1].load_kg == pytest.approx(45.3592, abs=1e-4)  # the profile holds kg
            gym.a_set(1.0, 1.0, 1.0)
            done = gym.finish()
            assert done.load_unit == "lb" and done.next_load_kg is not None
            assert round(done.next_load_kg / KG_PER_LB, 3) == 105.0 and gym.saved[-1].load_kg == done.next_load_kg
            set_line = next(line for line in gym.lines if line.startswith("set 1 done"))
            assert ", 100 lb, best push" in set_line and "kg" not in set_line
            summary = next(line for line in gym.lines if line.startswith("session summary: "))
            assert "Best set today: 100 lb x 3." in summary and "Load for next time: 105 lb." in summary
            assert "Every set reached 3 reps" in summary and "kg" not in summary
            assert next(line for line in gym.lines if line.startswith("session ended")).endswith(
                "Moved in all: 300 lb.")
            gym.tap_in()
            assert any(line.endswith("best set 100 lb x 3, fastest push 0.14 m/s") for line in gym.lines)
        finally:
            gym.kiosk.stop()
