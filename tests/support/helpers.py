"""What tests wait with: `eventually` for something another thread does, `FakeClock` for kiosk time."""

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from kiosk.core.unit import Clock

T = TypeVar("T")


def eventually(condition: Callable[[], T], timeout: float = 10.0, what: str = "the condition") -> T:
    """Poll `condition` until it returns something truthy and return that; fail naming `what` after `timeout` s.

    For state another thread changes (the core thread, the camera thread, the broker). Messages have
    `Collector.wait_for`, which waits on arrival instead of polling.
    """
    deadline, pause = time.monotonic() + timeout, 0.001
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not so within {timeout} s")
        time.sleep(pause)
        pause = min(pause * 2, 0.02)  # quick for what is nearly there, without spinning on what takes a while


class FakeClock(Clock):
    """A kiosk clock that moves only when the test says: `advance(seconds)`.

    Starts at the real time, because the kiosk's timestamps go out in contract
    models whose `Timestamp` is bounded, and member codes are checked against it.
    The core thread still ticks every 0.1 s of real time and reads this clock.
    """

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start
        self._lock = threading.Lock()
        super().__init__(now=self._read)

    def _read(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move the clock on by `seconds`; returns the new time."""
        with self._lock:
            self._now += seconds
            return self._now
