"""Whether a sensor timestamp can be believed, and the offset between the sensor's clock and the kiosk's.

Samples carry the sensor's `ts`; the kiosk measures silence on its own
clock, through the offset between the two. A sample or event whose `ts` is
far from the kiosk's clock, or far from the stream's own recent past, is
refused (and counted) before anything reads it: it never moves the offset,
never reaches the cue engine. Forged input did exactly that before (lift-offs
stamped 1970, a depth sample from the year 3000 that raised a false
`sensor_lost`, replays of old samples counted again as reps).

Only a depth sample inside the machine's travel moves the clock. A sensor
restart is recognised from the node's status (`ready` again) followed by a
depth `seq` back near 0: only then may the stream's time start afresh. A run
of refused samples never resynchronises anything on its own.
"""

from dataclasses import dataclass

# Sensor nodes and kiosks both keep NTP time; five minutes covers a node that has not synced yet
# after boot, and nothing a forger would want (years, not minutes).
MAX_CLOCK_SKEW_S = 300.0
# QoS 0 samples may arrive a little out of order; older than this behind the newest is a replay.
MAX_BEHIND_S = 2.0
# Ahead of the newest accepted sample by more than this plus the time that passed is a jump. A real
# node's clock runs at the kiosk's pace; the simulator and the tests' nodes compress time, up to this
# many sensor seconds per kiosk second.
MAX_AHEAD_S = 5.0
MAX_PACE = 4.0
# A restarted node counts from 0 again; by the time it is back on the broker a few hundred have gone by.
RESTART_SEQ = 1000


@dataclass
class SensorClock:
    """The sensor-minus-kiosk clock offset, moved only by believable samples."""

    offset: float = 0.0
    refused: int = 0
    restarts: int = 0
    last_refusal: str = ""
    # Set by the believable sample that restarted the stream, until the next one: the kiosk tells the cue engine.
    just_restarted: bool = False
    _last_ts: float | None = None  # newest accepted depth sample, sensor clock
    _last_at: float = 0.0  # when it arrived, kiosk clock
    _restart_expected: bool = False

    def believable(self, ts: float, received_at: float, seq: int | None = None) -> bool:
        """Whether `ts` (a depth sample's with its `seq`, or an event's without) may be used; counts refusals.

        Depth samples are held to the kiosk's clock and to the stream's recent past; events to the clock only.
        """
        self.just_restarted = False
        why = self._doubt(ts, received_at, seq)
        if why is None:
            return True
        self.refused += 1
        self.last_refusal = why
        return False

    def settle(self, ts: float, received_at: float) -> None:
        """A believable depth sample inside the travel: the stream's newest time, and the offset, follow it."""
        if self._last_ts is None or ts >= self._last_ts:
            self._last_ts, self._last_at = ts, received_at
            self.offset = ts - received_at

    def sensor_restarted(self) -> None:
        """The node said `ready` again: its next depth sample with a `seq` near 0 starts the stream afresh."""
        self._restart_expected = True

    def sensor_time(self, kiosk_now: float) -> float:
        return kiosk_now + self.offset

    def _doubt(self, ts: float, received_at: float, seq: int | None) -> str | None:
        skew = ts - received_at
        if abs(skew) > MAX_CLOCK_SKEW_S:
            return f"ts {ts:.3f} is {skew:+.0f} s from the kiosk's clock"
        if self._restart_expected and seq is not None and seq <= RESTART_SEQ:
            self._restart_expected, self._last_ts = False, None
            self.restarts += 1
            self.just_restarted = True
            return None
        if self._last_ts is None or seq is None:
            # A lift-off event is held only to the kiosk's clock: refusing one because a forged depth
            # sample ran the stream ahead would hide a real lift-off, its warning and the set's stop.
            # A wrongly accepted one errs the safe way (a warning, a shallower max depth).
            return None
        behind = self._last_ts - ts
        if behind > MAX_BEHIND_S:
            return f"ts {ts:.3f} is {behind:.1f} s behind the stream"
        allowed = MAX_AHEAD_S + MAX_PACE * max(0.0, received_at - self._last_at)
        if -behind > allowed:
            return f"ts {ts:.3f} is {-behind:.1f} s ahead of the stream"
        return None
