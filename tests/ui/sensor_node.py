"""A stand-in for the machine's sensor node: publishes real depth and lift-off messages over MQTT.

It runs its own thread, like the real node: it plays queued sled paths at
`rate_hz` and holds the last position in between, so the kiosk never sees
the sensor go quiet mid-test. `speed` compresses time: samples carry sensor
time (`ts`) that runs `speed` times faster than the wall clock, which the
cue engine accepts because it only ever uses the samples' own time.
`pause()` silences it the way a node that lost power or its link would:
its clock runs on, nothing is published until `resume()`.
"""

import threading
import time
from collections import deque
from typing import Literal

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from kiosk.contract.sensor import DepthSample, LiftoffEvent, LiftoffZone, SensorStatus
from kiosk.contract.topics import MachineTopics
from kiosk.dev.broker import Broker
from kiosk.sim.motion import SledPath


class SensorNode:
    def __init__(self, broker: Broker, topics: MachineTopics, rate_hz: float = 50.0, speed: float = 2.0,
                 hold_mm: float = 40.0):
        self.topics, self.rate_hz, self.speed = topics, rate_hz, speed
        self.hold_mm = hold_mm
        self._paths: deque[SledPath] = deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._paused = threading.Event()
        self._quiet = threading.Event()  # set by the node's thread once a pause holds: nothing more goes out
        self.last_ts: float | None = None  # the last sample's `ts` published
        self._base = time.time()
        self._sensor_t = 0.0
        self._seq = 0
        self._event_seq = 0
        self._restarted = False  # set by `restart`: the next sample counts from 0
        self._offset: float | None = None  # sensor time at which the current path's `start` is
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self._thread = threading.Thread(target=self._run, name="test-sensor-node", daemon=True)
        self._thread.start()

    @property
    def ts(self) -> float:
        return self._base + self._sensor_t

    def play(self, path: SledPath) -> None:
        """Queue a path (its own times, from `path.start`); the node holds its last position afterwards."""
        with self._lock:
            self._paths.append(path)

    def hold(self, mm: float) -> None:
        with self._lock:
            self._paths.clear()
            self._offset = None  # a path cut short must not leave its clock to the next one
            self.hold_mm = mm

    def idle(self) -> bool:
        with self._lock:
            return not self._paths

    def liftoff(self, zone: LiftoffZone, state: Literal["start", "end"]) -> None:
        self._event_seq += 1
        event = LiftoffEvent(seq=self._event_seq, ts=self.ts, type="liftoff", zone=zone, state=state)
        self.client.publish(self.topics.sensor_event, event.model_dump_json(), qos=1).wait_for_publish(5)

    def restart(self, fw: str) -> None:
        """The node reboots where the sled is: a newer `ready` status, then samples counting from 0 again."""
        status = SensorStatus(state="ready", ts=self.ts, fw=fw)
        self.client.publish(self.topics.sensor_status, status.model_dump_json(), qos=1,
                            retain=True).wait_for_publish(5)
        with self._lock:
            self._restarted = True

    def pause(self) -> float | None:
        """Go quiet; returns once no sample can follow, with the last sample's `ts` (None: none was sent)."""
        self._quiet.clear()
        self._paused.set()
        assert self._quiet.wait(10), "the sensor node's thread did not pause"
        return self.last_ts

    def resume(self) -> None:
        self._paused.clear()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.client.disconnect()
        self.client.loop_stop()

    def _run(self) -> None:
        step = 1.0 / self.rate_hz
        next_wall = time.monotonic()
        while not self._stop.is_set():
            with self._lock:
                path = self._paths[0] if self._paths else None
                if path is not None:
                    if self._offset is None:
                        self._offset = self._sensor_t - path.start
                    t = self._sensor_t - self._offset
                    mm = path.at(min(t, path.end))
                    if t >= path.end:
                        self._paths.popleft()
                        self.hold_mm, self._offset = path.mm, None
                else:
                    mm = self.hold_mm
                if self._restarted:
                    self._seq, self._restarted = -1, False
            if not self._paused.is_set():
                self._seq += 1
                sample = DepthSample(seq=self._seq, ts=self.ts, mm=round(mm, 1))
                self.client.publish(self.topics.sensor_depth, sample.model_dump_json(), qos=0)
                self.last_ts = sample.ts
            else:
                self._quiet.set()
            self._sensor_t += step
            next_wall += step / self.speed
            self._stop.wait(max(0.0, next_wall - time.monotonic()))
