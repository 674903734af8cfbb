"""Hands what the core says (on its own thread) to the Kivy thread, in order, within a frame."""

from collections import deque
from collections.abc import Callable

from kivy.clock import Clock
from pydantic import BaseModel


class CoreBridge:
    """The Kiosk observer: queues each model and wakes the Kivy clock to drain the queue.

    Called on the core thread; `deque.append` and scheduling a Clock trigger
    are thread-safe, and nothing here touches a widget. The trigger runs on
    the next Kivy frame, before that frame is drawn, so a cue raised by the
    core is on screen in the first frame after it.
    """

    def __init__(self, deliver: Callable[[BaseModel, float], None], clock: Callable[[], float]):
        self._deliver = deliver
        self._clock = clock
        self._queue: deque[tuple[BaseModel, float]] = deque()
        self._trigger = Clock.create_trigger(self._drain, 0)

    def __call__(self, model: BaseModel) -> None:
        self._queue.append((model, self._clock()))
        self._trigger()

    def _drain(self, _dt: float) -> None:
        while self._queue:
            model, received = self._queue.popleft()
            self._deliver(model, received)
