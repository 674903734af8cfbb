"""Sequence checks on one sensor stream, and the counts the kiosk reports as sensor health."""

from collections import deque
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
    carries an older `ts` than the newest one seen. A `seq` back near 0 with a
    newer `ts` can only be a sender that started counting again. A `seq` that
    runs ahead faster than any sensor samples is forged, and refused: taken,
    it would make every real sample after it look late. Nothing else
    resynchronises the guard, least of all a run of refused samples (replays
    come in runs).
    """

    # Far above any sensor's rate (the contract says 20-100 Hz), so only a forged seq exceeds it.
    MAX_RATE_HZ = 1000.0
    SLACK = 1000
    RESTART_SEQ = 1000

    def __init__(self) -> None:
        self._seq = -1
        self._ts = -1.0

    def admit(self, seq: int, ts: float) -> int:
        if seq > self._seq:
            if self._seq >= 0 and seq - self._seq > self.MAX_RATE_HZ * max(0.0, ts - self._ts) + self.SLACK:
                return OUT_OF_ORDER
            verdict = ACCEPT
        elif seq <= self.RESTART_SEQ and ts > self._ts:
            verdict = RESTART
        else:
            return DUPLICATE if seq == self._seq else OUT_OF_ORDER
        self._seq, self._ts = seq, ts
        return verdict


class EventGuard:
    """Drops only repeats of lift-off events that were already seen (QoS 1 may deliver twice).

    Unlike depth, a lift-off is never dropped for arriving out of order: it is
    a safety signal, and one message with a forged high `seq` must not be able
    to hide the real ones that follow.
    """

    def __init__(self, memory: int = 64) -> None:
        self._seen: deque[tuple[int, float]] = deque(maxlen=memory)

    def admit(self, seq: int, ts: float) -> int:
        key = (seq, ts)
        if key in self._seen:
            return DUPLICATE
        self._seen.append(key)
        return ACCEPT
