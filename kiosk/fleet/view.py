"""What the broker says about each machine of a site: the latest message of each kind, decoded or marked bad.

`status`, `watch`, `command` and `config` all read the fleet through this one
class, so a malformed payload is treated the same everywhere: kept as a
`BadPayload` to show the operator, never raised.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, TypeAdapter

from kiosk.contract.base import PayloadError, decode
from kiosk.contract.config import ConfigState
from kiosk.contract.events import KIOSK_EVENT
from kiosk.contract.ids import check_id
from kiosk.contract.kiosk import (
    STALE_AFTER_HEARTBEATS,
    KioskInfo,
    KioskStatus,
    KioskTelemetry,
    read_bridge_state,
)
from kiosk.contract.sensor import SensorStatus
from kiosk.contract.topics import parse, site_root
from kiosk.mqtt.link import MqttLink


@dataclass(frozen=True)
class BadPayload:
    """A message that did not fit its model, kept so it can be shown instead of the value."""

    topic: str
    reason: str


def _keep_all(_value: object) -> bool:
    return True


@dataclass(frozen=True)
class Source:
    """One kind of message under `R` (`tail`, e.g. `kiosk/status`) and the model it must fit."""

    tail: str
    model: type[BaseModel] | TypeAdapter[Any] | None
    # False for messages that are not ours to keep, such as another operator's command reply.
    keep: Callable[[Any], bool] = _keep_all
    # For a payload that is not a contract JSON object: reads it, or raises PayloadError.
    read: Callable[[bytes], Any] | None = None


def bridge_state(payload: bytes) -> bool:
    """mosquitto's bridge notification: `1` (the kiosk's broker is bridged) or `0` (the site lost it)."""
    state = read_bridge_state(payload)
    if state is None:
        raise PayloadError("invalid", f"a bridge state is 0 or 1, not {payload[:20]!r}")
    return state


KIOSK_STATUS = Source("kiosk/status", KioskStatus)
KIOSK_INFO = Source("kiosk/info", KioskInfo)
KIOSK_TELEMETRY = Source("kiosk/telemetry", KioskTelemetry)
KIOSK_EVENTS = Source("kiosk/event", KIOSK_EVENT)
CONFIG_STATE = Source("kiosk/config/state", ConfigState)
SENSOR_STATUS = Source("sensor/status", SensorStatus)
KIOSK_BRIDGE = Source("kiosk/bridge", None, read=bridge_state)
# The node's status as its kiosk relays it: the only copy at a site broker (sensor topics stay local).
SENSOR_RELAYED = Source("kiosk/sensor", SensorStatus)


@dataclass(frozen=True)
class Seen:
    """A decoded model (or `BadPayload`) and when it arrived, on the monotonic clock."""

    value: Any
    at: float


# (machine, source name, value, what that source said before or None); runs on the link's thread.
MessageObserver = Callable[[str, str, Any, Seen | None], None]


# Machines followed at most. A site has tens of machines; a login that may publish under `+` (Home Assistant's
# `out_of_order`, an operator's typo in a loop) would otherwise add one per made-up machine id, for ever.
MAX_MACHINES = 2_000


class FleetView:
    """The latest message of each named `Source`, per machine, for one machine or every machine of a site."""

    def __init__(self, site: str, sources: dict[str, Source], machine: str | None = None,
                 on_message: MessageObserver | None = None):
        self.site = check_id(site, "site")
        self.machine = None if machine is None else check_id(machine, "machine")
        self._sources = sources
        self._on_message = on_message
        self._latest: dict[str, dict[str, Seen]] = {}
        self._changed = threading.Condition()
        self.machines_ignored = 0  # messages of machines past MAX_MACHINES, dropped

    def listen(self, link: MqttLink) -> None:
        """Subscribe to every source; retained ones arrive right away."""
        for name, source in self._sources.items():
            topic_filter = f"{site_root(self.site)}/{self.machine or '+'}/{source.tail}"
            link.subscribe(topic_filter, self._receiver(name), qos=1)

    def machines(self) -> list[str]:
        with self._changed:
            return sorted(self._latest)

    def latest(self, machine: str, name: str) -> Seen | None:
        with self._changed:
            return self._latest.get(machine, {}).get(name)

    def value(self, machine: str, name: str) -> Any:
        """The latest decoded model or `BadPayload`, None when nothing came."""
        seen = self.latest(machine, name)
        return None if seen is None else seen.value

    def kiosk_state(self, machine: str, now: float | None = None) -> str:
        """`ready`, `disconnected` or `lost` from the retained status; `unknown` without a readable one.

        `lost` too when the site broker lost the kiosk's bridge (when this view listens for it): the
        kiosk's broker died with it (a power cut), and its retained status still says what it last said.
        `stale` for a `ready` the kiosk stopped refreshing (older than 2.5 heartbeats at `now`, the
        wall clock by default) unless this view heard it live meanwhile: its app died while its broker
        lived on or came back alone, so neither the Will nor the bridge says so.
        """
        if self.value(machine, "bridge") is False:
            return "lost"
        status = self.value(machine, "status")
        if not isinstance(status, KioskStatus):
            return "unknown"
        if status.stale(time.time() if now is None else now) and not self._heard_live(machine, status):
            return "stale"
        return status.state

    def _heard_live(self, machine: str, status: KioskStatus) -> bool:
        # Telemetry and events are never retained: one heard within the same 2.5 heartbeats means the app runs.
        window = STALE_AFTER_HEARTBEATS * (status.heartbeat_s or 0.0)
        now = time.monotonic()
        for name in ("telemetry", "event"):
            seen = self.latest(machine, name) if name in self._sources else None
            if seen is not None and not isinstance(seen.value, BadPayload) and now - seen.at <= window:
                return True
        return False

    def sensor(self, machine: str) -> Any:
        """The sensor node's own status where it is heard, else what its kiosk relays (None when neither)."""
        own = self.value(machine, "sensor")
        return own if own is not None else self.value(machine, "sensor_relayed")

    def online(self) -> list[str]:
        return [m for m in self.machines() if self.kiosk_state(m) == "ready"]

    def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Block until `predicate` (re-checked on every message) holds, or `timeout` passes."""
        with self._changed:
            return self._changed.wait_for(predicate, timeout)

    def _receiver(self, name: str) -> Callable[[str, bytes, object], None]:
        def receive(topic: str, payload: bytes, _properties: object) -> None:
            self._receive(name, topic, payload)

        return receive

    def _receive(self, name: str, topic: str, payload: bytes) -> None:
        parsed = parse(topic)
        # An empty payload erases a retained message: nothing is there to show.
        if parsed is None or parsed.machine is None or not payload:
            return
        source = self._sources[name]
        try:
            if source.read is not None:
                value: Any = source.read(payload)
            else:
                assert source.model is not None, f"source {name} has neither a model nor a reader"
                value = decode(source.model, payload)
        except PayloadError as exc:
            value = BadPayload(topic, str(exc))
        if not source.keep(value):
            return
        with self._changed:
            if parsed.machine not in self._latest and len(self._latest) >= MAX_MACHINES:
                self.machines_ignored += 1
                return
            previous = self._latest.setdefault(parsed.machine, {}).get(name)
            self._latest[parsed.machine][name] = Seen(value, time.monotonic())
            self._changed.notify_all()
        if self._on_message is not None:
            self._on_message(parsed.machine, name, value, previous)
