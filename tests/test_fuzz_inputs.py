"""Fuzzing every input a kiosk takes, on a real broker, while a member's set is under way.

Hypothesis throws random and hostile payloads (random bytes, random JSON, valid messages with fields
changed to absurd values) at every topic the kiosk reads and at its scanner; meanwhile a sensor
node streams depth at 50 Hz. Afterwards the kiosk must still be serving: no job on its core thread
raised, no paho callback failed, it answers a command, a real scan starts a session, and what it
refused is counted. The budget is bounded (examples and seconds), so it runs in CI every time.
"""

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.contract.commands import COMMANDS, CommandReply
from kiosk.contract.events import SessionStart
from kiosk.contract.replies import DiagnosticsReport
from kiosk.contract.sensor import DepthSample
from kiosk.core.kiosk import Kiosk
from kiosk.core.settings import load_settings
from kiosk.dev.broker import Broker, Collector
from tests.support.helpers import eventually
from tests.support.kiosk_harness import Keyring

R = "gym/v1/testgym/lp1"
SITE = "gym/v1/testgym"
TOPICS = [
    f"{R}/sensor/depth", f"{R}/sensor/event", f"{R}/sensor/status",
    *(f"{R}/kiosk/cmd/{name}" for name in sorted(COMMANDS)), f"{R}/kiosk/cmd/no_such_command",
    f"{SITE}/broadcast/cmd/message", f"{R}/kiosk/config/set", f"{SITE}/config/set", f"{SITE}/config/revocations",
    f"{SITE}/members/m_sam/profile", f"{SITE}/members/m_other/profile",
]
VALID = {
    "sensor/depth": {"seq": 5, "ts": time.time(), "mm": 120.0},
    "sensor/event": {"seq": 3, "ts": time.time(), "type": "liftoff", "zone": "lumbar", "state": "start"},
    "sensor/status": {"state": "ready", "ts": time.time(), "fw": "1.0", "rate_hz": 50.0},
    "cmd": {"transaction": "t1", "reason": "cable", "text": "hello", "seconds": 5, "from_eid": 1, "to_eid": 3},
    "config/set": {"version": "v2", "idle_timeout_s": 60, "cues": {"sensor_lost_s": 1.5}},
    "config/revocations": {"updated": time.time(), "members": {"m_sam": time.time() - 86400}},
    "profile": {"member": "m_sam", "name": "Sam", "rev": 2, "updated": time.time(),
                "machines": {"generic-45": {"backrest_notch": 2, "target_depth_mm": 200, "max_depth_mm": 260}}},
}
ABSURD = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False), st.just(1e308), st.text(max_size=80), st.just("\x1b[2J\n"),
    st.lists(st.integers(), max_size=4), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def _valid_for(topic: str) -> dict[str, object]:
    for key, body in VALID.items():
        if key in topic:
            return body
    return VALID["profile"]


@st.composite
def hostile_message(draw: st.DrawFn) -> tuple[str, bytes]:
    topic = draw(st.sampled_from(TOPICS))
    kind = draw(st.sampled_from(["bytes", "json", "mutated", "deep", "empty"]))
    if kind == "bytes":
        payload = draw(st.binary(max_size=300))
    elif kind == "json":
        payload = json.dumps(draw(JSON_VALUES)).encode()
    elif kind == "deep":
        depth = draw(st.integers(min_value=50, max_value=5000))
        payload = ("[" * depth + "]" * depth).encode()
    elif kind == "empty":
        payload = b""
    else:
        body = dict(_valid_for(topic))
        for key in draw(st.lists(st.sampled_from(sorted(body) + ["unknown", "transaction"]), max_size=3)):
            body[key] = draw(ABSURD)
        payload = json.dumps(body, allow_nan=True).encode()
    return topic, payload


@pytest.fixture
def busy_kiosk(tmp_path: Path) -> Iterator[tuple[Broker, Kiosk, Keyring]]:
    broker = Broker().start()
    keyring = Keyring(tmp_path)
    kiosk = Kiosk(load_settings(site="testgym", machine="lp1", broker=broker.url, data_dir=tmp_path / "data",
                                trusted_keys=keyring.trusted))
    kiosk.start()
    assert kiosk.link.wait_connected(10)
    yield broker, kiosk, keyring
    kiosk.stop()
    broker.close()


def test_hostile_input_on_every_topic_never_stops_the_kiosk_serving(busy_kiosk) -> None:
    broker, kiosk, keyring = busy_kiosk
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

    sender = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
    sender.connect(broker.host, broker.port)
    sender.loop_start()
    kiosk.scan(keyring.code("m_sam", "Sam"))
    stop = threading.Event()

    def sensor_node() -> None:
        seq = 0
        while not stop.wait(0.02):
            seq += 1
            mm = 30 + 200 * abs((seq % 100) - 50) / 50
            sample = DepthSample(seq=seq, ts=time.time(), mm=mm)
            sender.publish(f"{R}/sensor/depth", sample.model_dump_json(), qos=0)

    node = threading.Thread(target=sensor_node, daemon=True)
    node.start()
    started = time.monotonic()
    sent = [0]

    @settings(max_examples=1500, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(message=hostile_message(), as_scan=st.booleans(), scan=st.text(max_size=120))
    def throw(message: tuple[str, bytes], as_scan: bool, scan: str) -> None:
        if time.monotonic() - started > 40:  # the budget: at most this long, whatever the count
            return
        topic, payload = message
        sender.publish(topic, payload, qos=1, retain=False)
        sent[0] += 1
        if as_scan:
            kiosk.scan(scan)

    try:
        throw()
    finally:
        stop.set()
        node.join(2)
    kiosk.inbox.call(lambda: None, timeout=30)  # everything sent so far has been handled
    print(f"fuzz: {sent[0]} hostile messages, {kiosk.sensor.monitor.invalid} sensor payloads refused, "
          f"{kiosk.commands.refused} commands refused")
    assert sent[0] > 50
    assert kiosk.inbox.errors == 0, "a job on the core thread raised"
    assert kiosk.link.stats.callback_errors == 0, kiosk.link.stats.last_error
    assert kiosk.inbox.overflows == 0

    # Still serving: a command is answered, and a member can still tap in.
    replies = Collector(broker, f"{R}/kiosk/res/#")
    events = Collector(broker, f"{R}/kiosk/event")
    try:
        sender.publish(f"{R}/kiosk/cmd/in_service", b'{"transaction": "after-fuzz"}', qos=1)
        sender.publish(f"{R}/kiosk/cmd/diagnostics", b'{"transaction": "after-fuzz-2"}', qos=1)
        reply = replies.wait_for(lambda m: b"after-fuzz-2" in m.payload, timeout=15)
        report = CommandReply.model_validate_json(reply.payload)
        assert report.status == "ok" and report.data is not None
        assert DiagnosticsReport.model_validate(report.data).telemetry.sensor.invalid > 0, "the junk was counted"
        kiosk.end_session()
        kiosk.inbox.call(lambda: None)
        kiosk.scan(keyring.code("m_after", "Alex"))
        events.wait_for(lambda m: m.payload and isinstance(m.event(), SessionStart)
                        and m.event().member == "m_after", timeout=15)
    finally:
        replies.close()
        events.close()
        sender.loop_stop()
        sender.disconnect()
    eventually(lambda: kiosk.snapshot.member is not None, what="the new member at the machine")
