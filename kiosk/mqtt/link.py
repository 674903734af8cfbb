"""One MQTT connection over paho-mqtt 2 (MQTT v5), shared by kiosk, simulator and fleet tools.

What messages mean lives elsewhere: this class only connects, keeps its
subscriptions across reconnects, and hands raw payloads to handlers. Any
exception a handler raises is caught, logged and counted here, because an
exception escaping a paho callback kills paho's network thread and the kiosk
would silently go deaf.
"""

import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from pydantic import BaseModel

from kiosk.contract.base import encode
from kiosk.mqtt.broker_url import BrokerUrl

log = logging.getLogger(__name__)

MAX_QUEUED = 2000
# A subscription with a ceiling counts its messages over this window: long, so that a burst after this process
# stalled (a node's seconds of samples read at once) stays under it; a flood fills it in a fraction of it.
CEILING_WINDOW_S = 1.0
# ...and, past the ceiling, unsubscribes for this long (see `FloodGate`).
FLOOD_PAUSE_S = 2.0
# While a flood lasts the gate closes every FLOOD_PAUSE_S or so: the log says so at most this often.
FLOOD_LOG_EVERY_S = 60.0

Handler = Callable[[str, bytes, Properties | None], None]


@dataclass
class LinkStats:
    """Counters for diagnostics and telemetry."""

    connects: int = 0
    disconnects: int = 0
    refused: int = 0
    callback_errors: int = 0
    received: int = 0
    unreachable: int = 0  # connection attempts that found no broker (paho's retries included)
    retained_ignored: int = 0  # retained messages on a subscription that acts on live ones only (commands)
    last_error: str = ""


@dataclass
class FloodGate:
    """A subscription's ceiling: past `ceiling_hz` it is dropped at the broker for a moment.

    mosquitto queues QoS 0 messages for a connected client without limit, and paho
    reads one packet at a time: a topic flooded faster than this process can read
    builds a backlog in the socket that every other message, on any topic, waits
    behind (a lift-off behind a babbling depth stream waited seconds). Shedding
    after reading cannot shorten that wait; not being sent the messages can. So
    when one window holds more than the ceiling allows, the link unsubscribes the
    topic (the broker stops queueing it at once), drops what is already on its way
    unread (counted in `dropped`), and subscribes again after `FLOOD_PAUSE_S`.
    """

    ceiling_hz: float
    pauses: int = 0
    dropped: int = 0
    closed_until: float = float("-inf")  # monotonic
    _window_start: float = float("-inf")
    _window_count: int = 0
    _logged_at: float = float("-inf")

    def admit(self, now: float) -> bool:
        """False when this message comes while the gate is closed, or closes it (then `pauses` grew)."""
        if now < self.closed_until:
            self.dropped += 1
            return False
        if now - self._window_start >= CEILING_WINDOW_S:
            self._window_start, self._window_count = now, 0
        self._window_count += 1
        if self._window_count <= self.ceiling_hz * CEILING_WINDOW_S:
            return True
        self.closed_until = now + FLOOD_PAUSE_S
        self.pauses += 1
        self.dropped += 1
        return False


@dataclass
class _Subscription:
    topic_filter: str
    handler: Handler
    qos: int
    retained: bool = True  # False: a retained message is ignored (and counted), only live ones reach the handler
    gate: FloodGate | None = None
    _reopen: threading.Timer | None = field(default=None, repr=False)


@dataclass
class Will:
    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = True


class MqttLink:
    """A resilient MQTT v5 client: async connect, backoff reconnect, Will, resubscribe on connect."""

    def __init__(
        self,
        client_id: str,
        broker: BrokerUrl | str,
        will: Will | None = None,
        keepalive: int = 10,
        reconnect_min_s: int = 1,
        reconnect_max_s: int = 30,
        session_expiry_s: int = 0,
        logs_refusals: bool = True,
    ):
        """`session_expiry_s` > 0 asks the broker to keep this client's session (subscriptions and the
        QoS 1 messages for it) that long while it is away, also across a restart of this process.

        `logs_refusals` False: the owner tells a refused login itself (`refusal`, `wait_answered`), as the
        operators' tools do in their one line, so the log does not say it again."""
        self.broker = broker if isinstance(broker, BrokerUrl) else BrokerUrl.parse(broker)
        self.client_id = client_id
        self.stats = LinkStats()
        self._keepalive = keepalive
        self._session_expiry_s = session_expiry_s
        self._subs: list[_Subscription] = []
        self._on_connect_hooks: list[Callable[[], None]] = []
        self._connected = threading.Event()
        self._lock = threading.Lock()
        self._started = False
        # Message ids of SUBSCRIBEs awaiting their SUBACK; None for one paho could not send (no connection).
        self._pending_subacks: set[int | None] = set()

        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        if self.broker.username:
            self._client.username_pw_set(self.broker.username, self.broker.password)
        if self.broker.tls:
            # Certificate and host name are always checked: the broker's CA when one is given
            # (a render's dev CA), else the host's public CAs.
            self._client.tls_set(ca_certs=str(self.broker.ca) if self.broker.ca else None)
        if will is not None:
            self.set_will(will)
        self._client.reconnect_delay_set(reconnect_min_s, reconnect_max_s)
        # Bounded offline queue: a kiosk cut off for hours must not grow without limit;
        # status and retained state are republished on every reconnect anyway.
        self._client.max_queued_messages_set(MAX_QUEUED)
        self._client.on_connect = self._guard(self._handle_connect)
        self._client.on_disconnect = self._guard(self._handle_disconnect)
        self._client.on_message = self._guard(self._handle_message)
        self._client.on_subscribe = self._guard(self._handle_subscribe)
        self._client.on_socket_open = self._guard(no_delay)
        self._client.on_connect_fail = self._guard(self._handle_connect_fail)
        self._unreachable_logged = False
        self._logs_refusals = logs_refusals
        self._refusal_logged = False
        # Set when the broker has answered the connect either way: accepted (and subscribed) or refused.
        self._answered = threading.Event()
        self.refusal: str | None = None  # why the broker refused the last connect; None once one is accepted

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float | None = None) -> bool:
        return self._connected.wait(timeout)

    def wait_answered(self, timeout: float | None = None) -> bool:
        """Wait until the broker has accepted the link or refused its login; False if neither within `timeout`."""
        return self._answered.wait(timeout)

    def subscribe(self, topic_filter: str, handler: Handler, qos: int = 1, retained: bool = True,
                  ceiling_hz: float | None = None) -> None:
        """Register a handler; the subscription is (re)made on every connect.

        `retained=False` for requests that act (commands): a retained one would act again at every
        reconnect, a restart loop from a single publish. The broker's ACL cannot forbid the retain
        flag, so the link ignores such a message and counts it in `stats.retained_ignored`.
        `ceiling_hz`: more messages a second than this is a flood; the topic is dropped for a moment so
        the others do not wait behind it (`FloodGate`, counted in `flood_gate(topic_filter)`)."""
        gate = FloodGate(ceiling_hz) if ceiling_hz is not None else None
        sub = _Subscription(topic_filter, handler, qos, retained, gate)
        with self._lock:
            self._subs.append(sub)
        # paho keeps the filters in a topic tree: one lookup per message, not a match against every filter.
        self._client.message_callback_add(topic_filter, self._guard(self._dispatcher(sub)))
        if self.connected:
            self._client.subscribe(topic_filter, qos)

    def flood_gate(self, topic_filter: str) -> FloodGate | None:
        """The ceiling of the subscription to `topic_filter`, with what it counted; None if it has none."""
        with self._lock:
            return next((s.gate for s in self._subs if s.topic_filter == topic_filter), None)

    def set_will(self, will: Will) -> None:
        """The message the broker publishes if this client vanishes; must be set before `start`."""
        if self._started:
            raise RuntimeError("the Will must be set before connecting: the broker stores it at CONNECT")
        self._client.will_set(will.topic, will.payload, qos=will.qos, retain=will.retain)

    def on_connect(self, hook: Callable[[], None]) -> None:
        """Run `hook` after each successful (re)connect, once subscriptions are made."""
        self._on_connect_hooks.append(hook)

    def start(self) -> None:
        """Connect in the background; retries until the broker is there."""
        if self._started:
            return
        self._started = True
        properties = None
        if self._session_expiry_s > 0:
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = self._session_expiry_s
        # A kept session is resumed on the first connect too: what operators sent while this kiosk
        # was restarting is waiting for it.
        clean_start = False if self._session_expiry_s > 0 else mqtt.MQTT_CLEAN_START_FIRST_ONLY
        self._client.connect_async(self.broker.host, self.broker.port, keepalive=self._keepalive,
                                   clean_start=clean_start, properties=properties)
        self._client.loop_start()

    def stop(self, timeout: float = 2.0) -> None:
        """Disconnect cleanly (the broker then discards the Will) and stop the network thread."""
        if not self._started:
            return
        self._started = False
        # Cleared first so our own clean disconnect is not logged as a lost connection.
        self._connected.clear()
        try:
            self._client.disconnect()
        finally:
            self._client.loop_stop()
        self._connected.clear()

    def publish(
        self,
        topic: str,
        payload: BaseModel | bytes | str | None,
        qos: int = 1,
        retain: bool = False,
        properties: Properties | None = None,
    ) -> mqtt.MQTTMessageInfo:
        """Publish a contract model (encoded with the contract codec) or raw bytes."""
        data = encode(payload) if isinstance(payload, BaseModel) else payload
        return self._client.publish(topic, data, qos=qos, retain=retain, properties=properties)

    def publish_and_wait(self, topic: str, payload: BaseModel | bytes | str | None, qos: int = 1,
                         retain: bool = False, timeout: float = 2.0, properties: Properties | None = None) -> bool:
        """Publish and wait until the broker has it (for goodbyes just before exit)."""
        info = self.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        try:
            info.wait_for_publish(timeout)
        except (RuntimeError, ValueError) as exc:
            log.warning("publish to %s not confirmed: %s", topic, exc)
            return False
        return info.is_published()

    def _guard(self, fn: Callable[..., None]) -> Callable[..., None]:
        def guarded(*args: object) -> None:
            try:
                fn(*args)
            except Exception as exc:
                self.stats.callback_errors += 1
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("MQTT callback %s failed", fn.__name__)

        guarded.__name__ = fn.__name__
        return guarded

    def _handle_connect(self, client: mqtt.Client, _userdata: object, _flags: object, reason_code: object,
                        _properties: object) -> None:
        if getattr(reason_code, "is_failure", False):
            # A refused CONNACK is not a connection (Frigate's flaw to avoid).
            self.stats.refused += 1
            self.stats.last_error = f"broker refused connection: {reason_code}"
            self.refusal = str(reason_code)
            self._connected.clear()
            self._answered.set()
            # paho tries again every few seconds: the same refusal is logged once until a connect is accepted.
            if self._logs_refusals and not self._refusal_logged:
                self._refusal_logged = True
                log.error("broker %s refused %s: %s (retrying quietly)", self.broker, self.client_id, reason_code)
            return
        now = time.monotonic()
        with self._lock:
            # A topic closed against a flood is subscribed again when its pause ends, not before.
            subs = [s for s in self._subs if s.gate is None or now >= s.gate.closed_until]
        # Connected means able to hear: the link reports itself up (and runs the hooks,
        # which announce `ready`) only once the broker has acknowledged every subscription.
        # paho calls this and on_subscribe on the same thread, so no SUBACK can slip past.
        self._pending_subacks = {client.subscribe(sub.topic_filter, sub.qos)[1] for sub in subs}
        if not self._pending_subacks:
            self._ready()

    def _handle_connect_fail(self, _client: mqtt.Client, _userdata: object) -> None:
        # paho retries on its own and says nothing; the log says it once per outage, not per retry.
        self.stats.last_error = "cannot reach the broker"
        self.stats.unreachable += 1
        if not self._unreachable_logged:
            self._unreachable_logged = True
            log.warning("cannot reach broker %s as %s; retrying until it answers", self.broker, self.client_id)

    def _handle_subscribe(self, _client: mqtt.Client, _userdata: object, mid: int, reason_codes: list[ReasonCode],
                          _properties: object) -> None:
        refused = [str(rc) for rc in reason_codes if getattr(rc, "is_failure", False)]
        if refused:
            # Typically an ACL: the link still comes up, but the operator must see it.
            self.stats.last_error = f"subscription refused: {', '.join(refused)}"
            log.error("broker %s refused a subscription of %s: %s", self.broker, self.client_id, refused)
        if mid in self._pending_subacks:
            self._pending_subacks.discard(mid)
            if not self._pending_subacks:
                self._ready()

    def _ready(self) -> None:
        self._unreachable_logged = self._refusal_logged = False
        self.refusal = None
        self.stats.connects += 1
        self._connected.set()
        self._answered.set()
        log.info("connected to %s as %s", self.broker, self.client_id)
        for hook in self._on_connect_hooks:
            try:
                hook()
            except Exception as exc:
                self.stats.callback_errors += 1
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("on-connect hook failed")

    def _handle_disconnect(self, _client: mqtt.Client, _userdata: object, _flags: object, reason_code: object,
                           _properties: object) -> None:
        if self._connected.is_set():
            self.stats.disconnects += 1
            log.warning("disconnected from %s: %s", self.broker, reason_code)
        self._connected.clear()

    def _dispatcher(self, sub: _Subscription) -> Callable[[mqtt.Client, object, mqtt.MQTTMessage], None]:
        def dispatch(_client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
            self.stats.received += 1
            if sub.gate is not None and not sub.gate.admit(time.monotonic()):
                self._close_for_a_flood(sub)
                return
            if msg.retain and not sub.retained:
                self.stats.retained_ignored += 1
                log.warning("ignored a retained message on %s: requests there act only when sent live", msg.topic)
                return
            try:
                # paho decodes an incoming payload as bytes; its annotation also allows bytearray.
                sub.handler(msg.topic, bytes(msg.payload), getattr(msg, "properties", None))
            except Exception as exc:
                self.stats.callback_errors += 1
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("handler for %s failed on %s", sub.topic_filter, msg.topic)

        dispatch.__name__ = f"dispatch {sub.topic_filter}"
        return dispatch

    def _close_for_a_flood(self, sub: _Subscription) -> None:
        """Unsubscribe `sub` if its gate just closed, and subscribe again when it opens (paho's thread)."""
        gate = sub.gate
        if gate is None or sub._reopen is not None:
            return  # already closed: what still comes was on its way before the broker heard
        self._client.unsubscribe(sub.topic_filter)
        now = time.monotonic()
        if now - gate._logged_at >= FLOOD_LOG_EVERY_S:
            gate._logged_at = now
            log.warning("%s sends more than %.0f messages a second: not taken for %.0f s at a time while it "
                        "does (%d times so far, %d messages dropped)", sub.topic_filter, gate.ceiling_hz,
                        FLOOD_PAUSE_S, gate.pauses, gate.dropped)

        def reopen() -> None:
            sub._reopen = None
            if self.connected:
                self._client.subscribe(sub.topic_filter, sub.qos)

        sub._reopen = threading.Timer(max(0.0, gate.closed_until - now), reopen)
        sub._reopen.daemon = True
        sub._reopen.start()

    def _handle_message(self, _client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        # Only messages no filter of ours matches land here (a broker that sends more than asked).
        self.stats.received += 1


def acknowledged(info: mqtt.MQTTMessageInfo) -> bool:
    """Whether the broker has acknowledged a QoS 1 publish.

    paho's `is_published()` raises for a message it queued while the socket was
    down (rc "not connected"), although it sends that message after the next
    connect and marks it published when the broker acknowledges it; so the
    flag itself is read then.
    """
    try:
        return info.is_published()
    except RuntimeError:
        return bool(getattr(info, "_published", False))
    except ValueError:  # paho's queue was full: it never took the message
        return False


def no_delay(_client: mqtt.Client, _userdata: object, sock: object) -> None:
    """Send each packet at once. With Nagle's algorithm a cue published right after paho acknowledged the
    lift-off that caused it waits for the broker's delayed ACK (about 40 ms on Linux)."""
    setsockopt = getattr(sock, "setsockopt", None)
    if setsockopt is not None:
        setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
