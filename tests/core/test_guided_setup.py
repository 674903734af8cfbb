"""The first-time guided setup: two slow reps teach target depth and top position."""

from kiosk.contract.profile import MachineSettings
from kiosk.core.training.guided_setup import GuidedSetup
from kiosk.sim.motion import SledPath

RATE_HZ = 50


def feed(setup: GuidedSetup, path: SledPath, noise_mm: float = 0.0):
    """Sample `path` like a sensor would, with a deterministic +-noise, until the setup is done or the path ends."""
    steps = int((path.end - path.start) * RATE_HZ) + 1
    for i in range(steps):
        ts = path.start + i / RATE_HZ
        jitter = noise_mm if i % 2 else -noise_mm
        if setup.update(path.at(ts) + jitter, ts):
            return setup.result
    return setup.result


def slow_reps(depths: list[float], top: float = 30.0, rest_top: float | None = None, down_s: float = 2.5,
              start: float = 100.0) -> SledPath:
    path = SledPath(start=start, mm=top).hold(1.0)
    for depth in depths:
        path.move(depth, down_s).move(rest_top if rest_top is not None else top, 1.5).hold(1.0)
    return path


def test_two_slow_reps_set_target_short_of_the_deepest_point():
    result = feed(GuidedSetup(max_depth_mm=400), slow_reps([280, 300]))
    assert result is not None
    assert result.target_depth_mm == 280.0  # deepest 300, less the 20 mm margin
    assert len(result.reps) == 2


def test_target_never_goes_beyond_the_current_max_depth():
    result = feed(GuidedSetup(max_depth_mm=250), slow_reps([320, 330]))
    assert result.target_depth_mm == 250.0


def test_top_is_the_highest_rest_between_reps_plus_a_soft_knee_margin():
    path = SledPath(start=100.0, mm=40.0).hold(1.0).move(300, 2.5).move(22, 1.5).hold(1.0).move(300, 2.5).move(40, 1.5)
    result = feed(GuidedSetup(max_depth_mm=400), path.hold(1.0))
    # Where the member rests (the highest of their rests), so resting there later is not a lockout.
    assert result.top_mm == 22.0


def test_a_rest_with_the_legs_nearly_straight_does_not_become_the_top():
    result = feed(GuidedSetup(max_depth_mm=400), slow_reps([280, 290], top=4.0))
    assert result.top_mm == 15.0  # the soft bend kept from straight legs


def test_fast_reps_are_not_counted():
    setup = GuidedSetup(max_depth_mm=400)
    feed(setup, slow_reps([300, 300], down_s=0.8))
    assert setup.result is None
    assert setup.fast_reps == 2
    assert feed(setup, slow_reps([290, 290]).hold(0.1)) is not None


def test_small_shuffles_are_not_reps():
    path = SledPath(start=100.0, mm=30.0).hold(1.0)
    for _ in range(5):
        path.move(70, 2.0).move(30, 2.0)
    setup = GuidedSetup(max_depth_mm=400)
    assert feed(setup, path) is None
    assert setup.reps == []


def test_noise_at_the_top_and_bottom_does_not_split_a_rep():
    setup = GuidedSetup(max_depth_mm=400)
    result = feed(setup, slow_reps([300, 310]), noise_mm=4.0)
    assert result is not None and len(result.reps) == 2
    assert setup.fast_reps == 0


def test_result_applies_to_the_members_settings_only_where_it_learnt():
    settings = MachineSettings(backrest_notch=1, target_depth_mm=250, max_depth_mm=325, top_mm=30)
    result = feed(GuidedSetup(max_depth_mm=settings.max_depth_mm), slow_reps([280, 290]))
    updated = result.apply(settings)
    assert (updated.target_depth_mm, updated.top_mm) == (270.0, 30.0)
    assert updated.max_depth_mm == 325 and updated.backrest_notch == 1


def test_a_rep_in_which_the_back_lifted_off_teaches_nothing():
    setup = GuidedSetup(max_depth_mm=400.0)
    feed(setup, slow_reps([280]))
    setup.liftoff("lumbar", started=True)  # between reps: the next rep is not counted either (the event may come late)
    assert feed(setup, slow_reps([340], start=200.0)) is None
    assert (len(setup.reps), setup.lifted_reps) == (1, 1)
    setup.liftoff("lumbar", started=False)
    result = feed(setup, slow_reps([300], start=300.0))
    # Learnt from the two reps the back stayed on the pad in, not from the deeper one it lifted in.
    assert result is not None and result.target_depth_mm == 280.0


def test_every_rep_the_hips_stay_off_the_pad_through_teaches_nothing():
    # One `start` and no more while the hips stay up: the rep it started in and every rep after are spoilt.
    setup = GuidedSetup(max_depth_mm=400.0)
    setup.liftoff("pelvis", started=True)
    assert feed(setup, slow_reps([330, 340, 350])) is None
    assert (len(setup.reps), setup.lifted_reps) == (0, 3)
    setup.liftoff("pelvis", started=False)
    result = feed(setup, slow_reps([260, 270], start=300.0))
    assert result is not None and result.target_depth_mm == 250.0
    assert setup.progress("s").lifted_reps == 3


def test_a_lost_end_of_lift_off_does_not_outlive_a_sensor_restart():
    setup = GuidedSetup(max_depth_mm=400.0)
    setup.liftoff("lumbar", started=True)
    setup.sensor_restarted()
    result = feed(setup, slow_reps([280, 290]))
    # The first rep after the start is still spoilt (the event may have come late), then the pad counts as back.
    assert result is None and (len(setup.reps), setup.lifted_reps) == (1, 1)


def test_once_done_it_keeps_its_result():
    setup = GuidedSetup(max_depth_mm=400)
    first = feed(setup, slow_reps([280, 300]))
    assert setup.update(390.0, 1e6) is first


def test_a_first_timer_is_set_up_by_the_core_from_its_own_sensor_stream_headless_too(broker, tmp_path):
    from kiosk.core.snapshot import SetupProgress
    from kiosk.core.text_presenter import TextPresenter
    from tests.support.kiosk_harness import Keyring, make_kiosk
    from tests.ui.sensor_node import SensorNode

    keyring = Keyring(tmp_path)
    kiosk, screen = make_kiosk(broker.url, tmp_path / "data", keyring)
    lines: list[str] = []
    kiosk.observe(TextPresenter(lines.append))
    kiosk.start()
    node = SensorNode(broker, kiosk.topics, speed=4.0)
    try:
        assert kiosk.link.wait_connected(10)
        kiosk.scan(keyring.code("m_new", "Nia"))
        first = screen.wait_for(lambda m: isinstance(m, SetupProgress))
        assert first.stage == "reps" and first.reps_done == 0
        assert kiosk.snapshot.setup == first
        path = SledPath(start=0.0, mm=40.0).hold(0.6)
        for depth in (240.0, 260.0):
            path.move(depth, 2.4).move(40.0, 1.2).hold(0.6)
        node.play(path)
        done = screen.wait_for(lambda m: isinstance(m, SetupProgress) and m.stage == "done", timeout=20)
        counts = [m.reps_done for m in screen.seen if isinstance(m, SetupProgress)]
        assert counts == [0, 1, 2]
        member = kiosk.fresh_snapshot().member
        assert member.settings.target_depth_mm == done.target_depth_mm and 220 <= done.target_depth_mm <= 245
        assert member.settings.top_mm == done.top_mm and not member.first_time
        screen.wait_for(lambda m: getattr(m, "type", None) == "profile_saved")
        assert any(line.startswith("guided setup: Target depth") for line in lines)
        # The reps that taught the range and the next one are one set: the member never racked the weight.
        assert kiosk.snapshot.set_open
        node.play(SledPath(start=0.0, mm=40.0).hold(0.6).move(230.0, 2.4).move(40.0, 1.2).hold(6.0))
        only = screen.wait_for(lambda m: getattr(m, "type", None) == "set_end", timeout=20)
        assert only.set_number == 1 and only.reps == 3
    finally:
        node.close()
        kiosk.stop()
