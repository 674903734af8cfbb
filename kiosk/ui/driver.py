"""Runs the real kiosk window frame by frame from the caller's code: UI tests, screenshots, benchmarks.

`KioskApp.run()` owns the main loop until the window closes; a test needs to
act between frames instead. This prepares the app exactly as `run()` does
and then advances Kivy's own event loop one frame at a time, so every frame,
touch and clock event goes through the same code as on the kiosk.
"""

import itertools
import os
import time
from collections.abc import Callable

from kivy.base import EventLoop, runTouchApp
from kivy.core.window import Window
from kivy.input.motionevent import MotionEvent

from kiosk.ui.app import KioskApp

_touch_ids = itertools.count(1000)


class Finger(MotionEvent):
    """A touch on the screen at window coordinates, delivered like a touchscreen's."""

    def __init__(self, x: float, y: float):
        super().__init__("driver", next(_touch_ids), self._args(x, y), is_touch=True, type_id="touch")
        self.profile = ["pos"]

    @staticmethod
    def _args(x: float, y: float) -> dict[str, float]:
        return {"sx": x / max(1, Window.width - 1), "sy": y / max(1, Window.height - 1)}

    def depack(self, args: dict[str, float]) -> None:
        self.sx, self.sy = args["sx"], args["sy"]
        super().depack(args)


class AppDriver:
    """Starts a `KioskApp` in this thread and steps it; `stop()` closes it."""

    def __init__(self, app: KioskApp):
        self.app = app

    def start(self) -> "AppDriver":
        # The same preparation App.run() does, without entering its endless loop.
        self.app._run_prepare()
        runTouchApp(embedded=True)
        self.frames(3)
        return self

    def frames(self, n: int = 1) -> None:
        for _ in range(n):
            EventLoop.idle()

    def wait(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            EventLoop.idle()

    def until(self, predicate: Callable[[], object], timeout: float = 10.0, what: str = "") -> object:
        """Step frames until `predicate()` is truthy; AssertionError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what or predicate}; "
                                     f"screen is {self.app.manager.current!r}")
            EventLoop.idle()

    def tap(self, widget) -> None:
        """Press and release a finger on the middle of `widget`, one frame apart.

        Waits for a screen transition and the app's touch guard to end first:
        the screen ignores touches then, as it would under a real finger that
        waits to see the new screen.
        """
        self.until(lambda: not self.app.manager.transition.is_active, what="screen transition")
        self.until(lambda: time.time() >= self.app.touch_guard_until, what="touch guard")
        self.tap_at(*widget.to_window(*widget.center))

    def tap_at(self, x: float, y: float, held_s: float = 0.0) -> None:
        """A finger down at window coordinates (x, y) and up `held_s` later (at least a frame), at once."""
        finger = self.press(x, y)
        self.frames(1)
        if held_s:
            self.wait(held_s)
        self.release(finger)

    def press(self, x: float, y: float) -> Finger:
        finger = Finger(x, y)
        EventLoop.post_dispatch_input("begin", finger)
        return finger

    def release(self, finger: Finger) -> None:
        finger.move(Finger._args(finger.sx * max(1, Window.width - 1), finger.sy * max(1, Window.height - 1)))
        EventLoop.post_dispatch_input("end", finger)
        self.frames(2)

    def type_text(self, text: str, enter: bool = True) -> None:
        """What a keyboard-wedge scanner does: text input events, then Enter."""
        for char in text:
            Window.dispatch("on_textinput", char)
        if enter:
            Window.dispatch("on_key_down", 13, 36, "\r", [])
        self.frames(1)

    def set_size(self, width: int, height: int) -> None:
        Window.size = (width, height)
        self.frames(6)

    def screenshot(self, path: str) -> str:
        """The whole window as a PNG at `path`."""
        self.frames(2)
        # Kivy numbers its screenshots (name0001.png); keep the name asked for.
        os.replace(Window.screenshot(name=path), path)
        return path

    def stop(self) -> None:
        self.app.stop()
