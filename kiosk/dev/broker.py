"""A real mosquitto for the demo and the tests, started from broker_config/ on a free port.

Lives in the package (not only in tests/) so the demo script and the
benchmarks start brokers the same way the tests do.
"""

import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

import paho.mqtt.client as mqtt
import paho.mqtt.publish
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.properties import Properties
from pydantic import BaseModel

from kiosk.contract.base import decode
from kiosk.contract.events import KIOSK_EVENT, KioskEvent
from kiosk.mqtt.link import no_delay

REPO = Path(__file__).resolve().parents[2]
DEV_CONF = REPO / "broker_config" / "dev.conf"


# Under pytest-xdist (deploy/test.sh runs two workers) each worker takes its ports from a range of its own,
# below Linux's ephemeral range (32768 and up): a port the kernel hands out for `bind(0)` or for a client's
# connection can be one another worker's broker just released and is about to take again after a restart, and
# a node reconnecting there would reach the other worker's broker.
WORKER_PORTS = 4_000
FIRST_WORKER_PORT = 12_000


def free_port() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker.startswith("gw") and worker[2:].isdigit() and int(worker[2:]) < 5:
        low = FIRST_WORKER_PORT + int(worker[2:]) * WORKER_PORTS
        for _ in range(500):
            port = random.randrange(low, low + WORKER_PORTS)
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        # An AF_INET address is (host, port); typeshed leaves socket addresses untyped.
        return int(s.getsockname()[1])


def end_process(proc: "subprocess.Popen[bytes] | None", sig: int = signal.SIGTERM, wait_s: float = 5.0) -> None:
    """Stop a server the tests started: `sig`, then SIGKILL if it has not left within `wait_s`."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(wait_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


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
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> "Broker":
        with open(self.log, "ab") as log:
            self._proc = subprocess.Popen([mosquitto_binary(), "-c", str(self.conf)], stdout=log, stderr=log)
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
        end_process(self._proc)
        self._proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)


M = TypeVar("M", bound=BaseModel)
E = TypeVar("E", bound=BaseModel)
T = TypeVar("T")


def listener_ports(conf: Path) -> list[int]:
    """The ports of every `listener` line of a mosquitto.conf."""
    return [int(m.group(1)) for m in re.finditer(r"^listener\s+(\d+)", conf.read_text(), flags=re.M)]


class RenderedBroker:
    """A mosquitto started from a rendered config as it is (`legpress-fleet broker render`), ports and all.

    Unlike `Broker` nothing in the config is rewritten: tests render an
    inventory that names free ports, so the very file a gym would run is the
    one under test. It can be stopped, started again on the same ports, and
    sent SIGHUP to reload passwords and ACLs.
    """

    def __init__(self, conf: Path, log: Path | None = None):
        self.conf = conf
        self.ports = listener_ports(conf)
        if not self.ports:
            raise ValueError(f"{conf} has no listener")
        self.log = log or conf.with_name("mosquitto.log")
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> "RenderedBroker":
        with open(self.log, "ab") as log:
            self._proc = subprocess.Popen([mosquitto_binary(), "-c", str(self.conf)], stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        waiting = list(self.ports)
        while waiting:
            if self._proc.poll() is not None:
                raise RuntimeError(f"mosquitto -c {self.conf} exited with {self._proc.returncode}: "
                                   f"{self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", waiting[0]), timeout=0.2):
                    waiting.pop(0)
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"mosquitto -c {self.conf} did not listen on {waiting[0]} "
                                       f"within {timeout} s") from None
                time.sleep(0.02)
        return self

    def reload(self) -> None:
        """SIGHUP: mosquitto rereads its password file and ACL (not its bridges)."""
        if self._proc and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGHUP)

    def stop(self) -> None:
        end_process(self._proc)
        self._proc = None

    def kill(self) -> None:
        """SIGKILL: the broker dies as in a power cut, saying goodbye to nobody."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(5)
            self._proc = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None


@dataclass
class Received:
    """One message as a subscriber got it; read its payload through the contract with `decode` or `event`."""

    topic: str
    payload: bytes
    retain: bool
    properties: Properties | None = None
    # When it arrived (time.monotonic), taken when this record is made on the client's network thread.
    at: float = field(default_factory=time.monotonic)

    def decode(self, model: type[M]) -> M:
        """The payload as `model` (`KioskStatus`, `CommandReply`, ...); raises `PayloadError` if it is not one."""
        return decode(model, self.payload)

    def event(self) -> KioskEvent:
        """The payload as a kiosk event (`R/kiosk/event`), whichever type it is."""
        return decode(KIOSK_EVENT, self.payload)


class Recording(Generic[T]):
    """Things arriving on another thread, kept in order, with a wait for the one you expect."""

    def __init__(self, what: str):
        self.what = what
        self.items: list[T] = []
        self._cond = threading.Condition()

    def add(self, item: T) -> None:
        with self._cond:
            self.items.append(item)
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[T], bool], timeout: float = 10.0) -> T:
        """The first item (already here or arriving within `timeout`) that satisfies `predicate`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for item in self.items:
                    if predicate(item):
                        return item
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"nothing matching on {self.what} in {timeout} s; "
                                         f"last seen: {self.items[-8:]}")
                self._cond.wait(remaining)


class Collector(Recording[Received]):
    """Subscribes to a topic filter on a broker and keeps everything it receives."""

    def __init__(self, broker: Broker, topic_filter: str):
        super().__init__(topic_filter)
        self.messages: list[Received] = self.items
        self._subscribed = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
        self._client.on_socket_open = no_delay
        self._client.on_connect = lambda c, *_: c.subscribe(topic_filter, 1)
        self._client.on_subscribe = lambda *_: self._subscribed.set()
        self._client.on_message = lambda _c, _u, msg: self.add(
            # paho decodes an incoming payload as bytes; its annotation also allows bytearray.
            Received(msg.topic, bytes(msg.payload), bool(msg.retain), msg.properties))
        self._client.connect(broker.host, broker.port)
        self._client.loop_start()
        if not self._subscribed.wait(10):
            raise RuntimeError(f"could not subscribe to {topic_filter}")

    def events(self) -> list[KioskEvent]:
        """Everything received so far, as kiosk events, in order (for a collector on `R/kiosk/event`)."""
        with self._cond:
            return [m.event() for m in self.messages]

    def wait_for_event(self, kind: type[E], where: Callable[[E], bool] = lambda _e: True,
                       timeout: float = 10.0) -> E:
        """The first kiosk event of type `kind` (already here or arriving within `timeout`) for which `where` holds."""

        def matches(m: Received) -> bool:
            event = m.event()
            return isinstance(event, kind) and where(event)

        event = self.wait_for(matches, timeout).event()
        assert isinstance(event, kind)
        return event

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def publish(broker: Broker, topic: str, payload: bytes | str | None, qos: int = 1, retain: bool = False,
            properties: Properties | None = None) -> None:
    """Publish one message from a throwaway client and return once the broker has it (QoS 1: its PUBACK)."""
    if properties is None:
        paho.mqtt.publish.single(topic, payload, qos=qos, retain=retain, hostname=broker.host, port=broker.port,
                                 protocol=MQTTProtocolVersion.MQTTv5)
        return
    # paho's publish.single takes no MQTT v5 properties (eclipse-paho/paho.mqtt.python#739), so a request
    # with a response topic or correlation data goes through a client of its own.
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
    client.on_socket_open = no_delay
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        client.publish(topic, payload, qos=qos, retain=retain, properties=properties).wait_for_publish(5)
    finally:
        client.disconnect()
        client.loop_stop()
