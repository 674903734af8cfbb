"""The core's single thread: every input (MQTT message, scan, touch, clock tick) is queued
here and handled in order, so session, profile and cue state need no locks and the
network thread never waits on kiosk logic.

Inputs come in three lanes, because they are not worth the same:

- `urgent`: the sensor's lift-off events, the safety signal. Taken before any other job
  and any sample that came after it; only the (bounded) samples queued before it run
  first, so no flood of depth can delay it by more than a few milliseconds.
- `jobs`: everything else people and operators send (scans, touches, commands, profile
  news). Bounded; what a full lane refuses is counted.
- `samples`: depth samples, context for the cues. A flood (a babbling node, or someone
  with the sensor's password) fills this lane first, and it sheds its oldest samples to
  keep the newest, counting what it shed. `jobs` and `samples` take turns, so neither
  starves the other.
"""

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Literal, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
Job = Callable[[], object]
Lane = Literal["urgent", "jobs", "samples"]

# People and operators never come near this; a flood of commands or scans is refused past it.
MAX_JOBS = 10_000
# Lift-offs come a few per set; a node (or a forger) sending thousands is refused past this bound.
MAX_URGENT = 1_000
# Depth samples waiting for the core: 4 s of a 100 Hz stream, a third of a second of a 12k/s flood.
# Past it the oldest are shed: the cues want the sled's newest position, not its history.
MAX_SAMPLES = 400
# Before a lift-off, the samples already queued when it came run first, so the cue engine places it at
# the depth the sled had then (in a normal set none or one are queued; a fast replay queues a few hundred).
# The lane's bound is what makes this safe: a flood's backlog costs a lift-off at most MAX_SAMPLES
# refused samples (about 10 ms), never the seconds a queue shared with the flood cost it.
CONTEXT_BEFORE_URGENT = MAX_SAMPLES
# The core takes depth samples at most this fast on average (five times the contract's fastest node), with
# this many in a burst (a replay, a test playing a trace fast). A flood past it waits in the lane and is
# shed there, on the MQTT thread, at the cost of a deque operation: the core's time, and with it the
# interpreter's lock that paho's thread needs to keep reading the socket, is not spent on junk.
SAMPLES_PER_S = 500.0
SAMPLES_BURST = 4_000.0


class Inbox:
    """A worker thread draining three lanes of callables (see the module docstring), with a periodic tick.

    `on_settled` runs after every job and tick (the kiosk renews the screen's
    snapshot there), so it sees the state each job left behind.
    """

    def __init__(self, on_tick: Callable[[float], None], tick_s: float = 0.1, name: str = "kiosk-core",
                 clock: Callable[[], float] = time.time, on_settled: Callable[[], None] | None = None) -> None:
        self._clock = clock
        self._ready = threading.Condition(threading.Lock())  # a plain lock: posted to thousands of times a second
        self._urgent: deque[tuple[int, Job]] = deque()  # (when posted, in `posted` order; the job)
        self._jobs: deque[Job] = deque()
        self._samples: deque[tuple[int, Job]] = deque()
        self._samples_turn = False  # jobs and samples take turns
        self._tokens, self._tokens_at = SAMPLES_BURST, time.monotonic()  # the samples' budget (see SAMPLES_PER_S)
        self._stopping = False
        self._on_tick = on_tick
        self._on_settled = on_settled
        self._tick_s = tick_s
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.errors = 0
        self.overflows = 0  # jobs and lift-offs refused because their lane was full
        self.shed = 0  # depth samples dropped unhandled to keep the newest (a flood)
        self.posted = 0  # jobs handed to the core thread, dropped ones included: what its inputs cost it

    def start(self) -> None:
        self._thread.start()

    def post(self, job: Job, lane: Lane = "jobs") -> None:
        """Queue `job` for the core thread; never blocks the caller (the MQTT thread must keep reading)."""
        with self._ready:
            self.posted += 1
            if lane == "samples":
                if len(self._samples) >= MAX_SAMPLES:
                    self._samples.popleft()
                    self.shed += 1
                self._samples.append((self.posted, job))
                if len(self._samples) > 1:
                    # The core is busy, or waits for its budget with a timeout of its own: waking it for every
                    # sample of a flood would hand it the interpreter's lock thousands of times a second.
                    return
            elif len(self._urgent) >= MAX_URGENT if lane == "urgent" else len(self._jobs) >= MAX_JOBS:
                # Dropping beats blocking the MQTT thread; the count shows up in diagnostics.
                self.overflows += 1
                return
            elif lane == "urgent":
                self._urgent.append((self.posted, job))
            else:
                self._jobs.append(job)
            self._ready.notify()

    def urgent_waiting(self) -> bool:
        """Whether a lift-off waits for the core: a long job (a replay) checks this and yields to it."""
        return bool(self._urgent)  # a deque's length, read without the lock: a stale answer is one job late

    def waiting(self) -> int:
        """Jobs queued now, in all lanes (for soak tests and diagnostics)."""
        with self._ready:
            return len(self._urgent) + len(self._jobs) + len(self._samples)

    def take_all(self) -> list[Job]:
        """Every queued job, removed, in the order the core thread would take them but off its budget: for a
        test that steps the core on its own thread instead of starting this one."""
        taken: list[Job] = []
        with self._ready:
            while batch := self._next(budget=False):
                taken += batch
        return taken

    def call(self, job: Callable[[], T], timeout: float = 5.0) -> T:
        """Run `job` on the core thread and wait for its result or its exception (for the UI and tests)."""
        future: Future[T] = Future()

        def run() -> None:
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(job())
                except Exception as exc:  # noqa: BLE001 - raised again in the caller's thread
                    future.set_exception(exc)

        self.post(run)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise TimeoutError("core thread did not answer") from None

    def stop(self, timeout: float = 5.0) -> None:
        with self._ready:
            self._stopping = True
            self._ready.notify()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _next(self, budget: bool = True) -> list[Job]:
        """What to run now (called holding the lock): a lift-off with its bounded context, else one job."""
        if self._urgent:
            posted, urgent = self._urgent.popleft()
            samples, context = self._samples, list[Job]()
            while samples and samples[0][0] < posted and len(context) < CONTEXT_BEFORE_URGENT:
                context.append(samples.popleft()[1])
            # The context counts against the budget, but never into debt: forty lift-offs during a flood (each
            # with a full lane before it) would otherwise owe 16,000 samples, and for half a minute after the
            # flood every real sample would be shed unread; the depth cues want the sled's position again at once.
            self._tokens = max(0.0, self._tokens - len(context))
            return [*context, urgent]
        now = time.monotonic()
        self._tokens = min(SAMPLES_BURST, self._tokens + (now - self._tokens_at) * SAMPLES_PER_S)
        self._tokens_at = now
        take_sample = self._samples and (self._tokens >= 1 or not budget) and (self._samples_turn or not self._jobs)
        self._samples_turn = not self._samples_turn
        if take_sample:
            self._tokens -= 1
            return [self._samples.popleft()[1]]
        return [self._jobs.popleft()] if self._jobs else []

    def _run(self) -> None:
        next_tick = time.monotonic() + self._tick_s
        while True:
            with self._ready:
                while True:
                    if self._stopping and not (self._urgent or self._jobs):
                        return  # what was posted before `stop` has run; samples are not worth waiting for
                    batch = self._next()
                    wait = next_tick - time.monotonic()
                    if batch or wait <= 0:
                        break
                    if self._samples:  # out of budget: until the next sample is due
                        wait = min(wait, (1 - self._tokens) / SAMPLES_PER_S)
                    self._ready.wait(wait)
            for job in batch:
                self._guarded(job)
            # Ticks run between jobs even under a flood of samples, so timeouts still fire.
            if time.monotonic() >= next_tick:
                next_tick = time.monotonic() + self._tick_s
                self._guarded(lambda: self._on_tick(self._clock()))

    def _guarded(self, job: Job) -> None:
        try:
            job()
            if self._on_settled is not None:
                self._on_settled()
        except Exception:
            self.errors += 1
            log.exception("core job failed")
