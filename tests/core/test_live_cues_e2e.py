"""Simulator scenario in, the expected reps and cues out on `kiosk/event`, over a real broker."""

import subprocess
import sys
import time

import pytest

from kiosk.contract.base import encode
from kiosk.contract.events import CueRaised, ProfileSaved, RepDone, SensorFault, SessionEnd, SessionStart, SetEnd
from kiosk.contract.profile import MachineSettings, MemberProfile
from kiosk.dev.broker import publish
from kiosk.mqtt.link import MqttLink
from kiosk.sim.traces import TRACE_SETTINGS, generate
from tests.support.helpers import eventually
from tests.support.kiosk_harness import Keyring, make_kiosk

R = "gym/v1/testgym/lp1"


@pytest.fixture
def member_at_machine(request, broker, tmp_path, collect):
    """A kiosk with a member in session whose saved settings are the ones the traces are made for.

    On the real clock, unless the test also asks for the `clock` fixture.
    """
    profile = MemberProfile(member="m_sam", name="Sam", rev=3, updated=1.0, machines={"generic-45": TRACE_SETTINGS})
    publish(broker, "gym/v1/testgym/members/m_sam/profile", encode(profile), retain=True)
    keyring = Keyring(tmp_path)
    clock = request.getfixturevalue("clock") if "clock" in request.fixturenames else None
    kiosk, screen = make_kiosk(broker.url, tmp_path / "data", keyring, clock=clock)
    events = collect(f"{R}/kiosk/event")
    kiosk.start()
    eventually(lambda: kiosk.profiles.book.rev("m_sam") == 3, what="the retained profile in the kiosk's cache")
    kiosk.scan(keyring.code("m_sam", "Sam"))
    events.wait_for_event(SessionStart)
    assert kiosk.session.settings == TRACE_SETTINGS
    yield kiosk, events
    kiosk.stop()


def _run_sim(broker, scenario: str, seed: int) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kiosk.sim.cli", "--broker", broker.url, "--site", "testgym", "--machine", "lp1",
         "--scenario", scenario, "--seed", str(seed), "--speed", "8"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("scenario,seed",
                         [("good", 1), ("butt-wink", 2), ("too-deep", 3), ("chaos", 4), ("lockout", 5)])
def test_simulated_set_gives_the_expected_reps_and_cues(broker, member_at_machine, scenario, seed):
    kiosk, events = member_at_machine
    truth = generate(scenario, seed).truth
    _run_sim(broker, scenario, seed)
    set_end = events.wait_for_event(SetEnd, timeout=30)
    received = events.events()
    reps = [e for e in received if isinstance(e, RepDone)]
    cues = {(e.cue, e.severity) for e in received if isinstance(e, CueRaised)}
    assert set_end.reps == len(reps) == truth.reps
    assert cues == set(truth.cues)
    assert set_end.stopped is truth.stopped
    assert all(e.session == kiosk.session.id for e in received if isinstance(e, RepDone | CueRaised | SetEnd))
    if scenario == "chaos":
        assert kiosk.sensor.monitor.invalid > 0, "the hostile payloads were counted"


def test_learnt_max_depth_is_saved_to_the_profile_as_soon_as_a_liftoff_teaches_it(broker, member_at_machine, collect):
    kiosk, events = member_at_machine
    truth = generate("butt-wink", 2).truth
    profiles = collect("gym/v1/testgym/lp1/kiosk/profile")  # the kiosk's saves, for the site's profile desk
    _run_sim(broker, "butt-wink", 2)
    events.wait_for_event(SetEnd, timeout=30)
    # Still in the session: the lowered limit is already on the broker, not waiting for the logout.
    assert kiosk.session is not None
    saved = events.wait_for_event(ProfileSaved)
    assert saved.rev >= 4 and saved.session == kiosk.session.id

    def confirmed_as_in_session() -> MachineSettings | None:
        # Each lift-off that teaches a limit is a save, confirmed when the broker has it: the newest
        # confirmed save holds what the session uses now, once the last one is confirmed.
        newest = max(e.rev for e in events.events() if isinstance(e, ProfileSaved))
        on_broker = (m.decode(MemberProfile) for m in profiles.messages if m.payload)
        profile = next((p for p in on_broker if p.rev == newest), None)
        current = kiosk.session.settings
        return profile.machines["generic-45"] if profile and profile.machines["generic-45"] == current else None

    settings = eventually(confirmed_as_in_session, timeout=20, what="the session's learnt settings saved")
    # The lift-off is placed at the depth the sled had when it came in: within sensor noise of the plan.
    assert settings.max_depth_mm == pytest.approx(truth.learnt_max_depth_mm, abs=6.0)
    assert settings.max_depth_mm < TRACE_SETTINGS.max_depth_mm
    assert settings.target_depth_mm <= settings.max_depth_mm - 10
    assert settings == kiosk.session.settings
    newest = max(e.rev for e in events.events() if isinstance(e, ProfileSaved))
    kiosk.end_session("logout")
    events.wait_for_event(SessionEnd)
    # The logout adds the visit to the member's history, and changes nothing the session learnt.
    visit = eventually(lambda: next((e for e in events.events() if isinstance(e, ProfileSaved) and e.rev > newest),
                                    None), timeout=20, what="the visit saved at the logout")
    on_broker = eventually(lambda: next((p for m in profiles.messages if m.payload
                                         for p in [m.decode(MemberProfile)] if p.rev == visit.rev), None),
                           timeout=20, what="the logout's save on the broker")
    kept = on_broker.machines["generic-45"]
    assert (kept.max_depth_mm, kept.target_depth_mm, kept.top_mm) == (
        settings.max_depth_mm, settings.target_depth_mm, settings.top_mm)
    assert kept.history and kept.history[-1].sets >= 1


def test_a_sensor_that_goes_silent_mid_set_raises_sensor_lost_once(broker, member_at_machine, clock):
    kiosk, events = member_at_machine
    trace = generate("good", 7, rate_hz=50, start_ts=time.time())
    # Play the trace with the kiosk clock in step until the sled is well into the first rep, then go quiet.
    node = MqttLink("test-node", broker.url)
    node.start()
    assert node.wait_connected(10)
    t0, first_ts, monitor = clock.now(), trace.items[0].ts, kiosk.sensor.monitor
    for item in trace.items:
        if item.kind != "depth":
            continue
        if item.ts - first_ts > 3.0:
            break
        clock.advance(max(0.0, t0 + (item.ts - first_ts) - clock.now()))
        seen = monitor.received
        node.publish(f"{R}/sensor/depth", item.payload, qos=0)
        eventually(lambda seen=seen: monitor.received > seen, what="the sample at the kiosk")
    node.stop()
    sensor_lost_s = kiosk.config.cues.sensor_lost_s
    clock.advance(sensor_lost_s / 2)
    kiosk.ticked()
    assert not any(isinstance(e, CueRaised) and e.cue == "sensor_lost" for e in events.events()), "lost too soon"
    clock.advance(sensor_lost_s)
    lost = events.wait_for_event(CueRaised, lambda e: e.cue == "sensor_lost")
    assert lost.severity == "warn"
    assert events.wait_for_event(SensorFault).fault == "stale"
    clock.advance(30 * sensor_lost_s)
    kiosk.ticked()
    assert sum(isinstance(e, CueRaised) and e.cue == "sensor_lost" for e in events.events()) == 1
