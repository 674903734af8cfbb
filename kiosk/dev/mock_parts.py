"""A leg press's parts on gpiozero's mock pins, moved by a program: the draw-wire encoder and the pad switches.

What the demo's `--node-mock` plays a recorded motion into, and what the tests drive by hand.
"""

import time
from typing import Any

# A tape switch's contacts chatter for a few ms when they open or close: these gaps (s) between edges.
BOUNCE_GAPS_S = (0.0015, 0.002, 0.001, 0.003, 0.0025)


class EncoderWire:
    """A draw-wire encoder's A and B outputs: pulled out (the sled coming down) it turns clockwise."""

    def __init__(self, factory: Any, pin_a: int, pin_b: int, counts_per_mm: float):
        self.a, self.b = factory.pin(pin_a), factory.pin(pin_b)
        self.counts_per_mm = counts_per_mm
        self.steps = 0

    def move_to(self, mm: float) -> None:
        target = round(mm * self.counts_per_mm)
        while self.steps < target:
            self._cycle(self.a, self.b)
            self.steps += 1
        while self.steps > target:
            self._cycle(self.b, self.a)
            self.steps -= 1

    @staticmethod
    def _cycle(lead: Any, follow: Any) -> None:
        # One full quadrature cycle: the leading channel falls first and rises first.
        lead.drive_low()
        follow.drive_low()
        lead.drive_high()
        follow.drive_high()


class PadSwitchPin:
    """A pad's switch to ground (the node's pull-up reads it high while open): closed while someone rests on it."""

    def __init__(self, factory: Any, pin: int, pressed: bool = True):
        self.pin = factory.pin(pin)
        self.lifted = not pressed
        self.edges = 0
        self._set(pressed)

    def _set(self, pressed: bool) -> None:
        if pressed:
            self.pin.drive_low()
        else:
            self.pin.drive_high()
        self.edges += 1

    def change(self, lifted: bool, bounce: bool = True) -> None:
        """Open (lifted) or close the switch; with `bounce` the contacts chatter first, at their own pace."""
        if lifted == self.lifted:
            return
        self.lifted = lifted
        if bounce:
            level = lifted
            for gap in BOUNCE_GAPS_S:
                self._set(not level)
                level = not level
                _chatter(gap)
        self._set(not lifted)


def _chatter(seconds: float) -> None:
    # Contact chatter lasts milliseconds: spun out on the clock, as a sleep would be too coarse.
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        pass
