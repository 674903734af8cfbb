"""A sensor node's side of `R/sensor/*`: one link with the `lost` Will, depth, lift-offs and a retained status.

Shared by the reference node (`legpress-node`) and the simulator (`legpress-sim`), so both speak the
contract the same way: depth at QoS 0 and only while connected (a sample that waited for a broker is no
longer live, and a queue of them would crowd out what matters), lift-offs at QoS 1 (paho keeps them while
the broker is away and sends them, in order, after the next connect), and a retained status whose Will is
`lost` and whose goodbye is `disconnected`, so a clean stop is never mistaken for a fault.
"""

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

import paho.mqtt.client as mqtt

from kiosk.contract.base import encode
from kiosk.contract.sensor import DepthSample, LiftoffEvent, SensorState, SensorStatus
from kiosk.contract.topics import MachineTopics
from kiosk.mqtt.broker_url import BrokerUrl
from kiosk.mqtt.link import MqttLink, Will, acknowledged

log = logging.getLogger(__name__)


RECONNECT_MAX_S = 4


class NodeOffline(RuntimeError):
    """The broker could not be reached in time."""


class SensorLink:
    """The machine's sensor topics over one `MqttLink`; constructing it does no I/O."""

    def __init__(self, broker: BrokerUrl | str, site: str, machine: str, fw: str, client_id: str) -> None:
        self.topics = MachineTopics(site, machine)
        self.fw = fw
        self.depth_sent = 0
        self.depth_skipped = 0  # samples taken while the broker was away: never queued, never sent
        will = Will(self.topics.sensor_status, encode(SensorStatus(state="lost", ts=time.time(), fw=fw)))
        # The node's broker is the kiosk's own, on its Pi or at the end of a cable: trying again every few seconds
        # costs nothing, while paho's default backoff up to 30 s would hold lift-offs made during a set that long
        # after the broker is back (an upgrade restarting it, say).
        self.link = MqttLink(client_id, broker, will=will, reconnect_max_s=RECONNECT_MAX_S)
        self._unacknowledged: deque[mqtt.MQTTMessageInfo] = deque()  # lift-offs the broker has not confirmed
        self._lock = threading.Lock()

    @property
    def connected(self) -> bool:
        return self.link.connected

    def on_connect(self, hook: Callable[[], None]) -> None:
        """Run `hook` after every (re)connect: the place to say `ready` again (a restarted broker forgot it)."""
        self.link.on_connect(hook)

    def connect(self) -> None:
        """Connect in the background, and again whenever the broker comes back."""
        self.link.start()

    def start(self, timeout: float = 10.0) -> None:
        """Connect, waiting up to `timeout` s for the broker; `NodeOffline` (in one line) if it never answers."""
        self.connect()
        if not self.link.wait_connected(timeout):
            self.link.stop()
            raise NodeOffline(f"no connection to {self.link.broker} within {timeout:g} s: {self.link.stats.last_error}")

    def announce(self, state: SensorState, rate_hz: float, fault: str | None = None) -> None:
        """The node's retained status; a later `ready` tells the kiosk the stream may have restarted."""
        # The contract caps `fault` at 200 characters; several faults at once may say more.
        status = SensorStatus(state=state, ts=time.time(), fw=self.fw, rate_hz=round(rate_hz, 1),
                              fault=fault if fault is None or len(fault) <= 200 else fault[:199] + "…")
        self.link.publish(self.topics.sensor_status, status, qos=1, retain=True)

    def depth(self, sample: DepthSample | bytes) -> bool:
        """Send one depth sample at QoS 0 if the broker is there; False (and counted) if it was not."""
        if not self.link.connected:
            self.depth_skipped += 1
            return False
        self.link.publish(self.topics.sensor_depth, sample, qos=0)
        self.depth_sent += 1
        return True

    def event(self, event: LiftoffEvent | bytes) -> mqtt.MQTTMessageInfo:
        """Send a lift-off at QoS 1; paho holds it while the broker is away and sends it after reconnecting."""
        info = self.link.publish(self.topics.sensor_event, event, qos=1)
        if info.rc == mqtt.MQTT_ERR_QUEUE_SIZE:
            log.error("lift-off not queued: the offline queue is full (%s)", self.topics.sensor_event)
        else:
            with self._lock:
                self._prune()
                self._unacknowledged.append(info)
        return info

    def events_pending(self) -> int:
        """Lift-offs sent or held that the broker has not acknowledged yet."""
        with self._lock:
            self._prune()
            return len(self._unacknowledged)

    def _prune(self) -> None:
        # The broker acknowledges in order on one connection: the acknowledged ones are at the front.
        while self._unacknowledged and acknowledged(self._unacknowledged[0]):
            self._unacknowledged.popleft()

    def close(self, rate_hz: float = 0.0) -> None:
        """Say `disconnected` (retained) and leave cleanly, so the broker drops the Will."""
        if self.link.connected:
            self.link.publish_and_wait(self.topics.sensor_status,
                                       SensorStatus(state="disconnected", ts=time.time(), fw=self.fw,
                                                    rate_hz=round(rate_hz, 1)), qos=1, retain=True)
        self.link.stop()
