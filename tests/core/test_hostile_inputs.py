"""Hostile and broken input over a real broker: the kiosk answers, counts and carries on."""

import json
import signal

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kiosk.contract.commands import CommandReply
from kiosk.contract.config import ConfigState
from kiosk.contract.events import ScanRejected, SessionEnd, SessionStart
from kiosk.contract.kiosk import KioskStatus
from kiosk.contract.profile import MemberProfile
from kiosk.core.profiles.sync import PROFILE_SYNC_S
from kiosk.dev.broker import publish
from tests.support.helpers import eventually
from tests.support.kiosk_harness import Keyring
from tests.support.kiosk_process import kiosk_env, start_kiosk

R = "gym/v1/testgym/lp1"
DEEP = b"[" * 30000 + b"]" * 30000  # under 64 KiB, but deeper than any JSON parser recurses
DEEP_OBJECT = b'{"transaction": "t-deep", "reason": ' + b"[" * 20000 + b"]" * 20000 + b"}"


def _alive(broker, collect) -> None:
    """The kiosk still answers a plain command."""
    replies = collect(f"{R}/kiosk/res/diagnostics")
    publish(broker, f"{R}/kiosk/cmd/diagnostics", json.dumps({"transaction": "alive"}))
    assert replies.wait_for(lambda m: m.decode(CommandReply).transaction == "alive").decode(CommandReply).status == "ok"


@pytest.mark.parametrize("payload", [DEEP, DEEP_OBJECT, b"\x00\xff" * 100, b"null", b'"text"', b"1e999999"])
def test_deeply_nested_or_garbage_commands_still_get_an_error_reply(broker, collect, kiosk, payload):
    replies = collect(f"{R}/kiosk/res/out_of_order")
    publish(broker, f"{R}/kiosk/cmd/out_of_order", payload)
    reply = replies.wait_for(lambda m: True).decode(CommandReply)
    assert reply.status == "error" and reply.error
    assert kiosk.inbox.errors == 0
    _alive(broker, collect)


@pytest.mark.parametrize("name", ["End-Session", "end_session_" + "x" * 40, "DROP TABLE"])
def test_commands_with_names_outside_the_rules_are_refused_with_a_reply(broker, collect, kiosk, name):
    replies = collect(f"{R}/kiosk/res/#")
    publish(broker, f"{R}/kiosk/cmd/{name}", json.dumps({"transaction": "n1"}))
    reply = replies.wait_for(lambda m: True).decode(CommandReply)
    assert reply.status == "error" and "unknown command" in reply.error and reply.transaction == "n1"


@pytest.mark.parametrize("response_topic", ["ops/#", "ops/+/x", f"{R}/kiosk/status", f"{R}/kiosk/cmd/out_of_order",
                                            "gym/v1/testgym/lp2/kiosk/cmd/out_of_order"])
def test_replies_never_go_to_wildcards_or_contract_topics(broker, collect, kiosk, response_topic):
    status, fallback = collect(f"{R}/kiosk/status"), collect(f"{R}/kiosk/res/in_service")
    other = collect("gym/v1/testgym/lp2/#")
    props = Properties(PacketTypes.PUBLISH)
    props.ResponseTopic = response_topic
    publish(broker, f"{R}/kiosk/cmd/in_service", json.dumps({"transaction": "r1"}), properties=props)
    message = fallback.wait_for(lambda m: True)
    reply = message.decode(CommandReply)
    assert reply.status == "ok" and reply.error is None
    assert message.properties is not None and dict(message.properties.UserProperty)["response_topic_refused"]
    assert all(b"transaction" not in m.payload for m in status.messages), "no reply, of any shape, on the status"
    assert other.messages == []
    assert kiosk.mode == "idle"


@pytest.mark.parametrize("payload", [DEEP, b"[1,2]", b"{\"cues\": {\"repeat_s\": " + b"9" * 5000 + b"}}"])
def test_garbage_config_is_refused_on_config_state_and_the_old_config_stays(broker, collect, kiosk, payload):
    state = collect(f"{R}/kiosk/config/state")
    before = kiosk.config
    publish(broker, f"{R}/kiosk/config/set", payload, retain=True)
    refused = state.wait_for(lambda m: m.decode(ConfigState).status == "error").decode(ConfigState)
    assert "previous config kept" in refused.error
    assert kiosk.config == before


def test_a_profile_with_an_absurd_rev_cannot_trap_a_member_in_their_session(broker, collect, kiosk):
    events = collect(f"{R}/kiosk/event")
    body = {"member": "m_sam", "rev": 2**63 - 1, "updated": 1.0, "machines": {}}
    publish(broker, "gym/v1/testgym/members/m_sam/profile", json.dumps(body), retain=True)
    eventually(lambda: kiosk.profiles.book.stats.invalid >= 1, timeout=5, what="the absurd rev refused")
    kiosk.scan(kiosk.keyring.code("m_sam"))
    events.wait_for_event(SessionStart)
    kiosk.save_settings(kiosk.session.settings.model_copy(update={"backrest_notch": 5}))
    kiosk.scan(kiosk.keyring.code("m_sam"))
    assert events.wait_for_event(SessionEnd).reason == "logout"
    assert kiosk.inbox.errors == 0


def test_hostile_sensor_payloads_are_counted_and_reps_still_count(broker, collect, kiosk):
    for payload in (DEEP, b'{"seq": 1, "ts": 1, "mm": "deep"}', b"\xff\xfe", b'{"seq": -5, "ts": 1, "mm": 3}',
                    b'{"seq": 1, "ts": 1, "mm": NaN}', b'{"seq": 2, "ts": 1e300, "mm": 1}'):
        publish(broker, f"{R}/sensor/depth", payload, qos=0)
        publish(broker, f"{R}/sensor/event", payload)
    eventually(lambda: kiosk.sensor.monitor.invalid >= 12, timeout=5, what="all 12 bad payloads counted")
    assert kiosk.inbox.errors == 0 and kiosk.link.stats.callback_errors == 0
    _alive(broker, collect)


def test_an_offline_save_never_overwrites_a_newer_rev(broker, collect, kiosk, clock):
    profile_topic = "gym/v1/testgym/members/m_sam/profile"
    kiosk.scan(kiosk.keyring.code("m_sam"))
    eventually(lambda: kiosk.session is not None, timeout=5, what="a session")
    broker.stop()
    eventually(lambda: not kiosk.link.connected, what="the link down")
    mine = kiosk.session.settings.model_copy(update={"backrest_notch": 7})
    kiosk.save_settings(mine)
    broker.start()
    newer = {"member": "m_sam", "name": "Sam", "rev": 5, "updated": 2.0, "machines": {"other-model": {
        "backrest_notch": 2, "target_depth_mm": 200, "max_depth_mm": 250, "top_mm": 30}}}
    publish(broker, profile_topic, json.dumps(newer), retain=True)
    saved = collect("gym/v1/testgym/lp1/kiosk/profile")  # the kiosk's save, for the site's profile desk
    eventually(lambda: kiosk.link.connected and kiosk.profiles.book.rev("m_sam") == 5, timeout=20,
               what="back online with the newer rev")
    kiosk.ticked()
    assert [m for m in saved.messages if not m.retain] == [], "the held save waits a moment after reconnecting"
    clock.advance(PROFILE_SYNC_S)
    final = saved.wait_for(lambda m: m.decode(MemberProfile).rev == 6).decode(MemberProfile)
    assert final.machines["generic-45"].backrest_notch == 7
    assert final.machines["other-model"].backrest_notch == 2, "the newer profile's other settings are kept"
    assert [m.decode(MemberProfile).rev for m in saved.messages if not m.retain] == [6]


def test_a_wedge_scanner_reading_a_card_twice_is_one_scan(broker, tmp_path, collect):
    keyring = Keyring(tmp_path)
    env = kiosk_env(broker.url, tmp_path / "data", LEGPRESS_TRUSTED_KEYS=str(keyring.trusted))
    status, events = collect(f"{R}/kiosk/status"), collect(f"{R}/kiosk/event")
    proc = start_kiosk(env, tmp_path / "kiosk.log")
    try:
        status.wait_for(lambda m: m.decode(KioskStatus).state == "ready")
        code = keyring.code("m_sam", "Sam").encode()
        # The line after the card is read after it: once it is answered, so is the second read.
        proc.stdin.write(code + b"\n" + code + b"\n" + b"not a code\n")
        proc.stdin.flush()
        events.wait_for_event(ScanRejected)
        assert [e.type for e in events.events()] == ["session_start", "scan_rejected"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()

