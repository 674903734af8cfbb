"""Unit `sensor`: owns `R/sensor/depth`, `R/sensor/event` and `R/sensor/status` (the machine's own sensor node),
and `R/kiosk/sensor`, where it tells the site what its node last said of itself.

Every sample is decoded strictly, checked against the kiosk's clock and the
stream's own recent past (`SensorClock`: a sample far from either never moves
the clock), mapped through the technician's sled calibration to true
millimetres, and handed to the kiosk's session logic. A bad payload or a
refused timestamp is counted and reported as an `invalid_payloads`
`sensor_fault` at most every 30 s; a node slower than 20 samples/s is a
`rate_low` one, when it becomes so and every 5 min while it stays so.
Sensor topics never cross the bridge, so the node's status (its Will `lost`
included) is relayed, retained, on the kiosk's own `R/kiosk/sensor` when its
state or firmware changes, at most once a second. It also keeps what the
maintenance screen shows of the sensor: the last raw
and calibrated reading, which pads are lifted, rate and silence.
"""

import logging
from typing import Literal, TypeVar

from kiosk.contract.base import PayloadError, decode
from kiosk.contract.events import SensorFault
from kiosk.contract.kiosk import SensorHealth
from kiosk.contract.sensor import DepthSample, LiftoffEvent, SensorStatus
from kiosk.core.cues.health import StreamHealth
from kiosk.core.machine.calibration import CalibrationCheck, CalibrationStore, End, SledCalibration, Zone
from kiosk.core.sensor.health import MIN_RATE_HZ, SensorMonitor
from kiosk.core.sensor.sink import SensorSink
from kiosk.core.snapshot import SledReading
from kiosk.core.unit import Unit, Wiring
from kiosk.mqtt.link import FloodGate
from kiosk.words import wording

log = logging.getLogger(__name__)

INVALID_REPORT_EVERY_S = 30.0
# A node that stays too slow is told once when it becomes so, then again this often while it stays so.
RATE_LOW_REPORT_EVERY_S = 300.0
# The node's status is relayed to the site at most this often, however often it flips.
RELAY_EVERY_S = 1.0
# The contract's fastest node sends 100 samples a second. Ten times that is a flood: the depth topic is then
# dropped at the broker for a moment, so lift-offs on their own topic do not queue behind it (`FloodGate`).
# Below what this process reads a second even on a loaded Pi, or the backlog would build before it closes.
DEPTH_CEILING_HZ = 1000.0
# Calibrating takes the sled's reading as it is now: an older one may be from before it moved.
CALIBRATION_READING_MAX_AGE_S = 1.0

CalibrationStep = Literal["zero", "full", "lumbar", "pelvis"]
Sample = TypeVar("Sample", DepthSample, LiftoffEvent)


class SensorIngest(Unit):
    """Decodes, calibrates and counts the sensor node's stream, then passes it on."""

    def __init__(self, wiring: Wiring, travel_mm: float, monitor: SensorMonitor, sink: SensorSink) -> None:
        """`monitor`: the stream's counts and clock (training reads its time too); `sink`: who is told."""
        super().__init__(wiring)
        self.monitor = monitor
        self.last_raw_mm: float | None = None
        # When the last raw reading came (kiosk clock), believed or not: a bad calibration puts the real sled
        # outside the travel, where the monitor stops counting it as live, and calibrating must still work.
        self.last_raw_at: float | None = None
        self.pads: dict[Zone, bool] = {"lumbar": False, "pelvis": False}  # True while lifted off
        self._travel_mm = travel_mm
        self._calibration: CalibrationStore | None = None
        self._sink = sink
        self._last_invalid_report = 0.0
        self._rate_low_reported: float | None = None  # when, while the rate is low; None while it is fine
        self._node: SensorStatus | None = None  # the node's newest status
        self._relayed: tuple[str, str] | None = None  # (state, fw) last relayed to the site
        self._relayed_at = float("-inf")
        self._gate: FloodGate | None = None  # the depth topic's, once started

    def start(self) -> None:
        self._calibration = CalibrationStore(self.wiring.settings.data_dir, self._travel_mm)
        topics = self.wiring.topics
        # Depth is context and may be shed under a flood; a lift-off is the safety signal and goes first.
        self.listen(topics.sensor_depth, self._depth_message, qos=0, lane="samples", ceiling_hz=DEPTH_CEILING_HZ)
        self._gate = self.wiring.link.flood_gate(topics.sensor_depth)
        self.listen(topics.sensor_event, self._event_message, qos=1, lane="urgent")
        self.listen(topics.sensor_status, self._status_message, qos=1)

    def tick(self, now: float) -> None:
        self._relay(now)
        if not self.monitor.rate_low(now):
            self._rate_low_reported = None
            return
        last = self._rate_low_reported
        if last is None or now - last >= RATE_LOW_REPORT_EVERY_S:
            self._rate_low_reported = now
            rate = self.monitor.rate_hz
            self.wiring.emit(SensorFault(ts=now, session=self._sink.session_id(), fault="rate_low",
                                         detail=f"{rate:.1f} samples/s; cues within a rep need at least "
                                                f"{MIN_RATE_HZ:.0f}"))

    @property
    def started(self) -> bool:
        return self._calibration is not None

    @property
    def calibration(self) -> SledCalibration:
        return self._store().calibration

    def set_travel(self, travel_mm: float) -> None:
        """A config push changed the machine's travel: calibrated readings scale to the new one."""
        self._travel_mm = travel_mm
        if self._calibration is not None:
            self._calibration.set_travel(travel_mm)

    def calibrate(self, step: CalibrationStep, anyway: bool = False) -> SledCalibration:
        """One calibration step; ValueError with a sentence for the technician when it cannot be done.

        An end of the travel far from where the calibration in force puts the
        sled is refused (`CalibrationImplausible`) unless `anyway`: the technician confirmed it on purpose.
        """
        store = self._store()
        if step in ("lumbar", "pelvis"):
            return store.pad_checked(step)
        if step in ("zero", "full"):
            return store.set_end(step, self._live_raw(), anyway=anyway)
        raise ValueError(f"unknown calibration step {step!r}")

    def check_calibration(self, end: End) -> CalibrationCheck:
        """What setting `end` with the sled where it is now would do, for the technician to confirm."""
        return self._store().check(end, self._live_raw())

    def undo_calibration(self) -> SledCalibration:
        return self._store().undo()

    @property
    def can_undo_calibration(self) -> bool:
        return self._calibration is not None and self._calibration.can_undo

    def _live_raw(self) -> float:
        """The sled's raw reading as it is now; ValueError if the sensor has said nothing lately."""
        at, raw = self.last_raw_at, self.last_raw_mm
        if raw is None or at is None or self.wiring.clock.now() - at > CALIBRATION_READING_MAX_AGE_S:
            raise ValueError(wording.NO_LIVE_SLED_READING)
        return raw

    def health(self, now: float, stream: StreamHealth | None) -> SensorHealth:
        return self.monitor.snapshot(dropped=stream.dropped if stream else 0,
                                     out_of_range=stream.out_of_range if stream else 0, now=now,
                                     shed=self._shed(), flood_pauses=self._gate.pauses if self._gate else 0)

    def _shed(self) -> int:
        """Depth samples dropped unhandled: by the core's lane, and by the link while the topic was closed."""
        return self.wiring.inbox.shed + (self._gate.dropped if self._gate else 0)

    def reading(self, now: float, stream: StreamHealth | None) -> SledReading:
        """What the screen shows of the sensor as of `now`."""
        monitor = self.monitor
        return SledReading(mm=monitor.last_mm, raw_mm=self.last_raw_mm, sensor_ts=monitor.last_ts,
                           received=monitor.received, invalid=monitor.invalid,
                           dropped=stream.dropped if stream else 0, rate_hz=monitor.snapshot(now=now).rate_hz,
                           silent_s=monitor.silent_for(now), lumbar_lifted=self.pads["lumbar"],
                           pelvis_lifted=self.pads["pelvis"])

    def _store(self) -> CalibrationStore:
        if self._calibration is None:
            raise RuntimeError("the sensor unit has not started")
        return self._calibration

    def _decode(self, model: type[Sample], payload: bytes, received_at: float) -> Sample | None:
        try:
            item = decode(model, payload)
        except PayloadError as exc:
            self.monitor.invalid += 1
            self._report_invalid(received_at, f"{self.monitor.invalid} refused so far; last: {exc}")
            return None
        if not self.monitor.sample_seen(received_at, item, self.calibration.to_mm, self._travel_mm,
                                        self._shed()):
            clock = self.monitor.clock
            if clock.holding:
                return None  # the first stream forming: held, not refused
            self._report_invalid(received_at, f"timestamp refused ({clock.refused} so far): {clock.last_refusal}")
            return None
        return item

    def _report_invalid(self, received_at: float, detail: str) -> None:
        """A `sensor_fault` for operators, at most one per 30 s however many come (a flood stays a line)."""
        if received_at - self._last_invalid_report >= INVALID_REPORT_EVERY_S:
            self._last_invalid_report = received_at
            self.wiring.emit(SensorFault(ts=received_at, session=self._sink.session_id(), fault="invalid_payloads",
                                         detail=detail[:200]))

    def _depth_message(self, _topic: str, payload: bytes, _props: object, received_at: float) -> None:
        raw = self._decode(DepthSample, payload, received_at)
        if raw is None:
            return
        if self.monitor.clock.just_restarted:
            self._sink.sensor_restarted()
        self.last_raw_mm, self.last_raw_at = raw.mm, received_at
        sample = raw.model_copy(update={"mm": self.calibration.to_mm(raw.mm)})
        self.monitor.last_mm = sample.mm
        self._sink.depth(sample, received_at)

    def _status_message(self, _topic: str, payload: bytes, _props: object, received_at: float) -> None:
        status = self.monitor.status_seen(payload) if payload else None
        if status is not None:
            self._node = status
            self._relay(received_at)

    def _relay(self, now: float) -> None:
        node = self._node
        if node is None or (node.state, node.fw) == self._relayed or now - self._relayed_at < RELAY_EVERY_S:
            return
        self._relayed, self._relayed_at = (node.state, node.fw), now
        self.wiring.link.publish(self.wiring.topics.kiosk_sensor, node, qos=1, retain=True)

    def _event_message(self, _topic: str, payload: bytes, _props: object, received_at: float) -> None:
        event = self._decode(LiftoffEvent, payload, received_at)
        if event is None:
            return
        self.pads[event.zone] = event.state == "start"
        self._sink.liftoff(event, received_at)
