"""A max depth a lift-off lowers: once a session, within the floor, its reason kept in the profile, and staff
can restore it (issue 22, item 8). Stepped core, fake clock, no broker."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from kiosk.contract.events import CueRaised
from kiosk.contract.profile import MachineSettings, MaxLowered
from kiosk.core.machine.depth_limits import TARGET_MARGIN_MM
from tests.core.test_guided_setup_fit import Gym
from tests.support.helpers import eventually

LOWERED = {"backrest_notch": 1, "target_depth_mm": 200.0, "max_depth_mm": 240.0, "top_mm": 30.0,
           "max_lowered": {"from_mm": 300.0, "liftoff_mm": 270.0, "ts": 1_764_000_000.0}}


def test_profiles_from_before_the_reason_load_and_stay_without_it():
    old = MachineSettings.model_validate({k: v for k, v in LOWERED.items() if k != "max_lowered"})
    assert old.max_lowered is None and "max_lowered" not in old.model_dump_json()
    kept = MachineSettings.model_validate_json(MachineSettings.model_validate(LOWERED).model_dump_json())
    assert kept.max_lowered is not None and kept.max_lowered.from_mm == 300.0
    # A newer kiosk's fields inside the reason survive an older one's save.
    newer = MachineSettings.model_validate(LOWERED | {"max_lowered": LOWERED["max_lowered"] | {"by": "x"}})
    assert '"by":"x"' in newer.model_dump_json()


@pytest.mark.parametrize("later", ["same set", "next set"])
def test_a_lift_off_lowers_the_max_once_a_session_and_the_profile_keeps_why(tmp_path, later):
    gym = Gym(tmp_path)
    try:
        gym.kiosk.guided_setup("skip")  # the first-time defaults: max 325 mm, target 250 mm
        gym.kiosk.run()
        gym.rep(300.0, lift="lumbar")
        lowered = gym.saved[-1]
        assert lowered.max_depth_mm == 270.0  # the 30 mm margin short of where the back lifted
        reason = lowered.max_lowered
        assert reason is not None and (reason.from_mm, reason.liftoff_mm) == (325.0, 300.0)
        assert lowered.target_depth_mm <= lowered.max_depth_mm - 10
        if later == "next set":
            gym.hold(5.0)  # rested at the top: the set ends
        gym.rep(220.0, lift="lumbar")  # shallower: a stop in the same set, but the max stays where it is
        gym.rep(230.0)
        cues = [(m.cue, m.severity) for m in gym.kiosk.screen.seen if isinstance(m, CueRaised)]
        assert (("liftoff_lumbar", "stop") in cues) == (later == "same set")
        gym.kiosk.end_session()
        gym.kiosk.run()
        final = gym.saved[-1]
        assert final.max_depth_mm == 270.0 and final.max_lowered == reason
    finally:
        gym.kiosk.stop()


def staff(gym: Gym, act):
    """A maintenance-screen call (it blocks on the core thread) while the test steps the core."""
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(act, gym.kiosk.maintenance)
        eventually(lambda: (gym.kiosk.run(), future.done())[1], what="the core answered")
        return future.result()


def test_staff_restore_a_lowered_max_and_the_reason_goes_with_it(tmp_path):
    gym = Gym(tmp_path)
    try:
        gym.kiosk.guided_setup("skip")
        gym.kiosk.run()
        with pytest.raises(ValueError, match="Nothing to restore"):
            staff(gym, lambda desk: desk.restore_max("m_new"))
        gym.rep(300.0, lift="lumbar")
        gym.kiosk.end_session()
        gym.kiosk.run()
        (member, name, lowered), = staff(gym, lambda desk: desk.lowered_maxes())
        assert (member, name, lowered.max_depth_mm) == ("m_new", "Nia", 270.0)
        restored = staff(gym, lambda desk: desk.restore_max("m_new"))
        assert (restored.max_depth_mm, restored.max_lowered) == (325.0, None)
        assert restored.target_depth_mm == lowered.target_depth_mm <= 325.0 - TARGET_MARGIN_MM
        assert gym.saved[-1] == restored and gym.kiosk.profiles.settings_for("m_new")[1] == restored
        assert staff(gym, lambda desk: desk.lowered_maxes()) == []
        assert gym.kiosk.profiles.book.pending()[-1].name == "Nia"
    finally:
        gym.kiosk.stop()


def test_a_later_session_lowering_again_keeps_the_max_from_before_any_lowering(tmp_path):
    gym = Gym(tmp_path)
    try:
        gym.kiosk.guided_setup("skip")
        gym.kiosk.run()
        gym.rep(300.0, lift="lumbar")
        gym.kiosk.end_session()
        gym.kiosk.run()
        gym.hold(1.0)
        gym.kiosk.scan(gym.kiosk.keyring.code("m_new", "Nia", now=gym.clock.now()))
        gym.kiosk.run()
        member = gym.kiosk.snapshot.member
        assert member is not None and member.settings.max_depth_mm == 270.0 and not member.first_time
        gym.rep(250.0, lift="lumbar")
        again = gym.saved[-1]
        reason = again.max_lowered
        assert again.max_depth_mm == 220.0
        # What a restore brings back is the max before the first lowering, not the one before this.
        assert reason is not None and (reason.from_mm, reason.liftoff_mm) == (325.0, 250.0)
    finally:
        gym.kiosk.stop()


@pytest.mark.parametrize("from_mm", [1999.0, 100.0])
def test_a_hostile_reason_never_restores_past_the_travel_nor_shallower(tmp_path, from_mm):
    gym = Gym(tmp_path)
    try:
        gym.kiosk.guided_setup("skip")
        gym.kiosk.run()
        gym.kiosk.end_session()
        gym.kiosk.run()
        kept = gym.saved[-1]
        forged = kept.model_copy(update={"max_lowered": MaxLowered(from_mm=from_mm, liftoff_mm=5.0, ts=1.0)})
        gym.kiosk.profiles.save("m_new", "Nia", forged)
        restored = staff(gym, lambda desk: desk.restore_max("m_new"))
        travel = gym.kiosk.geometry.travel_mm
        assert restored.max_depth_mm == (travel if from_mm > travel else kept.max_depth_mm)
        assert restored.max_lowered is None and restored.target_depth_mm <= restored.max_depth_mm - TARGET_MARGIN_MM
    finally:
        gym.kiosk.stop()
