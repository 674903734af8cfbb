"""Sequence checks on one sensor stream, and the counts the kiosk reports as sensor health."""

from dataclasses import dataclass

ACCEPT = 0
RESTART = 1  # accepted too
DUPLICATE = 2
OUT_OF_ORDER = 3


@dataclass
class StreamHealth:
    """What the engine refused from the sensor, for telemetry and diagnostics."""

    duplicates: int = 0
    out_of_order: int = 0
    out_of_range: int = 0
    restarts: int = 0

    @property
    def dropped(self) -> int:
        return self.duplicates + self.out_of_order


class SeqGuard:
    """Accepts each `seq` of one stream once and in order, and notices a restarted sender.

    A sender stamps `ts` when it samples, so a late (out-of-order) message
    carries an older `ts` than the newest one seen. A lower `seq` with a newer
    `ts` can only be a sender that started counting from 0 again.
    """

    def __init__(self) -> None:
        self._seq = -1
        self._ts = -1.0

    def admit(self, seq: int, ts: float) -> int:
        if seq > self._seq:
            self._seq, self._ts = seq, ts
            return ACCEPT
        if ts > self._ts:
            self._seq, self._ts = seq, ts
            return RESTART
        return DUPLICATE if seq == self._seq else OUT_OF_ORDER
