"""The recorder as a service: a persistent MQTT session whose messages are acknowledged only once stored.

The session is fixed (one client id, `clean_start` false, a session expiry of a
day by default), so while the recorder is stopped or cut off the broker queues
its QoS 1 messages and delivers them when it is back. Acknowledgements are
manual: the network thread decodes each message and queues it; the writer
thread stores a batch in one transaction and only then acknowledges those
messages, in the order they came (MQTT requires it). A crash between the two
makes the broker deliver them again, and the store keeps each event once, so
nothing is lost and nothing is stored twice.

Every message is hostile: one that does not fit the contract is counted by
reason, acknowledged (redelivering it would not make it fit) and skipped. A
store that is away (PostgreSQL restarting, SQLite locked) is retried with the
batch held, unacknowledged; a row the store itself refuses is counted and
skipped, so one bad row never stops the rest.

What even a kept session cannot bring back (the recorder away past its expiry,
a broker restarted without its store, a bridge that dropped its queue) shows as
a gap in a kiosk's `eid`: the writer thread, between batches, has `GapWatch`
(replay.py) ask that kiosk to `replay` it; the replies, on the kiosk's own
`R/kiosk/res/replay`, come through the same queue and are acknowledged like
any message, once the ranges they report lost are stored.
"""

import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from kiosk.contract.ids import check_id
from kiosk.contract.profile import ERASED_BY_PROPERTY
from kiosk.contract.topics import member_erases_filter, member_profiles_filter, site_root
from kiosk.fleet.recorder.desk import ProfileDesk
from kiosk.fleet.recorder.discovery import DiscoveryDesk, HomeAssistantWanted
from kiosk.fleet.recorder.intake import (
    EraseAsk,
    InfoRow,
    LostRange,
    ProfileErased,
    ProfileRow,
    ProfileSave,
    Refused,
    Row,
    to_row,
)
from kiosk.fleet.recorder.replay import (
    CHECK_EVERY_S,
    GRACE_S,
    MAX_PER_REQUEST,
    MAX_TRIES,
    REPLY_TIMEOUT_S,
    GapWatch,
    ReplayAnswer,
    decode_reply,
)
from kiosk.fleet.recorder.store import Added, Store
from kiosk.mqtt.broker_url import BrokerUrl
from kiosk.mqtt.link import no_delay

log = logging.getLogger(__name__)

DAY_S = 86400
HOUR_S = 3600.0
BATCH = 500
RETRY_MIN_S = 0.5
RETRY_MAX_S = 30.0
# The tails under R the recorder keeps: events, status changes, telemetry, what each kiosk is; and what it
# acts on without keeping: the saves kiosks send the profile desk, whether their config turns Home Assistant on.
TAILS = ("kiosk/event", "kiosk/status", "kiosk/telemetry", "kiosk/info", "sensor/status", "kiosk/profile",
         "kiosk/config/state")
# Where kiosks answer the recorder's `replay` requests (each its own, as the contract's ACL requires).
REPLY_TAIL = "kiosk/res/replay"


@dataclass
class Tally:
    """What the recorder did in one period: kept, already there, refused by reason."""

    received: int = 0
    added: Added = field(default_factory=Added)
    refused: Counter[str] = field(default_factory=Counter)

    def line(self, period_s: float) -> str:
        refused = sum(self.refused.values())
        reasons = ", ".join(f"{reason} {n}" for reason, n in sorted(self.refused.items()))
        return (f"in the last {_duration(period_s)}: {self.received} messages, stored {self.added.events} events, "
                f"{self.added.statuses} status changes, {self.added.telemetry} telemetry samples, "
                f"{self.added.profiles} profile revisions ({self.added.profile_erasures} erasures); "
                f"{self.added.duplicates} already stored; {self.added.lost_events} ranges of events lost; "
                f"{refused} refused" + (f" ({reasons})" if reasons else ""))


@dataclass(frozen=True)
class _Pending:
    row: Row | None
    mid: int
    qos: int
    connection: int
    answer: ReplayAnswer | None = None


class Recorder:
    """Subscribes to every kiosk's events, statuses and telemetry of a site and keeps them in a `Store`."""

    def __init__(self, store: Store, broker: BrokerUrl | str, site: str, client_id: str | None = None,
                 session_expiry_s: int = DAY_S, log_every_s: float = HOUR_S, batch: int = BATCH,
                 clock: Callable[[], float] = time.time, replay_grace_s: float = GRACE_S,
                 replay_check_every_s: float = CHECK_EVERY_S, replay_max: int = MAX_PER_REQUEST,
                 replay_timeout_s: float = REPLY_TIMEOUT_S, replay_tries: int = MAX_TRIES,
                 machine_models: Mapping[str, str] | None = None):
        """`machine_models`: each machine's model from the site's inventory, for the profile desk."""
        self.store = store
        self.broker = broker if isinstance(broker, BrokerUrl) else BrokerUrl.parse(broker)
        self.site = check_id(site, "site")
        self.client_id = client_id or f"recorder-{site}"
        self.session_expiry_s = session_expiry_s
        self.log_every_s = log_every_s
        self.batch = batch
        self.clock = clock
        self.total = Tally()
        self.connects = 0
        self._period = Tally()
        self._period_started = time.monotonic()
        self._counts_lock = threading.Lock()
        self._queue: queue.Queue[_Pending] = queue.Queue()
        self._closing = threading.Event()
        self._writer: threading.Thread | None = None
        self._connection = 0
        self._connected = threading.Event()
        self._last_failure = ""
        self._session_present = False
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id,
                                   protocol=MQTTProtocolVersion.MQTTv5, manual_ack=True)
        if self.broker.username:
            self._client.username_pw_set(self.broker.username, self.broker.password)
        if self.broker.tls:
            # The site's own CA when the broker URL names one (a rendered gym's dev CA), else the system's.
            self._client.tls_set(ca_certs=str(self.broker.ca) if self.broker.ca else None)
        self._client.on_socket_open = self._guard(no_delay)
        self._client.reconnect_delay_set(1, 30)
        self._client.on_connect = self._guard(self._on_connect)
        self._client.on_connect_fail = self._guard(self._on_connect_fail)
        self._client.on_disconnect = self._guard(self._on_disconnect)
        self._client.on_message = self._guard(self._on_message)
        self._client.on_subscribe = self._guard(self._on_subscribe)
        self.desk = ProfileDesk(store, self.site, self._send_retained, models=machine_models)
        self.discovery = DiscoveryDesk(self.site, self._send_retained)
        self.gaps = GapWatch(store, self.site, self._send, grace_s=replay_grace_s,
                             check_every_s=replay_check_every_s, max_per_request=replay_max,
                             reply_timeout_s=replay_timeout_s, max_tries=replay_tries)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float | None = None) -> bool:
        return self._connected.wait(timeout)

    def start(self) -> None:
        """Migrate the store, start the writer, connect in the background (retrying until the broker is there)."""
        version = self.store.migrate()
        log.info("recording site %s from %s into %s (schema version %d) as %s", self.site, self.broker,
                 self.store.engine, version, self.client_id)
        self._writer = threading.Thread(target=self._write_loop, name="recorder-writer", daemon=True)
        self._writer.start()
        connect = Properties(PacketTypes.CONNECT)
        connect.SessionExpiryInterval = self.session_expiry_s
        self._client.connect_async(self.broker.host, self.broker.port, keepalive=30, clean_start=False,
                                   properties=connect)
        self._client.loop_start()

    def stop(self, timeout: float = 10.0) -> None:
        """Store and acknowledge what has arrived, then disconnect; the broker keeps the session for the restart."""
        self._closing.set()
        if self._writer is not None:
            self._writer.join(timeout)
        self._client.disconnect()
        self._client.loop_stop()
        self._connected.clear()
        self._log_period(force=True)

    def _guard(self, fn: Callable[..., None]) -> Callable[..., None]:
        def guarded(*args: object) -> None:
            try:
                fn(*args)
            except Exception:  # anything escaping kills paho's network thread
                log.exception("recorder callback %s failed", fn.__name__)

        return guarded

    def _on_connect(self, client: mqtt.Client, _userdata: object, flags: mqtt.ConnectFlags,
                    reason_code: object, _properties: object) -> None:
        if getattr(reason_code, "is_failure", False):
            self._failed(f"the broker refused the recorder: {reason_code}")
            return
        with self._counts_lock:
            self._connection += 1
            self.connects += 1
        self._last_failure = ""
        self._session_present = bool(flags.session_present)
        root = site_root(self.site)
        # Retained messages only for a new subscription: a resumed session already had them,
        # and a site of a thousand kiosks would send them all again on every reconnect.
        options = SubscribeOptions(qos=1, retainHandling=SubscribeOptions.RETAIN_SEND_IF_NEW_SUB)
        filters = [*(f"{root}/+/{tail}" for tail in (*TAILS, REPLY_TAIL)), member_profiles_filter(self.site),
                   member_erases_filter(self.site)]
        client.subscribe([(f, options) for f in filters])

    def _on_subscribe(self, _client: mqtt.Client, _userdata: object, _mid: int, reason_codes: list[ReasonCode],
                      _properties: object) -> None:
        refused = [str(rc) for rc in reason_codes if getattr(rc, "is_failure", False)]
        if refused:
            # Typically the broker's ACL: the recorder would miss part of the record, which an operator must see.
            log.error("the broker refused %d of the recorder's subscriptions: %s", len(refused), ", ".join(refused))
        # Ready only once the broker confirmed the subscriptions: from then on nothing published is missed.
        self._connected.set()
        log.info("connected to %s and subscribed (%s)", self.broker,
                 "session resumed" if self._session_present else "new session: nothing was queued for the recorder")

    def _on_connect_fail(self, _client: mqtt.Client, _userdata: object) -> None:
        self._failed(f"cannot reach the broker {self.broker}; retrying")

    def _failed(self, why: str) -> None:
        # Once per outage, not once per retry.
        if why != self._last_failure:
            log.error("%s", why)
            self._last_failure = why

    def _on_disconnect(self, _client: mqtt.Client, _userdata: object, _flags: object, reason_code: object,
                       _properties: object) -> None:
        if self._connected.is_set() and not self._closing.is_set():
            log.warning("lost the broker %s (%s); reconnecting, it keeps the session meanwhile",
                        self.broker, reason_code)
        self._connected.clear()

    def _on_message(self, _client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        if self._closing.is_set():
            # Not acknowledged: the broker delivers it again when the recorder is back.
            return
        row: Row | None = None
        answer: ReplayAnswer | None = None
        try:
            if msg.topic.endswith(f"/{REPLY_TAIL}"):
                correlation = getattr(msg.properties, "CorrelationData", None)
                answer = decode_reply(msg.topic, bytes(msg.payload),
                                      bytes(correlation) if isinstance(correlation, (bytes, bytearray)) else None)
            else:
                row = to_row(msg.topic, bytes(msg.payload), self.clock(), _user_property(msg, ERASED_BY_PROPERTY))
                if isinstance(row, EraseAsk) and msg.retain:
                    # A retained request would erase again at every new session of the recorder, a member who
                    # trained since included; the console sends its requests live.
                    row = None
                    raise Refused("erase_retained", f"{msg.topic}: a retained erase request; ignored (send it live)")
        except Refused as exc:
            self._count_refused(exc)
        with self._counts_lock:
            self._period.received += 1
            self.total.received += 1
            connection = self._connection
        self._queue.put(_Pending(row, msg.mid, msg.qos, connection, answer))

    def _write_loop(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=0.2)
            except queue.Empty:
                self._log_period()
                if self._closing.is_set():
                    return
                self._watch_gaps()
                continue
            pending = [first]
            while len(pending) < self.batch:
                try:
                    pending.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if self._store(pending):
                self._acknowledge(pending)
            self._log_period()
            self._watch_gaps()

    def _store(self, pending: list[_Pending]) -> bool:
        """Store the batch's rows; False when the store stayed away until the recorder stopped."""
        answers = [p.answer for p in pending if p.answer is not None]
        # The ranges a kiosk says are gone go into the same transaction as the events it replayed.
        rows = [*(p.row for p in pending if p.row is not None), *self.gaps.lost_rows(answers)]
        delay = RETRY_MIN_S
        while True:
            try:
                added = self.store.add(rows) if rows else Added()
                break
            except Exception as exc:  # noqa: BLE001 - the store decides what is worth retrying
                if not self.store.is_transient(exc):
                    added = self._store_one_by_one(rows)
                    break
                log.warning("the %s store is away (%s); retrying in %g s", self.store.engine, exc, delay)
                if self._closing.wait(delay):
                    return False
                delay = min(delay * 2, RETRY_MAX_S)
        with self._counts_lock:
            self._period.added += added
            self.total.added += added
        self.gaps.stored(rows, answers)
        # After the batch is stored, so a session that began in it counts for a save in it.
        for row in rows:
            if isinstance(row, ProfileSave):
                self._desk(row)
            elif isinstance(row, EraseAsk):
                self._erase(row)
            elif isinstance(row, InfoRow):
                self.discovery.info(row.machine, row.version, row.machine_model, row.config_version)
            elif isinstance(row, HomeAssistantWanted):
                self.discovery.wanted(row)
        return True

    def _desk(self, save: ProfileSave) -> None:
        try:
            self.desk.consider(save)
        except Refused as exc:
            self._count_refused(exc)
        except Exception as exc:  # noqa: BLE001 - a store hiccup refuses this save, never the recording
            self._count_refused(Refused("save_failed", f"{save.machine}'s save of {save.member}: {exc}"))

    def _erase(self, ask: EraseAsk) -> None:
        try:
            self.desk.erase(ask)
        except Refused as exc:
            self._count_refused(exc)
        except Exception as exc:  # noqa: BLE001 - a store hiccup refuses this erasure, never the recording
            self._count_refused(Refused("erase_failed", f"the console's erase of {ask.member}: {exc}"))

    def _count_refused(self, exc: Refused) -> None:
        with self._counts_lock:
            first = exc.reason not in self._period.refused
            self._period.refused[exc.reason] += 1
            self.total.refused[exc.reason] += 1
        (log.warning if first else log.debug)("refused a message: %s", exc)

    def _send_retained(self, topic: str, payload: bytes, properties: Properties | None = None) -> bool:
        info = self._client.publish(topic, payload, qos=1, retain=True, properties=properties)
        # Queued while the link is down, sent on reconnect (QoS 1 in the kept session).
        return info.rc in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN)

    def _store_one_by_one(self, rows: list[Row]) -> Added:
        added = Added()
        for row in rows:
            try:
                added += self.store.add([row])
            except Exception as exc:  # noqa: BLE001 - one row the store refuses must not hold the rest
                origin = row.member if isinstance(row, (ProfileRow, ProfileErased, EraseAsk)) else row.machine
                if isinstance(row, LostRange):
                    origin = f"{row.machine} (lost {row.from_eid}..{row.to_eid})"
                log.warning("the %s store refused a row from %s/%s: %s", self.store.engine, row.site, origin, exc)
                with self._counts_lock:
                    self._period.refused["store_refused"] += 1
                    self.total.refused["store_refused"] += 1
        return added

    def _watch_gaps(self) -> None:
        try:
            self.gaps.tick(self.connected)
        except Exception as exc:  # a failed scan is tried again at the next tick; recording goes on meanwhile
            if self.store.is_transient(exc):
                log.warning("the %s store is away; the gap scan waits for it (%s)", self.store.engine, exc)
            else:
                log.exception("the gap scan failed")

    def _send(self, topic: str, payload: bytes, properties: Properties) -> None:
        info = self._client.publish(topic, payload, qos=1, properties=properties)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            # Not sent: the request's reply timeout runs out and it is sent again.
            log.warning("could not send the replay request on %s: %s", topic, mqtt.error_string(info.rc))

    def _acknowledge(self, pending: list[_Pending]) -> None:
        with self._counts_lock:
            current = self._connection
        for p in pending:
            # A message from an earlier connection is delivered again on this one (same
            # session); its copy is acknowledged then, and stored as already there.
            if p.qos > 0 and p.connection == current:
                self._client.ack(p.mid, p.qos)

    def _log_period(self, force: bool = False) -> None:
        elapsed = time.monotonic() - self._period_started
        if not force and elapsed < self.log_every_s:
            return
        with self._counts_lock:
            period, self._period = self._period, Tally()
            self._period_started = time.monotonic()
        log.info("%s", period.line(elapsed))


def _user_property(msg: mqtt.MQTTMessage, name: str) -> str | None:
    for key, value in getattr(msg.properties, "UserProperty", None) or []:
        if key == name:
            return str(value)
    return None


def _duration(seconds: float) -> str:
    if seconds >= 3000:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 120:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"
