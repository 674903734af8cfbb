"""Whether a sensor timestamp can be believed, and the offset between the sensor's clock and the kiosk's.

Samples carry the sensor's `ts` and `seq`; the kiosk measures silence on its
own clock, through the offset between the two. A sample or event whose `ts` is
far from the kiosk's clock is refused (and counted) before anything reads it.
Forged input did that before (lift-offs stamped 1970, a depth sample from the
year 3000 that raised a false `sensor_lost`, replays of old samples counted
again as reps), and one forged sample `{"seq":0,"ts":now+4.5}` every 2 s moved
the stream's clock ahead and locked the real sensor out.

So no single sample moves the clock. The stream is what the kiosk believes:
its newest `ts` and `seq`. A depth sample is used only if it fits the stream:
at most `MAX_BEHIND_S` behind it (QoS 0 reorders a little), at most
`STEP_S` ahead of it plus the time that passed (at up to `MAX_PACE`), and its
`seq` within a few hundred of the stream's. Only a fitting sample inside the
machine's travel moves the stream, and then by a step a live sensor takes.

Anything else may be a new stream: a node that restarted (`seq` back near 0,
its clock perhaps off), or whose clock stepped. Such samples are held as a
candidate and refused; the candidate is believed only after
`NEW_STREAM_SAMPLES` consistent ones in a row (each a little after the last)
and, when its clock does not fit the believed stream's, once that stream has
fallen silent for `TAKEOVER_SILENCE_S`: a live sensor's clock cannot be taken
over, whatever anyone sends beside it. (A run whose clock fits but whose `seq`
went back, a node that rebooted quickly, takes over once consistent.) While the
core sheds depth (a flood), nothing takes over: the believed stream's samples
may be among those shed, so its silence proves nothing.
The first stream after the kiosk starts is believed the same way, after
several consistent samples. A `ready` status only says the next new stream
is a restart worth counting; it takes nothing over by itself.

Lift-off events are held to the kiosk's clock only (see `_doubt`).
"""

from dataclasses import dataclass, field
from typing import Literal

# Sensor nodes and kiosks both keep NTP time; five minutes covers a node that has not synced yet
# after boot, and nothing a forger would want (years, not minutes).
MAX_CLOCK_SKEW_S = 300.0
# QoS 0 samples may arrive a little out of order; older than this behind the newest is a replay.
MAX_BEHIND_S = 2.0
# Ahead of the newest believed sample by more than this plus the time that passed is not this stream.
# A real node's clock runs at the kiosk's pace; the simulator and the tests' nodes compress time, up to
# this many sensor seconds per kiosk second.
STEP_S = 0.25
MAX_PACE = 4.0
# `seq` counts samples: a 100 Hz node adds 100 a second. Behind the stream by more than this is not a
# late sample of it; ahead by more than SEQ_RATE_HZ per second of `ts` (plus the slack) is not either.
SEQ_BEHIND = 100
SEQ_RATE_HZ = 200.0
SEQ_SLACK = 20
# A new stream is believed after this many consistent samples in a row (60 ms of a 100 Hz node)...
NEW_STREAM_SAMPLES = 6
# ...each at most this long after the one before it (a node at the contract's slowest, 20 Hz, with loss)...
NEW_STREAM_GAP_S = 0.5
# ...and only once the believed stream has had no fitting sample for this long.
TAKEOVER_SILENCE_S = 0.5
# Candidates followed at once: a new stream's samples come interleaved with whatever else arrives (a flood,
# forgeries), so one junk sample must not reset it. A full list forgets its shortest run.
CANDIDATES = 4


NewStream = Literal["first", "seq", "clock"]


@dataclass
class _Stream:
    """Where a stream of depth samples is: its newest `ts` and `seq`, and when (kiosk clock) it got there."""

    ts: float
    seq: int
    at: float
    run: int = 1  # consistent samples in a row (for a candidate)


@dataclass
class SensorClock:
    """The sensor-minus-kiosk clock offset and the believed stream, moved only by samples that fit it."""

    offset: float = 0.0
    refused: int = 0
    held: int = 0  # samples of the first stream, waiting until enough agree (not refused: nothing to fit yet)
    holding: bool = False  # the last sample was held so, not refused
    restarts: int = 0
    last_refusal: str = ""
    # Set by the sample that made a new stream believed, until the next one: the kiosk tells the cue engine.
    just_restarted: bool = False
    _stream: _Stream | None = None  # the believed stream
    _last_fit: float = 0.0  # kiosk clock, the newest sample that fitted it
    _candidates: list[_Stream] = field(default_factory=list)
    _restart_expected: bool = False
    _shed: int = 0  # samples shed so far, as of this sample
    _shed_changed_at: float = float("-inf")  # kiosk clock, when the core last shed a sample

    def believable(self, ts: float, received_at: float, seq: int | None = None, shed: int = 0) -> bool:
        """Whether `ts` (a depth sample's with its `seq`, or an event's without) may be used; counts refusals.

        Depth samples are held to the kiosk's clock and to the believed stream; events to the clock only.
        `shed`: how many samples the core has shed so far (a flood): while it grows, the believed stream's
        silence proves nothing (its samples may be among those shed) and nothing takes it over.
        """
        self.just_restarted = False
        if shed != self._shed:
            self._shed, self._shed_changed_at = shed, received_at
        why = self._doubt(ts, received_at, seq)
        if why is None:
            return True
        if why:
            self.refused += 1
            self.last_refusal = why
        return False

    def settle(self, ts: float, received_at: float, seq: int | None = None) -> None:
        """A believed depth sample inside the travel: the stream's newest time, and the offset, follow it."""
        stream = self._stream
        if stream is None or ts >= stream.ts:
            if stream is not None:
                stream.ts, stream.at = ts, received_at
                stream.seq = max(stream.seq, seq) if seq is not None else stream.seq
            self.offset = ts - received_at

    def sensor_restarted(self) -> None:
        """The node said `ready` again: the next new stream believed is counted as its restart."""
        self._restart_expected = True

    def sensor_time(self, kiosk_now: float) -> float:
        return kiosk_now + self.offset

    def _doubt(self, ts: float, received_at: float, seq: int | None) -> str | None:
        """None: believable. A reason: refused. "": held back without blame (the first stream forming)."""
        self.holding = False
        skew = ts - received_at
        if abs(skew) > MAX_CLOCK_SKEW_S:
            return f"ts {ts:.3f} is {skew:+.0f} s from the kiosk's clock"
        if seq is None:
            # A lift-off event is held only to the kiosk's clock: refusing one because forged depth ran the
            # stream elsewhere would hide a real lift-off, its warning and the set's stop. A wrongly
            # accepted one errs the safe way (a warning, a shallower max depth).
            return None
        stream = self._stream
        if stream is None:
            self.holding = not self._candidate_believed(ts, seq, received_at, "first")
            return "" if self.holding else None
        misfit = _time_misfit(stream, ts, received_at)
        kind: NewStream = "clock"
        if misfit is None:
            misfit, kind = _seq_misfit(stream, ts, seq), "seq"
            if misfit is None:
                self._last_fit = received_at
                return None
        return None if self._candidate_believed(ts, seq, received_at, kind) else misfit

    def _candidate_believed(self, ts: float, seq: int, received_at: float, kind: NewStream) -> bool:
        """Follow the candidate stream with this sample; True once it is believed (it takes over).

        `first`: nothing was believed yet. `seq`: its time fits the believed stream but its `seq` does not
        (a node that rebooted quickly with its clock right): times stay comparable, so it takes over as
        soon as it is consistent. `clock`: its time does not fit: it takes over only once the believed
        stream is silent, and the cue engine is told that times before and after cannot be compared.
        """
        candidates = self._candidates
        candidate = next((c for c in candidates if 0 < ts - c.ts <= NEW_STREAM_GAP_S
                          and 0 < seq - c.seq <= SEQ_SLACK + SEQ_RATE_HZ * (ts - c.ts)), None)
        if candidate is not None:
            candidate.ts, candidate.seq, candidate.at, candidate.run = ts, seq, received_at, candidate.run + 1
        else:
            if len(candidates) >= CANDIDATES:
                candidates.remove(min(candidates, key=lambda c: (c.run, c.at)))
            candidate = _Stream(ts, seq, received_at)
            candidates.append(candidate)
        if kind == "first":
            self.held += 1
        silent = kind != "clock" or received_at - self._last_fit >= TAKEOVER_SILENCE_S
        # A flood (samples shed lately) may hide the believed stream: its silence proves nothing then.
        crowded = kind != "first" and received_at - self._shed_changed_at < TAKEOVER_SILENCE_S
        if candidate.run < NEW_STREAM_SAMPLES or not silent or crowded:
            return False
        self._stream, self._last_fit = candidate, received_at
        candidates.clear()
        self.offset = ts - received_at
        if kind != "first" or self._restart_expected:
            self.restarts += 1
            # The engine's own `seq` check takes a restart whose times compare; a clock that moved it is told.
            self.just_restarted = kind != "seq"
        self._restart_expected = False
        return True


def _time_misfit(stream: _Stream, ts: float, received_at: float) -> str | None:
    """Why a depth sample's `ts` is not of the believed stream, or None if it is."""
    behind = stream.ts - ts
    if behind > MAX_BEHIND_S:
        return f"ts {ts:.3f} is {behind:.1f} s behind the stream"
    if -behind > STEP_S + MAX_PACE * max(0.0, received_at - stream.at):
        return f"ts {ts:.3f} is {-behind:.1f} s ahead of the stream"
    return None


def _seq_misfit(stream: _Stream, ts: float, seq: int) -> str | None:
    """Why a depth sample's `seq` is not of the believed stream (its `ts` fits), or None if it is."""
    if seq < stream.seq - SEQ_BEHIND or seq > stream.seq + SEQ_SLACK + SEQ_RATE_HZ * max(0.0, ts - stream.ts):
        return f"seq {seq} is not the stream's (at {stream.seq})"
    return None
