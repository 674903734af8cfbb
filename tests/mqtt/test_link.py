"""The MQTT link against a real mosquitto: resubscribes, survives bad handlers, respects refusals."""

import threading

from kiosk.dev.broker import DEV_CONF, Broker, publish
from kiosk.mqtt.link import MqttLink
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
