"""Sled travel from a draw-wire encoder: gpiozero's `RotaryEncoder` on two GPIO pins (lgpio on a Pi)."""

from typing import Any

from gpiozero import RotaryEncoder

from kiosk.node.faults import HardwareFault
from kiosk.node.settings import EncoderSled

# The node zeroes where the sled rests when it starts (on its catches, legs extended); a reading this far
# above that start cannot be the sled: the wire slipped off its drum or snapped back.
ABOVE_START_MM = 30.0


class EncoderSledSensor:
    """Counts quadrature cycles from start; millimetres from the node's calibration (counts per mm)."""

    def __init__(self, settings: EncoderSled, pin_factory: Any = None) -> None:
        self.settings = settings
        # max_steps=0: count without limit or wrap; gpiozero counts one step per full quadrature cycle.
        self._encoder = RotaryEncoder(settings.pin_a, settings.pin_b, max_steps=0, pin_factory=pin_factory)

    def read(self) -> float:
        steps = int(self._encoder.steps)
        if self.settings.reverse:
            steps = -steps
        mm = steps / self.settings.counts_per_mm
        if mm < -ABOVE_START_MM or mm > self.settings.travel_mm:
            raise HardwareFault(f"wire out of range: {mm:.0f} mm from the start position (believable: "
                                f"-{ABOVE_START_MM:.0f} to {self.settings.travel_mm:.0f})")
        return mm

    def recover(self) -> None:
        """Nothing to reopen: the count comes back in range by itself, or the node is restarted at rest."""

    def close(self) -> None:
        self._encoder.close()
