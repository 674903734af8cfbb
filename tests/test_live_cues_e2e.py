"""Simulator scenario in, the expected reps and cues out on `kiosk/event`, over a real broker."""

import json
import subprocess
import sys
import time

import pytest

from kiosk.contract.base import encode
from kiosk.contract.profile import MemberProfile
from kiosk.core.link import MqttLink
from kiosk.devbroker import publish
from kiosk.sim.traces import TRACE_SETTINGS, generate
from tests.kiosk_harness import Keyring, make_kiosk

R = "gym/v1/testgym/lp1"


@pytest.fixture
def member_at_machine(broker, tmp_path, collect):
    """A kiosk with a member in session whose saved settings are the ones the traces are made for."""
    profile = MemberProfile(member="m_sam", name="Sam", rev=3, updated=1.0, machines={"generic-45": TRACE_SETTINGS})
    publish(broker, "gym/v1/testgym/members/m_sam/profile", encode(profile), retain=True)
    keyring = Keyring(tmp_path)
    kiosk, screen = make_kiosk(broker.url, tmp_path / "data", keyring)
    events = collect(f"{R}/kiosk/event")
    kiosk.start()
    deadline = time.monotonic() + 10
    while kiosk.profiles.book.rev("m_sam") != 3:
        assert time.monotonic() < deadline, "retained profile never reached the kiosk"
        time.sleep(0.02)
    kiosk.scan(keyring.code("m_sam", "Sam"))
    events.wait_for(lambda m: b"session_start" in m.payload)
    assert kiosk.session.settings == TRACE_SETTINGS
    yield kiosk, events
    kiosk.stop()


def _run_sim(broker, scenario: str, seed: int) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kiosk.sim.cli", "--broker", broker.url, "--site", "testgym", "--machine", "lp1",
         "--scenario", scenario, "--seed", str(seed), "--fast"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("scenario,seed",
                         [("good", 1), ("butt-wink", 2), ("too-deep", 3), ("chaos", 4), ("lockout", 5)])
def test_simulated_set_gives_the_expected_reps_and_cues(broker, member_at_machine, scenario, seed):
    kiosk, events = member_at_machine
    truth = generate(scenario, seed).truth
    _run_sim(broker, scenario, seed)
    set_end = json.loads(events.wait_for(lambda m: b'"set_end"' in m.payload, timeout=30).payload)
    received = [json.loads(m.payload) for m in events.messages]
    reps = [e for e in received if e["type"] == "rep"]
    cues = {(e["cue"], e["severity"]) for e in received if e["type"] == "cue"}
    assert set_end["reps"] == len(reps) == truth.reps
    assert cues == set(truth.cues)
    assert set_end["stopped"] is truth.stopped
    assert all(e["session"] == kiosk.session.id for e in received if e["type"] in ("rep", "cue", "set_end"))
    if scenario == "chaos":
        assert kiosk.sensor.monitor.invalid > 0, "the hostile payloads were counted"


def test_learnt_max_depth_is_saved_to_the_profile_at_session_end(broker, member_at_machine, collect):
    kiosk, events = member_at_machine
    truth = generate("butt-wink", 2).truth
    _run_sim(broker, "butt-wink", 2)
    events.wait_for(lambda m: b'"set_end"' in m.payload, timeout=30)
    kiosk.end_session("logout")
    saved = json.loads(events.wait_for(lambda m: b"profile_saved" in m.payload).payload)
    assert saved["rev"] == 4
    profile = collect("gym/v1/testgym/members/m_sam/profile").wait_for(lambda m: json.loads(m.payload)["rev"] == 4)
    settings = json.loads(profile.payload)["machines"]["generic-45"]
    # The lift-off is placed at the depth the sled had when it came in: within sensor noise of the plan.
    assert settings["max_depth_mm"] == pytest.approx(truth.learnt_max_depth_mm, abs=6.0)
    assert settings["max_depth_mm"] < TRACE_SETTINGS.max_depth_mm
    assert settings["target_depth_mm"] <= settings["max_depth_mm"]


def test_a_sensor_that_goes_silent_mid_set_raises_sensor_lost_once(broker, member_at_machine):
    kiosk, events = member_at_machine
    trace = generate("good", 7, rate_hz=50, start_ts=time.time())
    # Play the trace in real time until the sled is well into the first rep, then go quiet.
    node = MqttLink("test-node", broker.url)
    node.start()
    assert node.wait_connected(10)
    t0, first_ts = time.monotonic(), trace.items[0].ts
    for item in trace.items:
        if item.kind != "depth":
            continue
        if item.ts - first_ts > 3.0:
            break
        time.sleep(max(0.0, (item.ts - first_ts) - (time.monotonic() - t0)))
        node.publish(f"{R}/sensor/depth", item.payload, qos=0)
    node.stop()
    lost = json.loads(events.wait_for(lambda m: b"sensor_lost" in m.payload, timeout=10).payload)
    assert lost["severity"] == "warn"
    fault = json.loads(events.wait_for(lambda m: b"sensor_fault" in m.payload, timeout=5).payload)
    assert fault["fault"] == "stale"
    time.sleep(1.5)
    assert sum(b"sensor_lost" in m.payload for m in events.messages) == 1
