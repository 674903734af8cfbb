"""Home Assistant discovery payloads, checked against the rules Home Assistant applies to them, on a real broker."""

import json
import re
from typing import get_args

import pytest
from pydantic import ValidationError

from kiosk.contract.commands import COMMANDS
from kiosk.contract.discovery import (
    HA_STATUS_TOPIC,
    MODES,
    Availability,
    Component,
    DeviceDiscovery,
    asks_for_discovery,
    config_topic,
    device_discovery,
    removal,
)
from kiosk.contract.kiosk import KioskInfo, KioskMode, KioskStatus
from kiosk.contract.topics import parse
from kiosk.dev.broker import publish
from tests.support.nothing_sent import all_before_a_marker

# Home Assistant's own pattern for a discovery topic under its prefix (components/mqtt/discovery.py).
HEARTBEAT_S = 30.0
HA_TOPIC = re.compile(r"homeassistant/(?P<component>\w+)/(?:(?P<node_id>[a-zA-Z0-9_-]+)/)?"
                      r"(?P<object_id>[a-zA-Z0-9_-]+)/config")


def info(machine: str = "lp-1", site: str = "downtown") -> KioskInfo:
    return KioskInfo(version="0.1.0", machine_model="hammer-45", config_version="v1", contract_version="gym/v1",
                     site=site, machine=machine)


def payload(machine: str = "lp-1", site: str = "downtown", bridged: bool = False) -> dict:
    return json.loads(device_discovery(info(machine, site), HEARTBEAT_S, bridged).encode())


def test_the_config_topic_is_a_device_discovery_topic_home_assistant_accepts():
    match = HA_TOPIC.fullmatch(config_topic("downtown", "lp-1"))
    assert match and match["component"] == "device" and match["object_id"] == "legpress_downtown_lp-1"


def test_the_payload_has_the_keys_device_discovery_requires():
    sent = payload()
    assert set(sent) == {"dev", "o", "cmps", "availability", "availability_mode", "qos"}
    assert sent["dev"]["identifiers"] == ["legpress_downtown_lp-1"]  # a device needs identifiers (or connections)
    assert sent["dev"]["model"] == "hammer-45" and sent["dev"]["sw_version"] == "0.1.0"
    assert sent["o"]["name"] == "legpress-kiosk"  # an origin needs a name
    for key, component in sent["cmps"].items():
        assert component["p"] in {"sensor", "button"}, key
        assert component["unique_id"], key  # entity platforms need a unique id in device discovery


def test_every_unique_id_differs_within_a_kiosk_and_across_kiosks_and_sites():
    ids = [c["unique_id"] for p in (payload("lp-1"), payload("lp-2"), payload("lp-1", "uptown"))
           for c in p["cmps"].values()]
    assert len(ids) == len(set(ids)) == 18


def test_entities_read_the_kiosks_own_topics_and_buttons_send_valid_contract_commands():
    sent = payload()
    sensors = {k: c for k, c in sent["cmps"].items() if c["p"] == "sensor"}
    buttons = {k: c for k, c in sent["cmps"].items() if c["p"] == "button"}
    assert set(sensors) == {"mode", "sessions_today", "last_liftoff_rate", "sensor_health"}
    assert set(buttons) == {"in_service", "out_of_order"}
    for component in sensors.values():
        topic = parse(component["state_topic"])
        assert topic is not None and topic.machine == "lp-1" and topic.kind in {"kiosk_status", "kiosk_telemetry"}
    for name, component in buttons.items():
        topic = parse(component["command_topic"])
        assert topic is not None and topic.kind == "kiosk_cmd" and topic.name == name
        # What the kiosk will receive on a press must pass its strict command model.
        COMMANDS[name].model_validate_json(component["payload_press"])
    assert sensors["mode"]["options"] == MODES == list(get_args(KioskMode))


def test_availability_follows_the_kiosks_retained_status():
    (availability,) = payload()["availability"]
    assert parse(availability["topic"]).kind == "kiosk_status"
    assert availability["value_template"] == "{{ 'online' if value_json.state == 'ready' else 'offline' }}"
    assert (availability["payload_available"], availability["payload_not_available"]) == ("online", "offline")


def test_behind_a_bridge_the_bridge_notification_must_say_online_too():
    sent = payload(bridged=True)
    status, bridge = (Availability.model_validate(a) for a in sent["availability"])
    assert sent["availability_mode"] == "all"  # Home Assistant: online only when every topic says so
    assert parse(bridge.topic).kind == "kiosk_bridge" and bridge.value_template is None
    assert (bridge.online(b"1"), bridge.online(b"0"), bridge.online(b"garbage")) == (True, False, None)
    ready = KioskStatus(state="ready", ts=1.0, version="0.1.0", boot=1).model_dump_json().encode()
    assert (status.online(ready), status.online(ready.replace(b"ready", b"lost"))) == (True, False)


def test_every_sensor_expires_after_two_and_a_half_heartbeats_without_news():
    sensors = [c for c in payload()["cmps"].values() if c["p"] == "sensor"]
    assert sensors and all(c["expire_after"] == 75 for c in sensors)  # 2.5 x 30 s


def test_a_payload_that_breaks_home_assistants_rules_is_refused_before_sending():
    good = device_discovery(info(), HEARTBEAT_S)
    twin = good.components["mode"].model_copy(update={"name": "Mode again"})
    with pytest.raises(ValidationError, match="unique ids must differ"):
        DeviceDiscovery.model_validate({**good.model_dump(), "cmps": {**good.components, "twin": twin}})
    with pytest.raises(ValidationError, match="needs a state_topic"):
        Component(platform="sensor", unique_id="x", name="x")
    with pytest.raises(ValidationError, match="needs a command_topic"):
        Component(platform="button", unique_id="x", name="x")
    with pytest.raises(ValidationError):
        DeviceDiscovery.model_validate({**good.model_dump(), "availability": []})
    with pytest.raises(ValidationError):
        Availability(topic="t", value_template="v", payload_avail="online")  # a misspelt key is an error


def test_home_assistants_birth_message_asks_for_discovery_again():
    assert asks_for_discovery(HA_STATUS_TOPIC, b"online")
    assert not asks_for_discovery(HA_STATUS_TOPIC, b"offline")
    assert not asks_for_discovery("homeassistant/other", b"online")


def test_a_retained_payload_adds_the_device_and_an_empty_one_removes_it(broker, collect):
    topic = config_topic("downtown", "lp-1")
    publish(broker, topic, device_discovery(info(), HEARTBEAT_S).encode(), retain=True)
    seen = collect(topic).wait_for(lambda m: m.retain)
    # What Home Assistant reads when it starts.
    assert json.loads(seen.payload)["dev"]["name"] == "Leg press lp-1 (downtown)"
    publish(broker, topic, removal(), retain=True)
    late = collect(topic)
    # Nothing retained: Home Assistant removes the device and its entities.
    assert all_before_a_marker(broker, late, topic) == []


def test_the_same_machine_name_at_two_sites_makes_two_devices_a_person_can_tell_apart():
    downtown, uptown = payload("lp1", "downtown"), payload("lp1", "uptown")
    assert (downtown["dev"]["name"], uptown["dev"]["name"]) == ("Leg press lp1 (downtown)", "Leg press lp1 (uptown)")
    assert downtown["dev"]["identifiers"] != uptown["dev"]["identifiers"]
    assert downtown["cmps"]["last_liftoff_rate"]["name"] == "Last session lift-off rate"
