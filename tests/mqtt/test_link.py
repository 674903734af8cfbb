"""The MQTT link against a real mosquitto: resubscribes, survives bad handlers, respects refusals."""

import threading

import paho.mqtt.publish
from paho.mqtt.enums import MQTTProtocolVersion

from kiosk.dev.broker import DEV_CONF, Broker, publish
from kiosk.mqtt import link as link_module
from kiosk.mqtt.link import FLOOD_PAUSE_S, FloodGate, MqttLink
from tests.support.helpers import eventually


def test_a_handler_that_raises_is_counted_and_the_link_keeps_delivering(broker):
    got = []
    seen = threading.Event()
    ready = threading.Event()

    def fragile(topic, payload, _props):
        if payload == b"ping":
            ready.set()
            return
        if payload == b"boom":
            raise ValueError("bad message")
        got.append(payload)
        seen.set()

    link = MqttLink("t-fragile", broker.url)
    link.subscribe("t/x", fragile)
    link.start()
    try:
        # Connected means subscribed: the first message after this is heard, with no retry loop.
        assert link.wait_connected(10)
        publish(broker, "t/x", b"ping")
        assert ready.wait(5), "the link said connected before its subscription was live"
        publish(broker, "t/x", b"boom")
        publish(broker, "t/x", b"fine")
        assert seen.wait(10)
        assert got == [b"fine"]
        assert link.stats.callback_errors == 1
        assert "bad message" in link.stats.last_error
    finally:
        link.stop()


def test_subscriptions_survive_a_broker_restart(broker):
    got = threading.Event()
    link = MqttLink("t-resub", broker.url, reconnect_min_s=1, reconnect_max_s=2)
    link.subscribe("t/after", lambda *_: got.set())
    link.start()
    try:
        assert link.wait_connected(10)
        broker.stop()
        broker.start()
        eventually(lambda: link.connected and link.stats.connects >= 2, what="the link reconnected")
        publish(broker, "t/after", b"1")
        assert got.wait(10), "subscription was not renewed after reconnect"
        assert link.stats.disconnects >= 1
    finally:
        link.stop()


def test_a_refused_connection_is_not_treated_as_connected(tmp_path):
    conf = tmp_path / "refusing.conf"
    conf.write_text(DEV_CONF.read_text().replace("allow_anonymous true", "allow_anonymous false"))
    refusing = Broker(conf).start()
    link = MqttLink("t-refused", refusing.url)
    try:
        link.start()
        assert not link.wait_connected(3)
        assert link.stats.refused >= 1
        assert "refused" in link.stats.last_error
    finally:
        link.stop()
        refusing.close()


def test_a_gate_admits_up_to_its_ceiling_a_second_then_closes_for_a_pause():
    gate = FloodGate(ceiling_hz=3)
    assert [gate.admit(t) for t in (0.0, 0.1, 0.2)] == [True, True, True]
    assert not gate.admit(0.3), "the fourth in one window is past the ceiling"
    assert (gate.pauses, gate.dropped, gate.closed_until) == (1, 1, 0.3 + FLOOD_PAUSE_S)
    assert not gate.admit(0.3 + FLOOD_PAUSE_S - 0.01), "closed: on its way before the broker heard"
    assert gate.dropped == 2 and gate.pauses == 1
    reopened = 0.3 + FLOOD_PAUSE_S
    assert [gate.admit(reopened + i * 0.4) for i in range(6)] == [True] * 6, "three a second is not a flood"
    assert gate.pauses == 1


def test_a_flooded_topic_is_dropped_for_a_moment_while_the_others_are_heard(broker, monkeypatch):
    monkeypatch.setattr(link_module, "FLOOD_PAUSE_S", 1.0)
    flood: list[bytes] = []
    urgent = threading.Event()
    link = MqttLink("t-flooded", broker.url)
    link.subscribe("t/flood", lambda _t, payload, _p: flood.append(payload), qos=0, ceiling_hz=50)
    link.subscribe("t/urgent", lambda *_: urgent.set())
    link.start()
    try:
        assert link.wait_connected(10)
        gate = link.flood_gate("t/flood")
        assert gate is not None and link.flood_gate("t/urgent") is None
        paho.mqtt.publish.multiple([("t/flood", b"x", 0, False)] * 5000, hostname=broker.host, port=broker.port,
                                   protocol=MQTTProtocolVersion.MQTTv5)
        eventually(lambda: gate.pauses >= 1, what="the gate closed against the flood")
        publish(broker, "t/urgent", b"lift")
        assert urgent.wait(10), "another topic was not heard during the flood"
        assert gate.dropped >= 1
        assert len(flood) < 5000, "the broker went on sending the flooded topic"
        assert len(flood) <= 50 * (gate.pauses + 1), "more than the ceiling admitted in a window"

        def heard_again() -> bool:
            # Published until heard: the topic is subscribed again when the pause ends, not before.
            publish(broker, "t/flood", b"after")
            return b"after" in flood

        eventually(heard_again, timeout=15, what="the topic subscribed again after the pause")
    finally:
        link.stop()
