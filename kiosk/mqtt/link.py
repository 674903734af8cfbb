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
from collections.abc import Callable
from dataclasses import dataclass

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
class _Subscription:
    topic_filter: str
    handler: Handler
    qos: int
    retained: bool = True  # False: a retained message is ignored (and counted), only live ones reach the handler


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

    def subscribe(self, topic_filter: str, handler: Handler, qos: int = 1, retained: bool = True) -> None:
        """Register a handler; the subscription is (re)made on every connect.

        `retained=False` for requests that act (commands): a retained one would act again at every
        reconnect, a restart loop from a single publish. The broker's ACL cannot forbid the retain
        flag, so the link ignores such a message and counts it in `stats.retained_ignored`."""
        sub = _Subscription(topic_filter, handler, qos, retained)
        with self._lock:
            self._subs.append(sub)
        # paho keeps the filters in a topic tree: one lookup per message, not a match against every filter.
        self._client.message_callback_add(topic_filter, self._guard(self._dispatcher(sub)))
        if self.connected:
            self._client.subscribe(topic_filter, qos)

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
        with self._lock:
            subs = list(self._subs)
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
