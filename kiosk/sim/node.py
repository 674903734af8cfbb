"""A simulated sensor node: publishes traces on the machine's sensor topics like the real firmware."""

import os
import threading
import time

from kiosk.mqtt.broker_url import BrokerUrl
from kiosk.mqtt.sensor_link import SensorLink
from kiosk.sim.traces import Trace

FIRMWARE = "legpress-sim"
# However fast it plays, the simulator sends at most this many messages a second: half the kiosk's ceiling on
# the depth topic (kiosk/core/sensor/ingest.py DEPTH_CEILING_HZ), past which a kiosk takes it for a flood.
MAX_SEND_HZ = 500.0


class SensorNode:
    """Plays traces on `R/sensor/*` through the same `SensorLink` the reference node uses."""

    def __init__(self, broker: BrokerUrl | str, site: str, machine: str, client_id: str | None = None):
        self.sensor = SensorLink(broker, site, machine, FIRMWARE, client_id or f"sensor-{machine}-{os.getpid()}")
        self.topics = self.sensor.topics
        self.link = self.sensor.link
        self.rate_hz = 0.0
        self.sent = 0

    def start(self, timeout: float = 10.0) -> None:
        self.sensor.start(timeout)

    def play(self, trace: Trace, realtime: bool = True, stop: threading.Event | None = None,
             speed: float = 1.0) -> int:
        """Send the trace's messages in order, paced by their timestamps when `realtime` (`speed` times
        faster than they say), else as fast as `MAX_SEND_HZ` allows; returns how many."""
        stop = stop or threading.Event()
        self.rate_hz = round(trace.rate_hz, 1)
        self.sensor.announce("ready", self.rate_hz)
        wall_start, trace_start = time.monotonic(), trace.items[0].ts if trace.items else 0.0
        sent = 0
        for item in trace.items:
            due = sent / MAX_SEND_HZ
            if realtime:
                due = max(due, (item.ts - trace_start) / speed)
            delay = due - (time.monotonic() - wall_start)
            if delay > 0 and stop.wait(delay):
                break
            if stop.is_set():
                break
            if item.kind == "depth":
                self.sensor.depth(item.payload)
            else:
                self.sensor.event(item.payload)
            sent += 1
        self.sent += sent
        return sent

    def close(self) -> None:
        """Say `disconnected` (retained) and leave cleanly, so the broker drops the Will."""
        self.sensor.close(self.rate_hz)
