"""A member's visits kept in their profile: made at the session's end, shown at the next tap-in, bounded so the
profile fits the 8 KiB a kiosk accepts, and an old profile without them still loads."""


import pytest

from kiosk.contract.base import encode
from kiosk.contract.events import SetEnd
from kiosk.contract.profile import MAX_VISITS, MachineSettings, MemberProfile, Visit
from kiosk.core.profiles.cache import MAX_PROFILE_BYTES
from kiosk.core.snapshot import LastVisit
from kiosk.core.text_presenter import TextPresenter
from kiosk.core.training.history import visit_of, with_visit
from tests.core.test_load_stepper import Gym
from tests.support.stepped_gym import gym_in

BASE = MachineSettings(backrest_notch=3, target_depth_mm=250, max_depth_mm=300, top_mm=60)


def a_set(n: int, reps: int, load: float | None, best: float | None = 0.4) -> SetEnd:
    return SetEnd(ts=float(n), session="s", set_number=n, reps=reps, max_depth_mm=250, liftoffs=0, load_kg=load,
                  best_mean_velocity_mps=best)


def test_the_visit_names_the_heaviest_set_and_no_reps_is_no_visit():
    visit = visit_of([a_set(1, 10, 80), a_set(2, 8, 85, 0.35), a_set(3, 12, 80), a_set(4, 0, 90)], "2026-12-05")
    assert visit == Visit(date="2026-12-05", sets=3, reps=30, load_kg=85, best_reps=8, best_mean_velocity_mps=0.35)
    assert visit_of([a_set(1, 0, 80)], "2026-12-05") is None


def test_at_most_twelve_visits_and_the_same_day_twice_is_one_visit():
    settings = BASE
    for day in range(1, 16):
        settings = with_visit(settings, Visit(date=f"2026-11-{day:02d}", sets=3, reps=30), lambda _s: True)
    assert len(settings.history) == MAX_VISITS and settings.history[0].date == "2026-11-04"
    settings = with_visit(settings, Visit(date="2026-11-15", sets=1, reps=5, load_kg=100, best_reps=5),
                          lambda _s: True)
    last = settings.history[-1]
    assert len(settings.history) == MAX_VISITS and (last.sets, last.reps, last.load_kg) == (4, 35, 100)


def test_a_profile_with_many_machines_drops_the_oldest_visits_to_stay_under_8_kib():
    full = [Visit(date=f"2026-10-{d:02d}", sets=5, reps=50, load_kg=182.5, best_reps=12,
                  best_mean_velocity_mps=0.456) for d in range(1, 13)]
    machines = {f"model-{i}": BASE.model_copy(update={"history": full, "notes": "x" * 200}) for i in range(5)}

    def fits(settings: MachineSettings) -> bool:
        whole = MemberProfile(member="m_ada", rev=1, updated=0, machines={**machines, "model-0": settings})
        return len(encode(whole)) <= MAX_PROFILE_BYTES - 256
    kept = with_visit(machines["model-0"], Visit(date="2026-12-05", sets=3, reps=30), fits)
    assert fits(kept) and kept.history[-1].date == "2026-12-05" and len(kept.history) < MAX_VISITS


@pytest.fixture
def gym(tmp_path):
    with gym_in(Gym, tmp_path) as g:
        yield g


def test_a_session_with_a_load_is_remembered_and_told_at_the_next_tap_in(gym):
    kiosk, lines = gym.kiosk, []
    kiosk.observe(TextPresenter(lines.append))
    kiosk.set_load(80.0)
    kiosk.run()
    for _ in range(3):
        gym.move(200.0, 1.5)
        gym.move(40.0, 1.2)
    gym.move(40.0, 5.0)  # the set ends by resting
    kiosk.end_session()
    kiosk.run()
    saved = gym.saved[-1]
    assert saved.load_kg == 80.0 and len(saved.history) == 1
    visit = saved.history[0]
    assert (visit.sets, visit.reps, visit.load_kg, visit.best_reps) == (1, 3, 80.0, 3)
    assert visit.best_mean_velocity_mps is not None and 0.1 < visit.best_mean_velocity_mps < 0.2
    # The member taps in again: last time is told (the screen's notice, and the headless log's line).
    kiosk.scan(kiosk.keyring.code("m_ada", "Ada", now=gym.clock.now()))
    kiosk.run()
    told = [e for e in gym.events if isinstance(e, LastVisit)]
    assert told and told[-1].visit == visit and told[-1].load_kg == 80.0
    assert any(line.startswith(f"Last time ({visit.date}): 1 set, 3 reps; best set 80 kg x 3") for line in lines)


def test_an_old_profile_without_the_new_fields_loads_and_is_saved_with_them():
    old = {"backrest_notch": 2, "target_depth_mm": 250.0, "max_depth_mm": 300.0, "top_mm": 60.0, "future": 1}
    settings = MachineSettings.model_validate(old)
    assert settings.load_kg is None and settings.history == []
    again = MachineSettings.model_validate_json(encode(with_visit(settings, Visit(date="2026-12-05", sets=1, reps=8),
                                                                  lambda _s: True)))
    assert again.history[0].reps == 8 and again.model_extra == {"future": 1}
