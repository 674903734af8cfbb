"""A simulated sensor node: publishes traces on the machine's sensor topics like the real firmware."""

import os
import threading
import time

from kiosk.contract.base import encode
from kiosk.contract.sensor import SensorStatus
from kiosk.contract.topics import MachineTopics
from kiosk.mqtt.broker_url import BrokerUrl
from kiosk.mqtt.link import MqttLink, Will
from kiosk.sim.traces import Trace

FIRMWARE = "legpress-sim"


class NodeOffline(RuntimeError):
    """The broker could not be reached in time."""


class SensorNode:
    """Depth on `R/sensor/depth` (QoS 0), lift-offs on `R/sensor/event` (QoS 1), retained status with a Will.

    The Will (`lost`) is what a kiosk sees if the node dies; `close` says
    `disconnected` instead, so a clean stop is never mistaken for a fault.
    """

    def __init__(self, broker: BrokerUrl | str, site: str, machine: str, client_id: str | None = None):
        self.topics = MachineTopics(site, machine)
        self.rate_hz = 0.0
        self.sent = 0
        will = Will(self.topics.sensor_status, encode(SensorStatus(state="lost", ts=time.time(), fw=FIRMWARE)))
        self.link = MqttLink(client_id or f"sensor-{machine}-{os.getpid()}", broker, will=will)

    def start(self, timeout: float = 10.0) -> None:
        self.link.start()
        if not self.link.wait_connected(timeout):
            self.link.stop()
            raise NodeOffline(f"no connection to {self.link.broker} within {timeout:g} s: {self.link.stats.last_error}")

    def play(self, trace: Trace, realtime: bool = True, stop: threading.Event | None = None) -> int:
        """Send the trace's messages in order, paced by their timestamps when `realtime`; returns how many."""
        stop = stop or threading.Event()
        self._status("ready", trace.rate_hz)
        wall_start, trace_start = time.monotonic(), trace.items[0].ts if trace.items else 0.0
        sent = 0
        for item in trace.items:
            if realtime:
                delay = (item.ts - trace_start) - (time.monotonic() - wall_start)
                if delay > 0 and stop.wait(delay):
                    break
            elif stop.is_set():
                break
            if item.kind == "depth":
                self.link.publish(self.topics.sensor_depth, item.payload, qos=0)
            else:
                self.link.publish(self.topics.sensor_event, item.payload, qos=1)
            sent += 1
        self.sent += sent
        return sent

    def close(self) -> None:
        """Say `disconnected` (retained) and leave cleanly, so the broker drops the Will."""
        if self.link.connected:
            self.link.publish_and_wait(self.topics.sensor_status,
                                       SensorStatus(state="disconnected", ts=time.time(), fw=FIRMWARE,
                                                    rate_hz=self.rate_hz), qos=1, retain=True)
        self.link.stop()

    def _status(self, state: str, rate_hz: float) -> None:
        self.rate_hz = round(rate_hz, 1)
        self.link.publish(self.topics.sensor_status,
                          SensorStatus(state=state, ts=time.time(), fw=FIRMWARE, rate_hz=self.rate_hz),
                          qos=1, retain=True)
