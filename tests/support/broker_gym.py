"""A rendered gym for tests: an inventory on free ports, its render, its brokers, and real clients as its users.

Every broker runs from the files `legpress-fleet broker render` wrote, unchanged,
except where a test asks for an observer on a kiosk broker (see `add_observer`).

`Peer.sync()` is the barrier every "was not delivered" assertion uses: the
peer publishes one QoS 1 message and waits for its PUBACK. The broker routes
each message to its subscribers before it acknowledges the next one from
anybody, and writes a connection's packets in order, so anything the broker
had routed to this peer arrives before that PUBACK. After `sync()`, what the
peer has not received was not delivered, with no sleep and no timeout guess.
"""

import ssl
import threading
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from kiosk.dev.broker import Received, Recording, RenderedBroker, free_port
from kiosk.fleet.broker.passwd import hash_password
from kiosk.fleet.cli import main as fleet_main
from kiosk.mqtt.broker_url import BrokerSecrets

SITE = "downtown"
SYNC_TOPIC = "legpress-test/sync"
OBSERVER = "test-observer"
OBSERVER_PASSWORD = "observer-password-for-tests-only"


def fleet(*argv: str) -> int:
    """`legpress-fleet` in this process; argparse's own exits count as return codes."""
    try:
        return fleet_main(list(argv))
    except SystemExit as stop:
        return int(stop.code or 0)


def free_ports(n: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < n:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


@dataclass(frozen=True)
class MachinePorts:
    local: int
    sensor: int


def inventory_text(site_tls: int, site_local: int, machines: dict[str, MachinePorts],
                   operators: tuple[str, ...] = ("ops",), upstream: str = "", home_assistant: bool = False) -> str:
    lines = ["[site]", f'id = "{SITE}"', 'broker_host = "localhost"', f"tls_port = {site_tls}",
             f"local_port = {site_local}", ""]
    for machine, ports in machines.items():
        lines += ["[[machines]]", f'id = "{machine}"', 'model = "hammer-45"',
                  f"kiosk_local_port = {ports.local}", f"sensor_port = {ports.sensor}", ""]
    for name in operators:
        lines += ["[[operators]]", f'name = "{name}"', ""]
    if home_assistant:  # Home Assistant's own login, limited to what discovery needs (`op-ha`)
        lines += ["[[operators]]", 'name = "ha"', "home_assistant = true", ""]
    return "\n".join(lines) + upstream


class Peer:
    """A real MQTT v5 client logged in as one user, keeping everything it receives."""

    def __init__(self, port: int, username: str | None = None, password: str | None = None,
                 ca: Path | None = None, client_id: str = "",
                 protocol: MQTTProtocolVersion = MQTTProtocolVersion.MQTTv5, persistent: bool = False):
        self.port = port
        self.received = Recording(f"{username or 'anonymous'}@{port}")
        self.disconnected = threading.Event()
        self._connack = threading.Event()
        self.reason: ReasonCode | None = None
        self.accepted = False
        self.session_present = False  # the CONNACK said the broker kept a session for this client id
        self._persistent = persistent
        self._v5 = protocol == MQTTProtocolVersion.MQTTv5
        # TLS is checked against the site certificate's name, so it connects by name.
        self._host = "localhost" if ca is not None else "127.0.0.1"
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=protocol,
                                   clean_session=None if self._v5 else not persistent, reconnect_on_failure=False)
        if username is not None:
            self._client.username_pw_set(username, password)
        if ca is not None:
            self._client.tls_set(ca_certs=str(ca), cert_reqs=ssl.CERT_REQUIRED)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = lambda *_: self.disconnected.set()
        self._client.on_message = lambda _c, _u, msg: self.received.add(
            Received(msg.topic, msg.payload, bool(msg.retain), msg.properties))

    def _on_connect(self, _c: mqtt.Client, _u: object, flags: mqtt.ConnectFlags, reason: ReasonCode,
                    _p: object) -> None:
        self.reason = reason
        self.session_present = bool(flags.session_present)
        self._connack.set()

    def connect(self, timeout: float = 5.0) -> bool:
        """True when the broker accepted the login; False when it refused it (or closed the connection)."""
        props = None
        if self._v5:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = 3600 if self._persistent else 0
        try:
            self._client.connect(self._host, self.port, keepalive=30,
                                 clean_start=not self._persistent if self._v5 else mqtt.MQTT_CLEAN_START_FIRST_ONLY,
                                 properties=props)
        except (OSError, ssl.SSLError):
            return False
        self._client.loop_start()
        if not self._connack.wait(timeout) and not self.disconnected.is_set():
            raise AssertionError(f"no CONNACK from port {self.port} in {timeout} s")
        self.accepted = self.reason is not None and not self.reason.is_failure
        return self.accepted

    def subscribe(self, *filters: str, timeout: float = 5.0) -> None:
        done = threading.Event()
        self._client.on_subscribe = lambda *_: done.set()
        self._client.subscribe([(f, 1) for f in filters])
        if not done.wait(timeout):
            raise AssertionError(f"no SUBACK for {filters}")

    def publish(self, topic: str, payload: bytes | str = b"x", qos: int = 1, retain: bool = False,
                timeout: float = 5.0) -> None:
        """Publish and, for QoS 1, wait for the PUBACK (a denied publish gets one too)."""
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish(timeout)
        if not info.is_published():
            raise AssertionError(f"no PUBACK for {topic} on port {self.port}")

    def send(self, topic: str, payload: bytes, qos: int = 1) -> None:
        """Publish without waiting for the broker: for what the broker answers by disconnecting."""
        self._client.publish(topic, payload, qos=qos)

    def sync(self) -> None:
        """Everything the broker routed to this peer so far has now been received (see the module docstring)."""
        self.publish(SYNC_TOPIC, b"sync", qos=1)

    def topics(self) -> list[str]:
        return [m.topic for m in self.received.items]

    def got(self, topic: str, payload: bytes | None = None) -> bool:
        return any(m.topic == topic and (payload is None or m.payload == payload) for m in self.received.items)

    def wait_for(self, topic: str, payload: bytes | None = None, timeout: float = 10.0) -> Received:
        return self.received.wait_for(lambda m: m.topic == topic and (payload is None or m.payload == payload),
                                      timeout)

    def close(self) -> None:
        try:
            self._client.disconnect()
        finally:
            self._client.loop_stop()


class Gym:
    """One render of a test gym and its brokers; `peer(user)` logs in as any of its users."""

    def __init__(self, root: Path, machines: tuple[str, ...] = ("lp-1", "lp-2"), upstream: str = "",
                 home_assistant: bool = False):
        self.root = root
        ports = free_ports(2 + 2 * len(machines))
        self.site_tls, self.site_local = ports[0], ports[1]
        self.machines = {m: MachinePorts(ports[2 + 2 * i], ports[3 + 2 * i]) for i, m in enumerate(machines)}
        self.inventory = root / "gym.toml"
        self.inventory.write_text(inventory_text(self.site_tls, self.site_local, self.machines, upstream=upstream,
                                                 home_assistant=home_assistant))
        self.out = root / "render"
        self.brokers: dict[str, RenderedBroker] = {}
        self._peers: list[Peer] = []

    def render(self, *extra: str) -> int:
        return fleet("broker", "render", str(self.inventory), "--out", str(self.out), *extra)

    def conf(self, broker: str) -> Path:
        folder = self.out / "site" if broker == "site" else self.out / "kiosks" / broker
        return folder / "mosquitto.conf"

    def start(self, broker: str) -> RenderedBroker:
        if broker not in self.brokers:
            self.brokers[broker] = RenderedBroker(self.conf(broker), log=self.root / f"{broker}.log")
        return self.brokers[broker].start()

    def secrets(self, user: str) -> BrokerSecrets:
        return BrokerSecrets.load(self.out / "secrets" / f"{user}.toml")

    @property
    def ca(self) -> Path:
        return self.out / "certs" / "ca.crt"

    def port(self, listener: str) -> int:
        """`site` (TLS), `site-local`, `<machine>` (the kiosk's loopback) or `<machine>-sensor`."""
        if listener == "site":
            return self.site_tls
        if listener == "site-local":
            return self.site_local
        if listener.endswith("-sensor"):
            return self.machines[listener.removesuffix("-sensor")].sensor
        return self.machines[listener].local

    def peer(self, user: str | None, listener: str, password: str | None = None, client_id: str = "",
             subscribe: tuple[str, ...] = (), persistent: bool = False,
             protocol: MQTTProtocolVersion = MQTTProtocolVersion.MQTTv5, expect: bool = True) -> Peer:
        """A client logged in as `user` (None: anonymous) on `listener`, with its own password unless given."""
        if user is not None and password is None:
            password = OBSERVER_PASSWORD if user == OBSERVER else self.secrets(user).password
        ca = self.ca if listener == "site" else None
        p = Peer(self.port(listener), user, password, ca=ca, client_id=client_id, protocol=protocol,
                 persistent=persistent)
        self._peers.append(p)
        accepted = p.connect()
        if expect and not accepted:
            raise AssertionError(f"{user} refused on {listener}: {p.reason}")
        if subscribe:
            p.subscribe(*subscribe)
        return p

    def add_observer(self, machine: str) -> None:
        """A read-everything login on one kiosk broker, so a test can see what nobody there may read.

        Only an extra `user` block: no ACL `pattern` exists in a render, so
        it changes no other user's access.
        """
        folder = self.out / "kiosks" / machine
        with open(folder / "passwd", "a") as f:
            f.write(f"{OBSERVER}:{hash_password(OBSERVER_PASSWORD)}\n")
        with open(folder / "acl", "a") as f:
            f.write(f"\nuser {OBSERVER}\ntopic read #\n")

    def close(self) -> None:
        for p in self._peers:
            p.close()
        for b in self.brokers.values():
            b.stop()


def machine_root(machine: str) -> str:
    return f"gym/v1/{SITE}/{machine}"

