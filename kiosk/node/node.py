"""The node: samples the sled and the pads on a steady beat and says what it measured on `R/sensor/*`.

One thread, one loop: each beat reads the pads (a lift-off is an event at QoS 1, queued while the broker
is away), then the sled (a depth sample at QoS 0 with the next `seq` and the node's own timestamp). A sled
sensor that cannot give a true reading makes a `fault` in the retained status and no sample at all: a
kiosk then sees the stream stop and says so, which is safer than cues from a made-up depth.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from kiosk.contract.sensor import DepthSample, LiftoffEvent
from kiosk.mqtt.sensor_link import SensorLink
from kiosk.node.clock import NodeClock
from kiosk.node.faults import HardwareFault
from kiosk.node.pads import PadSensor

log = logging.getLogger(__name__)

# The measured rate (readings the sled sensor gave, sent or not) is counted over windows this long; the
# status says it again when it moves by more than RATE_CHANGE (a fraction) for RATE_WINDOWS windows
# running. Every new `ready` makes a kiosk ready for a restarted stream, so it is not said for every wobble.
RATE_WINDOW_S = 1.0
RATE_CHANGE = 0.1
RATE_WINDOWS = 3
# A faulted sensor is tried again this often.
RECOVER_EVERY_S = 1.0
# After a reconnect `ready` waits at most this long for the broker to acknowledge the held lift-offs.
HELD_EVENTS_WAIT_S = 2.0
# An unforeseen error in a beat is logged (with its traceback) at most this often.
ERROR_LOG_EVERY_S = 10.0


class SledSensor(Protocol):
    """Where the sled is, in mm of travel from full extension, from the node's own calibration."""

    def read(self) -> float | None:
        """The travel now, None when no new reading is ready this beat; `HardwareFault` when it cannot tell."""

    def recover(self) -> None:
        """Try to get going again after a fault; `HardwareFault` if still not."""

    def close(self) -> None: ...


@dataclass
class NodeStats:
    """What the node has done, for its log, the benchmark and the tests."""

    beats: int = 0
    samples: int = 0
    events: int = 0
    faults: int = 0
    errors: int = 0  # beats that raised something unforeseen
    late_beats: int = 0  # beats the loop skipped because it fell more than a beat behind (a stall)
    sample_ts: list[float] = field(default_factory=list)  # kept only when `keep_ts` is on (the benchmark)


class SensorNode:
    """The reference node: a sled sensor, the pads, and the link they are told through."""

    def __init__(self, sled: SledSensor, pads: list[PadSensor], link: SensorLink, rate_hz: float,
                 clock: NodeClock | None = None, mono: Callable[[], float] = time.monotonic) -> None:
        self.sled = sled
        self.pads = pads
        self.link = link
        self.rate_hz = rate_hz
        self.clock = clock or NodeClock()
        self.stats = NodeStats()
        self.keep_ts = False
        # What cannot be measured now, by part ("sled", "lumbar", "pelvis"): the status says all of it.
        self.faults: dict[str, str] = {}
        self.measured_hz = 0.0
        # Called once a window (about a second) from the loop: the service watchdog's proof of life.
        self.on_window: Callable[[], None] | None = None
        self._mono = mono
        self._depth_seq = 0
        self._event_seq = 0
        self._announced: tuple[float, str | None] | None = None  # (rate, fault) the status last said
        self._off_rate_windows = 0
        self._window_start: float | None = None  # the first beat opens the first window
        self._window_samples = 0
        self._next_try: dict[str, float] = {}  # when a faulted part is tried again
        self._last_error_logged = float("-inf")
        # Set by paho's thread on a (re)connect, acted on by the beats (see `_reconnected`).
        self._announce_due = threading.Event()
        self._reconnected_at: float | None = None
        link.on_connect(self._reconnected)

    def step(self, now: float) -> None:
        """One beat at monotonic time `now`: pads first (a lift-off never waits on the sled), then the sled."""
        self.stats.beats += 1
        if self._announce_due.is_set() and self._announced is not None:
            self._after_reconnect(now)
        for pad in self.pads:
            if not self._due(pad.zone, now):
                continue
            try:
                change = pad.poll(now)
            except HardwareFault as exc:
                # Nothing is known of this pad now, so nothing is said of it: the status carries the fault.
                self._failed(pad.zone, str(exc), now)
                continue
            self._set_fault(pad.zone, None)
            if change is not None:
                self._liftoff(change.zone, change.lifted, change.at)
        self._sample(now)
        if self._window_start is None:
            self._window_start = now
        elif now - self._window_start >= RATE_WINDOW_S:
            self._close_window(now, self._window_start)

    def run(self, stop: threading.Event) -> None:
        """Beat at `rate_hz` until `stop` is set; beats are kept on a fixed grid so the rate does not drift."""
        period = 1.0 / self.rate_hz
        due = self._mono()
        while not stop.is_set():
            try:
                self.step(self._mono())
            except Exception:
                # A part failing in a way nobody foresaw must not end the loop (and with it the pads'
                # lift-offs); a beat that keeps failing never closes a window, so the service watchdog
                # starves and systemd restarts the node.
                self.stats.errors += 1
                now = self._mono()
                if now - self._last_error_logged >= ERROR_LOG_EVERY_S:
                    self._last_error_logged = now
                    log.exception("a beat failed (%d so far)", self.stats.errors)
            due += period
            delay = due - self._mono()
            if delay < -period:
                # More than a beat behind (the Pi stalled): start a new grid rather than burst to catch up.
                self.stats.late_beats += 1
                due = self._mono()
            elif delay > 0 and stop.wait(delay):
                break

    def close(self) -> None:
        self.link.close(self.measured_hz)
        self.sled.close()
        for pad in self.pads:
            pad.close()

    def _liftoff(self, zone: str, lifted: bool, at: float) -> None:
        event = LiftoffEvent(seq=self._event_seq, ts=round(self.clock.ts(at), 4), type="liftoff",
                             zone="lumbar" if zone == "lumbar" else "pelvis", state="start" if lifted else "end")
        self._event_seq += 1
        self.stats.events += 1
        self.link.event(event)
        log.info("%s lift-off %s", zone, event.state)

    @property
    def fault(self) -> str | None:
        """Every fault now, in one line for the status; None when all is well."""
        return "; ".join(f"{part}: {why}" for part, why in sorted(self.faults.items())) or None

    def _due(self, part: str, now: float) -> bool:
        """A healthy part is read every beat; a faulted one once per RECOVER_EVERY_S."""
        return part not in self.faults or now >= self._next_try.get(part, 0.0)

    def _failed(self, part: str, why: str, now: float) -> None:
        self._next_try[part] = now + RECOVER_EVERY_S
        self._set_fault(part, why)

    def _sample(self, now: float) -> None:
        if not self._due("sled", now):
            return
        try:
            if "sled" in self.faults:
                self.sled.recover()
            mm = self.sled.read()
        except HardwareFault as exc:
            self._failed("sled", str(exc), now)
            return
        self._set_fault("sled", None)
        if mm is None:
            return
        self._window_samples += 1
        if self._announced is None:
            # The first window only measures: a kiosk takes `ready` followed by a `seq` near 0 as a
            # restarted node, so `ready` (with the rate it measured) must come before the first sample.
            return
        ts = self.clock.ts(now)
        self.link.depth(DepthSample(seq=self._depth_seq, ts=round(ts, 4), mm=round(mm, 1)))
        self._depth_seq += 1
        self.stats.samples += 1
        if self.keep_ts:
            self.stats.sample_ts.append(ts)

    def _set_fault(self, part: str, fault: str | None) -> None:
        was = self.faults.get(part)
        if fault == was:
            return
        if fault is None:
            del self.faults[part]
            log.warning("%s back (it was: %s)", part, was)
        else:
            self.stats.faults += was is None
            self.faults[part] = fault
            log.error("%s fault: %s", part, fault)
        self._announce()

    def _close_window(self, now: float, start: float) -> None:
        self.measured_hz = self._window_samples / (now - start)
        self._window_start, self._window_samples = now, 0
        self.clock.check()
        if self.on_window is not None:
            self.on_window()
        announced = self._announced
        if announced is None:
            self._announce()
            return
        off = abs(self.measured_hz - announced[0]) > RATE_CHANGE * max(announced[0], self.rate_hz)
        self._off_rate_windows = self._off_rate_windows + 1 if off and "sled" not in self.faults else 0
        if self._off_rate_windows >= RATE_WINDOWS:
            self._off_rate_windows = 0
            self._announce()

    def _announce(self) -> None:
        """Say `ready` with the measured rate and any fault (on the beat thread only)."""
        rate = 0.0 if "sled" in self.faults else self.measured_hz
        self._announced = (rate, self.fault)
        if self.link.connected:
            self.link.announce("ready", rate, self.fault)

    def _after_reconnect(self, now: float) -> None:
        """Say `ready` again once the broker has every lift-off held while it was away (or after a while)."""
        if self._reconnected_at is None:
            self._reconnected_at = now
        if self.link.events_pending() and now - self._reconnected_at < HELD_EVENTS_WAIT_S:
            return
        self._announce_due.clear()
        self._reconnected_at = None
        self._announce()

    def _reconnected(self) -> None:
        # The status must be said again (a restarted broker forgot it; a dropped link left the Will). Not
        # here but from the beats, once the broker has acknowledged the lift-offs paho held and resends
        # after this call: a kiosk that reads `ready` then a low `seq` starts the stream afresh and closes
        # the set, so the lift-offs made while away must reach it first. Before the first window there is
        # no rate yet; its end says it.
        self._announce_due.set()
