"""Safety floors: no config push, profile or scan can make the machine less safe, over a real broker."""

import json
import time

import paho.mqtt.client as mqtt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from pydantic import ValidationError

from kiosk.contract.base import encode
from kiosk.contract.config import (
    MAX_HYSTERESIS_MM,
    MAX_LIFTOFFS_TO_STOP,
    MAX_LOCKOUT_MARGIN_MM,
    MAX_REPEAT_S,
    MAX_SENSOR_LOST_S,
    MIN_LIFTOFF_MARGIN_MM,
    MIN_SENSOR_LOST_S,
    CueThresholds,
    KioskConfig,
    MachineGeometry,
)
from kiosk.contract.profile import MachineSettings
from kiosk.contract.sensor import DepthSample
from kiosk.core.cues import CueEngine
from kiosk.core.machine.models import TARGET_MARGIN_MM
from kiosk.dev.broker import publish
from kiosk.sim.motion import SledPath
from tests.support.helpers import eventually

R = "gym/v1/testgym/lp1"
PROFILE = "gym/v1/testgym/members/m_sam/profile"
# Generated-reference model name: the kiosk harness stands beside `generic-45`, a 500 mm sled.
MODEL = "generic-45"
ATTACK = {"cues": {"lumbar_liftoffs_to_stop": 10, "liftoff_margin_mm": 0, "sensor_lost_s": 30},
          "machine_models": {MODEL: {"travel_mm": 1500}}, "sound": False}


def _push(broker, collect, topic: str, body: dict | bytes, status: str) -> dict:
    """Push a config layer and return the config state that answers it.

    The kiosk announces its state when it connects too: a taken push is told
    apart by its version (given or added here), a withdrawal by what follows.
    """
    state = collect(f"{R}/kiosk/config/state")
    if isinstance(body, dict) and status == "ok":
        body = {"version": f"t{time.monotonic_ns()}", **body}
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    seen = len(state.messages)
    publish(broker, topic, payload, retain=True)

    def answer(m) -> bool:
        got = json.loads(m.payload)
        if got["status"] != status:
            return False
        return status == "error" or not isinstance(body, dict) or got["version"] == body["version"]
    return json.loads(state.wait_for(lambda m: m in state.messages[seen:] and answer(m)).payload)


def _diagnostics(broker, collect) -> dict:
    replies = collect(f"{R}/kiosk/res/diagnostics")
    transaction = f"d{time.monotonic_ns()}"
    publish(broker, f"{R}/kiosk/cmd/diagnostics", json.dumps({"transaction": transaction}))
    return json.loads(replies.wait_for(lambda m: transaction.encode() in m.payload).payload)["data"]


@pytest.mark.parametrize("field,value,named", [
    ("lumbar_liftoffs_to_stop", 10, "cues.lumbar_liftoffs_to_stop"),
    ("liftoff_margin_mm", 0, "cues.liftoff_margin_mm"),
    ("sensor_lost_s", 30, "cues.sensor_lost_s"),
    ("sensor_lost_s", 0.001, "cues.sensor_lost_s"),
    ("repeat_s", 120, "cues.repeat_s"),
])
def test_a_cue_threshold_past_its_floor_is_refused_with_its_name(broker, collect, kiosk, field, value, named):
    refused = _push(broker, collect, f"{R}/kiosk/config/set", {"cues": {field: value}}, "error")
    assert named in refused["error"] and "previous config kept" in refused["error"]
    assert refused["config"]["cues"][field] == CueThresholds().model_dump()[field]
    applied = _push(broker, collect, f"{R}/kiosk/config/set", {"version": "sane", "cues": {"sensor_lost_s": 1.5}}, "ok")
    assert applied["config"]["cues"]["sensor_lost_s"] == 1.5 and applied["version"] == "sane"


def test_the_whole_attack_config_is_refused_site_wide_and_a_sane_one_applies(broker, collect, kiosk):
    refused = _push(broker, collect, "gym/v1/testgym/config/set", ATTACK, "error")
    assert refused["error"].startswith("site config refused, previous config kept")
    assert refused["config"]["cues"] == CueThresholds().model_dump()
    applied = _push(broker, collect, "gym/v1/testgym/config/set",
                    {"version": "site-2", "machine_models": {MODEL: {"travel_mm": 520}}}, "ok")
    assert applied["config"]["machine_models"][MODEL]["travel_mm"] == 520


@pytest.mark.parametrize("travel", [1500, 300])
def test_a_travel_far_from_the_kiosks_own_machine_is_refused(broker, collect, kiosk, travel):
    refused = _push(broker, collect, f"{R}/kiosk/config/set", {"machine_models": {MODEL: {"travel_mm": travel}}},
                    "error")
    assert f"machine_models.{MODEL}.travel_mm" in refused["error"] and "safety floor" in refused["error"]
    assert MODEL not in refused["config"]["machine_models"]
    # Another model's geometry is that model's kiosks' business.
    _push(broker, collect, f"{R}/kiosk/config/set", {"machine_models": {"horizontal-x": {"travel_mm": 1400}}}, "ok")


def test_sound_off_still_applies_but_a_stop_always_sounds(broker, collect, kiosk):
    applied = _push(broker, collect, f"{R}/kiosk/config/set", {"sound": False}, "ok")
    assert applied["config"]["sound"] is False
    assert "stop" in KioskConfig.model_fields["sound"].description


def test_a_site_layer_invalid_on_its_own_is_refused_and_the_old_site_layer_stays(broker, collect, kiosk):
    _push(broker, collect, "gym/v1/testgym/config/set", {"version": "site-good", "idle_timeout_s": 60}, "ok")
    _push(broker, collect, f"{R}/kiosk/config/set", {"version": "mine"}, "ok")
    refused = _push(broker, collect, "gym/v1/testgym/config/set", {"version": "v" * 65, "idle_timeout_s": 45},
                    "error")
    assert "version" in refused["error"] and refused["config"]["idle_timeout_s"] == 60
    withdrawn = _push(broker, collect, f"{R}/kiosk/config/set", b"", "ok")
    assert withdrawn["version"] == "site-good" and withdrawn["config"]["idle_timeout_s"] == 60


def _publish_profile(broker, kiosk, settings: dict, rev: int = 3) -> None:
    body = {"member": "m_sam", "name": "Sam", "rev": rev, "updated": 1.0, "machines": {MODEL: settings}}
    publish(broker, PROFILE, json.dumps(body), retain=True)
    eventually(lambda: kiosk.profiles.book.rev("m_sam") == rev, timeout=10, what="the profile reaching the kiosk")


def _lower_the_sled(broker, to_mm: float) -> None:
    """A sensor node's samples, stamped now: a second at the top, then three seconds down to `to_mm`."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        path = SledPath(time.time(), 40.0).hold(1.0).move(to_mm, 3.0).hold(0.5)
        for seq in range(226):
            ts = path.start + seq * 0.02
            client.publish(f"{R}/sensor/depth", encode(DepthSample(seq=seq, ts=ts, mm=round(path.at(ts), 1))))
            time.sleep(0.001)
    finally:
        client.disconnect()
        client.loop_stop()


def test_a_profile_beyond_the_machine_is_clamped_for_the_session_and_counted(broker, collect, kiosk):
    events = collect(f"{R}/kiosk/event")
    _publish_profile(broker, kiosk, {"backrest_notch": 3, "max_depth_mm": 2000, "target_depth_mm": 1900,
                                     "top_mm": -200})
    kiosk.scan(kiosk.keyring.code("m_sam"))
    events.wait_for(lambda m: b"session_start" in m.payload)
    counters = _diagnostics(broker, collect)["telemetry"]["defences"]
    assert counters["profile_values_clamped"] == 3
    settings = kiosk.session.settings
    assert settings.max_depth_mm <= 500 and settings.target_depth_mm <= settings.max_depth_mm - TARGET_MARGIN_MM
    assert settings.top_mm >= 0
    # The attack's own test: down to 518 mm on this 500 mm sled is too deep again.
    _lower_the_sled(broker, to_mm=518)
    too_deep = json.loads(events.wait_for(lambda m: b'"too_deep"' in m.payload).payload)
    assert too_deep["severity"] == "warn"


def test_a_normal_profile_is_used_as_saved_and_nothing_is_counted(broker, collect, kiosk):
    events = collect(f"{R}/kiosk/event")
    saved = {"backrest_notch": 3, "max_depth_mm": 300, "target_depth_mm": 260, "top_mm": 40}
    _publish_profile(broker, kiosk, saved)
    kiosk.scan(kiosk.keyring.code("m_sam"))
    events.wait_for(lambda m: b"session_start" in m.payload)
    assert _diagnostics(broker, collect)["telemetry"]["defences"]["profile_values_clamped"] == 0
    assert kiosk.session.settings.model_dump(include=set(saved)) == saved


# -- the property: whatever the models accept, the engine stays inside the floors --------------

depth = st.floats(-200, 2000, allow_nan=False)
geometries = st.builds(MachineGeometry, travel_mm=st.floats(50.001, 1500), seat_notches=st.integers(1, 30),
                       backrest_angles_deg=st.lists(st.floats(0, 90), min_size=1, max_size=30))
# Wider than the floors on purpose: what the model refuses, the kiosk never applies.
threshold_pushes = st.fixed_dictionaries({}, optional={
    "lumbar_liftoffs_to_stop": st.integers(-5, 20), "sensor_lost_s": st.floats(-1, 60),
    "liftoff_margin_mm": st.floats(-10, 300), "repeat_s": st.floats(-1, 200), "hysteresis_mm": st.floats(-1, 200),
    "lockout_margin_mm": st.floats(-1, 300)})


@st.composite
def machine_settings(draw: st.DrawFn) -> MachineSettings:
    top, target, deepest = sorted(draw(st.lists(depth, min_size=3, max_size=3, unique=True)))
    return MachineSettings(backrest_notch=draw(st.integers(1, 30)), seat_notch=draw(st.integers(1, 30)),
                           top_mm=top, target_depth_mm=target, max_depth_mm=deepest)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(machine_settings(), geometries, threshold_pushes)
def test_for_any_config_and_profile_the_models_accept_the_engine_stays_inside_the_floors(
        member: MachineSettings, geometry: MachineGeometry, push: dict) -> None:
    try:
        thresholds = KioskConfig.model_validate({"cues": push}).cues
    except ValidationError:
        thresholds = CueThresholds()  # refused by the model: the kiosk keeps the config it had
    engine = CueEngine(member, geometry, thresholds)
    th = engine.thresholds
    assert th.lumbar_liftoffs_to_stop <= MAX_LIFTOFFS_TO_STOP
    assert MIN_SENSOR_LOST_S <= th.sensor_lost_s <= MAX_SENSOR_LOST_S
    assert th.liftoff_margin_mm >= MIN_LIFTOFF_MARGIN_MM and th.repeat_s <= MAX_REPEAT_S
    assert th.hysteresis_mm <= MAX_HYSTERESIS_MM and th.lockout_margin_mm <= MAX_LOCKOUT_MARGIN_MM
    limits = engine.settings
    # Depths are kept to 0.1 mm: the margin holds to within float rounding.
    assert 0 <= limits.top_mm < engine.target_depth_mm <= engine.max_depth_mm - TARGET_MARGIN_MM + 1e-9
    assert engine.max_depth_mm <= geometry.travel_mm
    assert limits.backrest_notch <= geometry.backrest_notches and limits.seat_notch <= geometry.seat_notches


def test_a_layer_that_leaves_the_travel_alone_keeps_the_kiosks_own(broker, collect, tmp_path):
    from tests.support.kiosk_harness import Keyring, make_kiosk

    local = {"machine_models": {"hammer-45": {"travel_mm": 700}}}
    kiosk, _ = make_kiosk(broker.url, tmp_path / "data", Keyring(tmp_path), machine_model="hammer-45", tuning=local)
    kiosk.start()
    try:
        assert kiosk.link.wait_connected(10)
        applied = _push(broker, collect, f"{R}/kiosk/config/set",
                        {"machine_models": {"hammer-45": {"seat_notches": 3}}}, "ok")
        assert applied["config"]["machine_models"]["hammer-45"]["travel_mm"] == 700
        refused = _push(broker, collect, f"{R}/kiosk/config/set", {"machine_models": {"hammer-45": {"travel_mm": 500}}},
                        "error")
        assert "within 10% of the 700 mm configured on this kiosk" in refused["error"]
    finally:
        kiosk.stop()
