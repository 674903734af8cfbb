"""A real mosquitto for the demo and the tests, started from broker_config/ on a free port.

Lives in the package (not only in tests/) so the demo script and the
benchmarks start brokers the same way the tests do.
"""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

REPO = Path(__file__).resolve().parent.parent
DEV_CONF = REPO / "broker_config" / "dev.conf"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mosquitto_binary() -> str:
    for candidate in (shutil.which("mosquitto"), "/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise RuntimeError("mosquitto is not installed: run deploy/test.sh (it installs it) or apt-get install mosquitto")


class Broker:
    """One mosquitto process on 127.0.0.1 that can be stopped and started again on the same port."""

    def __init__(self, conf: Path = DEV_CONF, port: int | None = None):
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self._dir = Path(tempfile.mkdtemp(prefix="legpress-broker-"))
        text = conf.read_text()
        text = re.sub(r"^listener\s+\d+", f"listener {self.port}", text, count=1, flags=re.M)
        self.conf = self._dir / "mosquitto.conf"
        self.conf.write_text(text)
        self.log = self._dir / "mosquitto.log"
        self._proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> "Broker":
        log = open(self.log, "ab")
        self._proc = subprocess.Popen([mosquitto_binary(), "-c", str(self.conf)], stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited with {self._proc.returncode}: {self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not accept connections on port {self.port} within {timeout} s")

    def stop(self) -> None:
        if self._proc and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
        self._proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)


@dataclass
class Received:
    topic: str
    payload: bytes
    retain: bool
    properties: object = None


@dataclass
class Collector:
    """Subscribes to a topic filter on a broker and keeps everything it receives."""

    broker: Broker
    topic_filter: str
    messages: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._cond = threading.Condition()
        self._subscribed = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
        self._client.on_connect = lambda c, *_: c.subscribe(self.topic_filter, 1)
        self._client.on_subscribe = lambda *_: self._subscribed.set()
        self._client.on_message = self._on_message
        self._client.connect(self.broker.host, self.broker.port)
        self._client.loop_start()
        if not self._subscribed.wait(10):
            raise RuntimeError(f"could not subscribe to {self.topic_filter}")

    def _on_message(self, _c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self._cond:
            self.messages.append(Received(msg.topic, msg.payload, bool(msg.retain), msg.properties))
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[Received], bool], timeout: float = 10.0) -> Received:
        """The first message (already received or arriving) that satisfies `predicate`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for msg in self.messages:
                    if predicate(msg):
                        return msg
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [(m.topic, m.payload[:120]) for m in self.messages[-10:]]
                    raise AssertionError(f"no matching message on {self.topic_filter} in {timeout} s; last seen: {seen}")
                self._cond.wait(remaining)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def publish(broker: Broker, topic: str, payload: bytes | str | None, qos: int = 1, retain: bool = False,
            properties: object = None) -> None:
    """Publish one message from a throwaway client and wait until the broker has it."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        info = client.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        info.wait_for_publish(5)
    finally:
        client.disconnect()
        client.loop_stop()
