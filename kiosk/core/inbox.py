"""The core's single thread: every input (MQTT message, scan, touch, clock tick) is queued
here and handled in order, so session, profile and cue state need no locks and the
network thread never waits on kiosk logic."""

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class Inbox:
    """A worker thread draining a queue of callables, with a periodic tick.

    `on_settled` runs after every job and tick (the kiosk renews the screen's
    snapshot there), so it sees the state each job left behind.
    """

    def __init__(self, on_tick: Callable[[float], None], tick_s: float = 0.1, name: str = "kiosk-core",
                 clock: Callable[[], float] = time.time, on_settled: Callable[[], None] | None = None) -> None:
        self._clock = clock
        self._queue: queue.Queue[Callable[[], object] | None] = queue.Queue(maxsize=10_000)
        self._on_tick = on_tick
        self._on_settled = on_settled
        self._tick_s = tick_s
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.errors = 0
        self.overflows = 0
        self.posted = 0  # jobs handed to the core thread, dropped ones included: what its inputs cost it

    def start(self) -> None:
        self._thread.start()

    def post(self, job: Callable[[], object]) -> None:
        self.posted += 1
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            # Dropping beats blocking the MQTT thread; the count shows up in diagnostics.
            self.overflows += 1

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
        self._queue.put(None)
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        next_tick = time.monotonic() + self._tick_s
        while True:
            try:
                job = self._queue.get(timeout=max(0.0, next_tick - time.monotonic()))
            except queue.Empty:
                pass
            else:
                if job is None:
                    return
                self._guarded(job)
            # Ticks run between jobs even under a flood of samples, so timeouts still fire.
            if time.monotonic() >= next_tick:
                next_tick = time.monotonic() + self._tick_s
                self._guarded(lambda: self._on_tick(self._clock()))

    def _guarded(self, job: Callable[[], object]) -> None:
        try:
            job()
            if self._on_settled is not None:
                self._on_settled()
        except Exception:
            self.errors += 1
            log.exception("core job failed")
