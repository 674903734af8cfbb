"""Double progression: one step more only when every set reached the target reps without slowing past the
threshold, and never after a lift-off or a stopped set; pounds step by 5 lb, kept in kg."""

import pytest

from kiosk.contract.config import KG_PER_LB
from kiosk.contract.events import SetEnd
from kiosk.contract.profile import Visit
from kiosk.core.training.load_steps import stepped_load
from kiosk.core.training.progression import next_load, visit_before


def a_set(n: int, reps: int, load: float | None = 80.0, loss: float | None = 12.0, liftoffs: int = 0,
          stopped: bool = False) -> SetEnd:
    return SetEnd(ts=float(n), session="s", set_number=n, reps=reps, max_depth_mm=250, liftoffs=liftoffs,
                  stopped=stopped, load_kg=load, best_mean_velocity_mps=0.4, velocity_loss_pct=loss)


def suggest(sets, **kw):
    return next_load(sets, target_reps=10, velocity_loss_pct=25.0, **kw)


def test_every_set_at_the_target_reps_and_fresh_adds_one_step():
    got = suggest([a_set(1, 10), a_set(2, 12), a_set(3, 10, loss=24.9)])
    assert got is not None and got.load_kg == 82.5 and got.adds


@pytest.mark.parametrize(("sets", "why"), [
    ([a_set(1, 10), a_set(2, 9)], "reps_short"),
    ([a_set(1, 10), a_set(2, 10, loss=25.0)], "slowed"),
    ([a_set(1, 10), a_set(2, 10, loss=None)], "slowed"),
    ([a_set(1, 10, stopped=True), a_set(2, 10)], "stopped"),
    ([a_set(1, 10, liftoffs=1), a_set(2, 10)], "liftoff"),
])
def test_anything_short_of_that_keeps_the_heaviest_load(sets, why):
    got = suggest(sets)
    assert got is not None and (got.load_kg, got.why, got.adds) == (80.0, why, False)


def test_no_load_or_no_rep_suggests_nothing():
    assert suggest([a_set(1, 10, load=None)]) is None
    assert suggest([a_set(1, 0)]) is None
    assert suggest([]) is None


def test_a_lift_off_between_sets_counts_too():
    got = suggest([a_set(1, 10)], liftoffs=1)
    assert got is not None and got.why == "liftoff"


def test_pounds_step_by_five_and_stay_on_the_pound_grid():
    hundred = 100 * KG_PER_LB
    got = suggest([a_set(1, 10, load=hundred)], unit="lb")
    assert got is not None and round(got.load_kg / KG_PER_LB, 3) == 105.0
    up = stepped_load(hundred, 1, "lb")
    assert up is not None and round(up / KG_PER_LB, 3) == 105.0
    assert stepped_load(None, 1, "lb") == pytest.approx(5 * KG_PER_LB, abs=1e-4)
    assert stepped_load(80.0, 1) == 82.5 and stepped_load(2.5, -1) is None


def test_the_visit_compared_with_is_the_last_on_an_earlier_day():
    history = [Visit(date="2026-12-01", sets=3, reps=30), Visit(date="2026-12-05", sets=1, reps=5)]
    assert visit_before(history, "2026-12-05") == history[0]
    assert visit_before(history[1:], "2026-12-05") is None
