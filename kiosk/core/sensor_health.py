"""How well the machine's sensor node is talking to the kiosk: rate, last seen, bad payloads.

Also tracks the offset between the sensor's clock and the kiosk's, because
samples carry the sensor's time while timeouts are measured on the kiosk's.
"""

from dataclasses import dataclass

from kiosk.contract.kiosk import SensorHealth

RATE_WINDOW_S = 2.0


@dataclass
class SensorMonitor:
    received: int = 0
    invalid: int = 0
    unknown_fields: int = 0
    last_seen: float | None = None  # kiosk clock
    last_ts: float | None = None  # sensor clock
    last_mm: float | None = None  # calibrated, set by the kiosk
    clock_offset: float = 0.0  # sensor clock minus kiosk clock
    rate_hz: float = 0.0
    _window_start: float = 0.0
    _window_count: int = 0

    def sample_seen(self, received_at: float, ts: float, unknown: int) -> None:
        self.received += 1
        self.unknown_fields += unknown
        self.last_seen, self.last_ts = received_at, ts
        self.clock_offset = ts - received_at
        if received_at - self._window_start >= RATE_WINDOW_S:
            elapsed = received_at - self._window_start
            self.rate_hz = self._window_count / elapsed if self._window_start and elapsed > 0 else 0.0
            self._window_start, self._window_count = received_at, 0
        self._window_count += 1

    def sensor_time(self, kiosk_now: float) -> float:
        return kiosk_now + self.clock_offset

    def silent_for(self, kiosk_now: float) -> float | None:
        return None if self.last_seen is None else kiosk_now - self.last_seen

    def snapshot(self, dropped: int = 0, out_of_range: int = 0, now: float | None = None) -> SensorHealth:
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
        )
