"""Operators command kiosks and push config over MQTT; every request gets exactly one reply."""

import json
import signal
import uuid

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kiosk.contract.commands import CommandReply
from kiosk.contract.config import ConfigState
from kiosk.contract.events import CueRaised, PainReport, SessionEnd, SessionStart
from kiosk.contract.kiosk import KioskStatus
from kiosk.contract.replies import DiagnosticsReport, ModeReply, SessionEnded
from kiosk.core.training.session import PAIN_AFTER_CUT_S
from kiosk.dev.broker import Broker, Received, publish
from tests.conftest import Collect
from tests.support.kiosk_harness import Keyring, make_kiosk
from tests.support.kiosk_process import kiosk_env, start_kiosk
from tests.support.sled import a_member_mid_set

R = "gym/v1/testgym/lp1"


def _request(broker: Broker, collect: Collect, name: str, body: dict[str, object] | bytes,
             broadcast: bool = False) -> tuple[Received, str]:
    """Send command `name` (a JSON body with a fresh transaction, or raw bytes); its one reply, and the transaction."""
    replies = collect(f"{R}/kiosk/res/{name}")
    tx = uuid.uuid4().hex[:8]
    payload = body if isinstance(body, bytes) else json.dumps({"transaction": tx, **body})
    topic = f"gym/v1/testgym/broadcast/cmd/{name}" if broadcast else f"{R}/kiosk/cmd/{name}"
    publish(broker, topic, payload)
    return replies.wait_for(lambda m: True), tx


def _send(broker: Broker, collect: Collect, name: str, body: dict[str, object] | bytes,
          broadcast: bool = False) -> tuple[CommandReply, str]:
    answer, tx = _request(broker, collect, name, body, broadcast)
    return answer.decode(CommandReply), tx


def _mode(m: Received) -> str:
    return m.decode(KioskStatus).mode


def test_out_of_order_refuses_members_but_lets_staff_in(broker, collect, kiosk):
    status = collect(f"{R}/kiosk/status")
    answer, tx = _request(broker, collect, "out_of_order", {"reason": "cable frayed"})
    # The whole reply as it is on the wire: nothing more, nothing less.
    told = {"mode": "out_of_order", "ended_session": None, "mid_set": False}
    assert json.loads(answer.payload) == {"transaction": tx, "status": "ok", "data": told, "error": None}
    status.wait_for(lambda m: _mode(m) == "out_of_order")
    kiosk.scan(kiosk.keyring.code("m_sam"))
    kiosk.screen.wait_for(lambda m: getattr(m, "accepted", None) is False and "out of order" in m.message)
    assert kiosk.session is None
    staff = kiosk.keyring.code("t_alex", role="staff")
    kiosk.scan(staff)
    status.wait_for(lambda m: _mode(m) == "maintenance")
    kiosk.scan(staff)
    status.wait_for(lambda m: _mode(m) == "out_of_order" and m is not status.messages[1])
    reply, _ = _send(broker, collect, "in_service", {}, broadcast=True)
    assert reply.data == {"mode": "idle", "ended_session": None, "mid_set": False}


def test_end_session_command_ends_the_members_session(broker, collect, kiosk):
    events = collect(f"{R}/kiosk/event")
    kiosk.scan(kiosk.keyring.code("m_sam"))
    start = events.wait_for_event(SessionStart)
    reply, _ = _send(broker, collect, "end_session", {})
    assert reply.status == "ok" and SessionEnded.model_validate(reply.data).ended_session == start.session
    assert events.wait_for_event(SessionEnd).reason == "command"


def test_message_command_reaches_the_screen(broker, collect, kiosk):
    reply, _ = _send(broker, collect, "message", {"text": "Gym closes in 15 minutes", "seconds": 20})
    assert reply.status == "ok"
    notice = kiosk.screen.wait_for(lambda m: getattr(m, "kind", None) == "message")
    assert notice.text == "Gym closes in 15 minutes" and notice.seconds == 20


def test_a_retained_command_is_ignored_and_counted_so_it_cannot_act_again_at_every_reconnect(broker, collect,
                                                                                              tmp_path):
    # What a stolen console or Home Assistant login could leave on the broker: a kiosk would take it at every
    # (re)connect, for ever (a `restart` retained this way is a restart loop).
    publish(broker, f"{R}/kiosk/cmd/out_of_order", json.dumps({"transaction": "left", "reason": "x"}), retain=True)
    refused = collect(f"{R}/kiosk/res/out_of_order")
    kiosk, _ = make_kiosk(broker.url, tmp_path / "data", Keyring(tmp_path))
    kiosk.start()
    try:
        assert kiosk.link.wait_connected(10)
        # A live command after it: commands run in order, so once it is answered the retained one was judged.
        reply, _ = _send(broker, collect, "message", {"text": "Gym closes in 15 minutes", "seconds": 20})
        assert reply.status == "ok"
        assert kiosk.inbox.call(kiosk.defences).retained_commands_ignored == 1
        assert kiosk.inbox.call(lambda: kiosk.mode) == "idle" and refused.messages == []
        # Sent live, the same command acts.
        reply, _ = _send(broker, collect, "out_of_order", {"reason": "cable frayed"})
        assert reply.status == "ok" and kiosk.inbox.call(lambda: kiosk.mode) == "out_of_order"
    finally:
        kiosk.stop()


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
        assert reply.transaction == tx, "even a refusal echoes the transaction"
    assert reply.status == "error" and complaint in reply.error and reply.data is None
    ok, _ = _send(broker, collect, "diagnostics", {})
    assert ok.status == "ok"


def test_diagnostics_reply_goes_to_the_v5_response_topic_with_correlation_data(broker, collect, kiosk):
    answers = collect(f"{R}/kiosk/res/diagnostics/ops-42")
    props = Properties(PacketTypes.PUBLISH)
    props.ResponseTopic = f"{R}/kiosk/res/diagnostics/ops-42"
    props.CorrelationData = b"corr-1"
    publish(broker, f"{R}/kiosk/cmd/diagnostics", json.dumps({"transaction": "d1"}), properties=props)
    answer = answers.wait_for(lambda m: True)
    body = answer.decode(CommandReply)
    assert body.status == "ok" and body.transaction == "d1"
    assert answer.properties.CorrelationData == b"corr-1"
    report = DiagnosticsReport.model_validate(body.data)
    assert report.checks.broker is True and report.checks.trusted_keys is True
    assert report.checks.sensor_live is False and report.ok is False  # no sensor node in this test


def test_pushed_config_is_applied_and_a_bad_one_is_refused_keeping_the_old(broker, collect, kiosk):
    state = collect(f"{R}/kiosk/config/state")
    publish(broker, "gym/v1/testgym/config/set", json.dumps({"version": "site-3", "idle_timeout_s": 120}), retain=True)
    applied = state.wait_for(lambda m: m.decode(ConfigState).version == "site-3").decode(ConfigState)
    assert applied.status == "ok" and applied.config["idle_timeout_s"] == 120
    publish(broker, f"{R}/kiosk/config/set", json.dumps({"cues": {"descent_fast_s": 1.5}}), retain=True)
    state.wait_for(lambda m: m.decode(ConfigState).config["cues"]["descent_fast_s"] == 1.5)
    assert kiosk.config.idle_timeout_s == 120, "kiosk push merges over the site push"
    publish(broker, f"{R}/kiosk/config/set", json.dumps({"idle_timeout_s": -4, "volume": 11}), retain=True)
    refused = state.wait_for(lambda m: m.decode(ConfigState).status == "error").decode(ConfigState)
    assert "idle_timeout_s" in refused.error and "previous config kept" in refused.error
    assert refused.config["cues"]["descent_fast_s"] == 1.5 and kiosk.config.idle_timeout_s == 120
    publish(broker, f"{R}/kiosk/config/set", b"not json", retain=True)
    state.wait_for(lambda m: "not JSON" in (m.decode(ConfigState).error or ""))


def test_restart_command_replies_then_the_kiosk_exits_cleanly(broker, collect, tmp_path):
    status, events = collect(f"{R}/kiosk/status"), collect(f"{R}/kiosk/event")
    keyring = Keyring(tmp_path)
    env = kiosk_env(broker.url, tmp_path / "data", LEGPRESS_TRUSTED_KEYS=str(keyring.trusted))
    proc = start_kiosk(env, tmp_path / "kiosk.log")
    try:
        status.wait_for(lambda m: m.decode(KioskStatus).state == "ready")
        proc.stdin.write((keyring.code("m_sam", "Sam") + "\n").encode())
        proc.stdin.flush()
        events.wait_for_event(SessionStart)
        reply, _ = _send(broker, collect, "restart", {})
        assert reply.status == "ok" and reply.data == {"restarting": True}
        assert proc.wait(10) == 0
        status.wait_for(lambda m: m.decode(KioskStatus).state == "disconnected")
        # An operator's command stopped it, not the service manager: the session's end says so.
        assert events.wait_for_event(SessionEnd).reason == "command"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)


def test_pain_right_after_an_out_of_order_command_still_reaches_staff(broker, collect, kiosk):
    events = collect(f"{R}/kiosk/event")
    kiosk.scan(kiosk.keyring.code("m_sam"))
    start = events.wait_for_event(SessionStart)
    _send(broker, collect, "out_of_order", {"reason": "cable frayed"})
    events.wait_for_event(SessionEnd)
    kiosk.press_pain()
    kiosk.report_pain("sharp")
    report = events.wait_for_event(PainReport)
    assert report.member == "m_sam" and report.session == start.session
    assert events.wait_for_event(CueRaised, lambda e: e.cue == "pain_stop").severity == "stop"


def test_a_member_cut_short_keeps_the_pain_button_for_the_pain_window_only(broker, collect, kiosk, clock):
    events = collect(f"{R}/kiosk/event")
    kiosk.scan(kiosk.keyring.code("m_sam"))
    start = events.wait_for_event(SessionStart)
    _send(broker, collect, "out_of_order", {"reason": "cable frayed"})
    events.wait_for_event(SessionEnd)
    clock.advance(PAIN_AFTER_CUT_S - 1)
    kiosk.report_pain("sharp")
    assert events.wait_for_event(PainReport).session == start.session
    clock.advance(2)
    kiosk.report_pain("dull")
    kiosk.inbox.call(lambda: None)  # the core has handled the late report, and told its screen
    assert [e.kind for e in kiosk.screen.seen if isinstance(e, PainReport)] == ["sharp"]


def test_out_of_order_while_a_member_is_mid_set_tells_the_operator_so(broker, collect, kiosk):
    events = collect(f"{R}/kiosk/event")
    a_member_mid_set(broker, kiosk)
    start = events.wait_for_event(SessionStart)
    reply, _ = _send(broker, collect, "out_of_order", {"reason": "cable frayed"})
    assert reply.status == "ok"
    told = ModeReply.model_validate(reply.data)
    assert (told.mode, told.ended_session, told.mid_set) == ("out_of_order", start.session, True)
    assert events.wait_for_event(SessionEnd).reason == "command"
    # Nobody at the machine now: the next out_of_order ended nothing and says so.
    status = collect(f"{R}/kiosk/status")
    again = ModeReply.model_validate(_send(broker, collect, "out_of_order", {"reason": "still frayed"})[0].data)
    assert (again.ended_session, again.mid_set) == (None, False)
    # Its new reason is in the status, though the mode did not change.
    status.wait_for(lambda m: m.decode(KioskStatus).reason == "still frayed")
