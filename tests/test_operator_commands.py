"""Operators command kiosks and push config over MQTT; every request gets exactly one reply."""

import json
import signal
import uuid

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kiosk.devbroker import publish
from tests.kiosk_process import kiosk_env, start_kiosk

R = "gym/v1/testgym/lp1"


def _send(broker, collect, name, body, broadcast=False):
    replies = collect(f"{R}/kiosk/res/{name}")
    tx = uuid.uuid4().hex[:8]
    payload = body if isinstance(body, bytes) else json.dumps({"transaction": tx, **body})
    topic = f"gym/v1/testgym/broadcast/cmd/{name}" if broadcast else f"{R}/kiosk/cmd/{name}"
    publish(broker, topic, payload)
    return json.loads(replies.wait_for(lambda m: True).payload), tx


def test_out_of_order_refuses_members_but_lets_staff_in(broker, collect, kiosk):
    status = collect(f"{R}/kiosk/status")
    reply, tx = _send(broker, collect, "out_of_order", {"reason": "cable frayed"})
    assert reply == {"transaction": tx, "status": "ok", "data": {"mode": "out_of_order"}, "error": None}
    status.wait_for(lambda m: json.loads(m.payload)["mode"] == "out_of_order")
    kiosk.scan(kiosk.keyring.code("m_sam"))
    kiosk.screen.wait_for(lambda m: getattr(m, "accepted", None) is False and "out of order" in m.message)
    assert kiosk.session is None
    staff = kiosk.keyring.code("t_alex", role="staff")
    kiosk.scan(staff)
    status.wait_for(lambda m: json.loads(m.payload)["mode"] == "maintenance")
    kiosk.scan(staff)
    status.wait_for(lambda m: json.loads(m.payload)["mode"] == "out_of_order" and m is not status.messages[1])
    reply, _ = _send(broker, collect, "in_service", {}, broadcast=True)
    assert reply["data"] == {"mode": "idle"}


def test_end_session_command_ends_the_members_session(broker, collect, kiosk):
    events = collect(f"{R}/kiosk/event")
    kiosk.scan(kiosk.keyring.code("m_sam"))
    events.wait_for(lambda m: b"session_start" in m.payload)
    reply, _ = _send(broker, collect, "end_session", {})
    assert reply["status"] == "ok" and reply["data"]["ended_session"]
    assert json.loads(events.wait_for(lambda m: b"session_end" in m.payload).payload)["reason"] == "command"


def test_message_command_reaches_the_screen(broker, collect, kiosk):
    reply, _ = _send(broker, collect, "message", {"text": "Gym closes in 15 minutes", "seconds": 20})
    assert reply["status"] == "ok"
    notice = kiosk.screen.wait_for(lambda m: getattr(m, "kind", None) == "message")
    assert notice.text == "Gym closes in 15 minutes" and notice.seconds == 20


@pytest.mark.parametrize("name,body,complaint", [
    ("self_destruct", {}, "unknown command"),
    ("message", {"text": "hi", "colour": "red"}, "colour"),
    ("message", {"seconds": 3}, "text"),
    ("out_of_order", b'{"transaction": "t9", "reason": ', "bad out_of_order request"),
    ("out_of_order", b"\xff" * 70000, "bad out_of_order request"),
])
def test_bad_requests_get_a_readable_error_and_the_kiosk_carries_on(broker, collect, kiosk, name, body, complaint):
    reply, tx = _send(broker, collect, name, body)
    if isinstance(body, dict):
        assert reply["transaction"] == tx, "even a refusal echoes the transaction"
    assert reply["status"] == "error" and complaint in reply["error"] and reply["data"] is None
    ok, _ = _send(broker, collect, "diagnostics", {})
    assert ok["status"] == "ok"


def test_diagnostics_reply_goes_to_the_v5_response_topic_with_correlation_data(broker, collect, kiosk):
    answers = collect(f"{R}/kiosk/res/diagnostics/ops-42")
    props = Properties(PacketTypes.PUBLISH)
    props.ResponseTopic = f"{R}/kiosk/res/diagnostics/ops-42"
    props.CorrelationData = b"corr-1"
    publish(broker, f"{R}/kiosk/cmd/diagnostics", json.dumps({"transaction": "d1"}), properties=props)
    answer = answers.wait_for(lambda m: True)
    body = json.loads(answer.payload)
    assert body["status"] == "ok" and body["transaction"] == "d1"
    assert answer.properties.CorrelationData == b"corr-1"
    report = body["data"]
    assert report["checks"]["broker"] is True and report["checks"]["trusted_keys"] is True
    assert report["checks"]["sensor_live"] is False and report["ok"] is False  # no sensor node in this test


def test_pushed_config_is_applied_and_a_bad_one_is_refused_keeping_the_old(broker, collect, kiosk):
    state = collect(f"{R}/kiosk/config/state")
    publish(broker, "gym/v1/testgym/config/set", json.dumps({"version": "site-3", "idle_timeout_s": 120}), retain=True)
    applied = json.loads(state.wait_for(lambda m: json.loads(m.payload)["version"] == "site-3").payload)
    assert applied["status"] == "ok" and applied["config"]["idle_timeout_s"] == 120
    publish(broker, f"{R}/kiosk/config/set", json.dumps({"cues": {"descent_fast_s": 1.5}}), retain=True)
    state.wait_for(lambda m: json.loads(m.payload)["config"]["cues"]["descent_fast_s"] == 1.5)
    assert kiosk.config.idle_timeout_s == 120, "kiosk push merges over the site push"
    publish(broker, f"{R}/kiosk/config/set", json.dumps({"idle_timeout_s": -4, "volume": 11}), retain=True)
    refused = json.loads(state.wait_for(lambda m: json.loads(m.payload)["status"] == "error").payload)
    assert "idle_timeout_s" in refused["error"] and "previous config kept" in refused["error"]
    assert refused["config"]["cues"]["descent_fast_s"] == 1.5 and kiosk.config.idle_timeout_s == 120
    publish(broker, f"{R}/kiosk/config/set", b"not json", retain=True)
    state.wait_for(lambda m: "not JSON" in (json.loads(m.payload)["error"] or ""))


def test_restart_command_replies_then_the_kiosk_exits_cleanly(broker, collect, tmp_path):
    status = collect(f"{R}/kiosk/status")
    proc = start_kiosk(kiosk_env(broker.url, tmp_path / "data"), tmp_path / "kiosk.log")
    try:
        status.wait_for(lambda m: json.loads(m.payload)["state"] == "ready")
        reply, _ = _send(broker, collect, "restart", {})
        assert reply["status"] == "ok" and reply["data"] == {"restarting": True}
        assert proc.wait(10) == 0
        status.wait_for(lambda m: json.loads(m.payload)["state"] == "disconnected")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)


def test_pain_right_after_an_out_of_order_command_still_reaches_staff(broker, collect, kiosk):
    events = collect(f"{R}/kiosk/event")
    kiosk.scan(kiosk.keyring.code("m_sam"))
    start = json.loads(events.wait_for(lambda m: b"session_start" in m.payload).payload)
    _send(broker, collect, "out_of_order", {"reason": "cable frayed"})
    events.wait_for(lambda m: b"session_end" in m.payload)
    kiosk.press_pain()
    kiosk.report_pain("sharp")
    report = json.loads(events.wait_for(lambda m: b"pain_report" in m.payload).payload)
    assert report["member"] == "m_sam" and report["session"] == start["session"]
    assert json.loads(events.wait_for(lambda m: b"pain_stop" in m.payload).payload)["severity"] == "stop"
