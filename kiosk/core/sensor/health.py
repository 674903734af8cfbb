"""How well the machine's sensor node is talking to the kiosk: rate, last seen, bad payloads.

Every sample passes `sample_seen` before anything uses it: its timestamp is
checked by the `SensorClock`, which also holds the offset between the
sensor's clock and the kiosk's (samples carry the sensor's time, timeouts are
measured on the kiosk's) and the stream it believes (no single sample moves
it). Only believable depth samples inside the machine's travel move the
clock, the rate and `last_seen`.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from kiosk.contract.base import PayloadError, decode
from kiosk.contract.kiosk import SensorHealth
from kiosk.contract.sensor import DepthSample, LiftoffEvent, SensorStatus
from kiosk.core.sensor.clock import SensorClock

log = logging.getLogger(__name__)

RATE_WINDOW_S = 2.0
# Below this the sensor node is too slow for cues within a rep (the contract asks 20-100 Hz).
MIN_RATE_HZ = 20.0
# Readings this far outside the sled's travel are still believed (calibration offset plus noise).
TRAVEL_TOLERANCE_MM = 20.0


@dataclass
class SensorMonitor:
    """The sensor stream as the kiosk sees it: counts, rate, last position, and its clock."""

    received: int = 0
    invalid: int = 0
    unknown_fields: int = 0
    last_seen: float | None = None  # kiosk clock
    last_ts: float | None = None  # sensor clock
    last_mm: float | None = None  # calibrated, set by the kiosk
    rate_hz: float = 0.0
    clock: SensorClock = field(default_factory=SensorClock)
    _window_start: float = 0.0
    _window_count: int = 0
    _status_ts: float | None = None
    _slow_windows: int = 0  # rate windows in a row slower than MIN_RATE_HZ

    @property
    def clock_offset(self) -> float:
        """Sensor clock minus kiosk clock."""
        return self.clock.offset

    def status_seen(self, payload: bytes) -> SensorStatus | None:
        """A `ready` status newer than the last one means the node (re)started; the status, if it is one."""
        try:
            status = decode(SensorStatus, payload)
        except PayloadError as exc:
            log.warning("sensor status refused: %s", exc)
            return None
        if status.state == "ready" and (self._status_ts is None or status.ts > self._status_ts):
            self.clock.sensor_restarted()
        self._status_ts = status.ts if self._status_ts is None else max(self._status_ts, status.ts)
        return status

    def sample_seen(self, received_at: float, item: DepthSample | LiftoffEvent,
                    to_mm: Callable[[float], float] = float, travel_mm: float | None = None, shed: int = 0) -> bool:
        """Count `item`; False if its timestamp cannot be believed and nothing may use it.

        A depth sample (raw, `to_mm` calibrates it) moves the clock only when
        inside `travel_mm`; outside it still goes on, so the cue engine can
        report the sensor as out of range. `shed`: samples the core has shed so far (see `SensorClock`).
        """
        self.received += 1
        self.unknown_fields += len(item.unknown_fields)
        if not isinstance(item, DepthSample):
            return self.clock.believable(item.ts, received_at)
        if not self.clock.believable(item.ts, received_at, item.seq, shed):
            return False
        if travel_mm is None or -TRAVEL_TOLERANCE_MM <= to_mm(item.mm) <= travel_mm + TRAVEL_TOLERANCE_MM:
            self._settle(received_at, item.ts, item.seq)
        return True

    def _settle(self, received_at: float, ts: float, seq: int) -> None:
        self.clock.settle(ts, received_at, seq)
        self.last_seen, self.last_ts = received_at, ts
        if received_at - self._window_start >= RATE_WINDOW_S:
            elapsed = received_at - self._window_start
            self.rate_hz = self._window_count / elapsed if self._window_start and elapsed > 0 else 0.0
            self._slow_windows = self._slow_windows + 1 if 0 < self.rate_hz < MIN_RATE_HZ else 0
            self._window_start, self._window_count = received_at, 0
        self._window_count += 1

    def rate_low(self, now: float) -> bool:
        """Samples keep coming, but slower than cues within a rep need, two rate windows in a row (one
        may straddle a pause or a change of pace)."""
        silent = self.silent_for(now)
        return silent is not None and silent < RATE_WINDOW_S and self._slow_windows >= 2

    def sensor_time(self, kiosk_now: float) -> float:
        return self.clock.sensor_time(kiosk_now)

    def silent_for(self, kiosk_now: float) -> float | None:
        return None if self.last_seen is None else kiosk_now - self.last_seen

    def snapshot(self, dropped: int = 0, out_of_range: int = 0, now: float | None = None,
                 shed: int = 0, flood_pauses: int = 0) -> SensorHealth:
        # A sensor that went quiet has no rate, whatever the last window said.
        rate = self.rate_hz if now is None or (self.silent_for(now) or 0) < RATE_WINDOW_S else 0.0
        return SensorHealth(
            rate_hz=round(rate, 1),
            last_seen_ts=self.last_seen,
            received=self.received,
            invalid=self.invalid,
            dropped=dropped,
            out_of_range=out_of_range,
            unknown_fields=self.unknown_fields,
            ts_refused=self.clock.refused,
            restarts=self.clock.restarts,
            shed=shed,
            flood_pauses=flood_pauses,
        )
