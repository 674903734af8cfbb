"""Home Assistant discovery from a running kiosk: off by default, one retained device when on, removed
when turned off, published again when Home Assistant starts, entities fed by the kiosk's telemetry."""

import json

from kiosk.contract.discovery import DeviceDiscovery, config_topic
from kiosk.contract.kiosk import KioskTelemetry
from kiosk.dev.broker import publish
from tests.support.kiosk_harness import Keyring, make_kiosk
from tests.support.nothing_sent import all_before_a_marker

TOPIC = config_topic("testgym", "lp1")
R = "gym/v1/testgym/lp1"


def test_discovery_is_off_by_default(broker, kiosk, collect):
    collect(f"{R}/kiosk/status").wait_for(lambda m: bool(m.payload))
    devices = collect("homeassistant/#")
    # The kiosk publishes its device from its connect hook, on its core thread: a command answered now was
    # taken after that hook, so anything the hook published is on the broker before the answer.
    replies = collect(f"{R}/kiosk/res/#")
    publish(broker, f"{R}/kiosk/cmd/diagnostics", json.dumps({"transaction": "after-connect"}))
    replies.wait_for(lambda m: b"after-connect" in m.payload)
    seen = all_before_a_marker(broker, devices, "homeassistant/test/marker")
    assert [m.topic for m in seen] == [], "no device published, nothing retained"


def test_a_kiosk_with_discovery_on_appears_reappears_for_a_new_home_assistant_and_leaves_when_off(
        broker, collect, tmp_path):
    keyring = Keyring(tmp_path)
    kiosk, _ = make_kiosk(broker.url, tmp_path / "data", keyring,
                          tuning={"home_assistant": True, "telemetry_interval_s": 1})
    device = collect(TOPIC)
    telemetry = collect(f"{R}/kiosk/telemetry")
    kiosk.start()
    try:
        first = device.wait_for(lambda m: bool(m.payload))
        assert collect(TOPIC).wait_for(lambda m: bool(m.payload)).retain, "retained for a Home Assistant to come"
        found = DeviceDiscovery.model_validate_json(first.payload)  # Home Assistant's rules, checked
        ids = {c.unique_id for c in found.components.values()}
        assert len(ids) == len(found.components) and "legpress_testgym_lp1_sessions_today" in ids
        assert {c.platform for c in found.components.values()} == {"sensor", "button"}

        publish(broker, "homeassistant/status", b"online")
        device.wait_for(lambda m: m is not first and bool(m.payload) and not m.retain)

        kiosk.scan(keyring.code("m_sam"))
        shown = telemetry.wait_for(lambda m: KioskTelemetry.model_validate_json(m.payload).sessions_today == 1)
        assert KioskTelemetry.model_validate_json(shown.payload).last_liftoff_rate is None, "no reps yet"

        publish(broker, f"{R}/kiosk/config/set", json.dumps({"home_assistant": False}), retain=True)
        gone = device.wait_for(lambda m: m.payload == b"")
        assert gone.topic == TOPIC
    finally:
        kiosk.stop()


def test_a_device_left_by_an_earlier_run_is_removed_when_discovery_is_now_off(broker, collect, tmp_path):
    publish(broker, TOPIC, b'{"dev": {"ids": ["legpress_testgym_lp1"]}}', retain=True)
    kiosk, _ = make_kiosk(broker.url, tmp_path / "data", Keyring(tmp_path))
    device = collect(TOPIC)
    kiosk.start()
    try:
        device.wait_for(lambda m: m.payload == b"")
    finally:
        kiosk.stop()
