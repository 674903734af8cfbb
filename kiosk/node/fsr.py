"""Pads with force-sensitive resistors, read through an ADS1115 ADC on I2C (Adafruit's maintained driver).

As with the VL53L1X, the driver is imported only when a pad needs it, and tests hand in a fake bus at the
driver's boundary, so the driver's own register traffic is what they exercise.
"""

import importlib
from collections.abc import Callable
from typing import Any

from kiosk.node.faults import HardwareFault
from kiosk.node.pads import Debounce, PadChange, Zone
from kiosk.node.settings import PadFsr

# The fastest the ADS1115 converts: two pads read in about 3 ms, well inside a 100 Hz beat.
DATA_RATE_SPS = 860
# Gain 1: inputs up to 4.096 V, so a divider from 3.3 V never clips.
GAIN = 1


class Ads1115:
    """One ADS1115, shared by the pads wired to it; single-shot conversions, one input at a time."""

    def __init__(self, address: int, open_bus: Callable[[], Any]) -> None:
        self.address = address
        where = f"ADS1115 at I2C address {address:#04x}"
        try:
            driver = importlib.import_module("adafruit_ads1x15")
        except ImportError as exc:
            raise HardwareFault(f"no {where}: its driver is not installed ({exc.name})") from None
        try:
            bus = open_bus()
        except (ImportError, NotImplementedError, RuntimeError, OSError) as exc:
            raise HardwareFault(f"no {where}: no I2C bus on the header ({type(exc).__name__}: {exc})") from None
        try:
            self._ads = driver.ADS1115(bus, gain=GAIN, data_rate=DATA_RATE_SPS, address=address)
        except (OSError, ValueError, RuntimeError) as exc:
            raise HardwareFault(f"no {where}: {type(exc).__name__}: {exc}") from None
        self._inputs = {channel: driver.AnalogIn(self._ads, channel) for channel in range(4)}

    def volts(self, channel: int) -> float:
        try:
            return float(self._inputs[channel].voltage)
        except OSError as exc:
            raise HardwareFault(f"ADS1115 at {self.address:#04x} stopped answering: {exc}") from None


class FsrPad:
    """A pad's FSR: loaded at or above `pressed_v`, lifted at or below `released_v`, unchanged between."""

    def __init__(self, zone: Zone, settings: PadFsr, adc: Ads1115) -> None:
        self.zone = zone
        self.settings = settings
        self._adc = adc
        self._raw_lifted = self._level(adc.volts(settings.channel), lifted=True)
        self._debounce = Debounce(settings.debounce_ms / 1000.0, level=self._raw_lifted)

    def _level(self, volts: float, lifted: bool) -> bool:
        if volts >= self.settings.pressed_v:
            return False
        if volts <= self.settings.released_v:
            return True
        return lifted

    @property
    def raw_lifted(self) -> bool:
        return self._raw_lifted

    @property
    def lifted(self) -> bool:
        return self._debounce.level

    def poll(self, now: float) -> PadChange | None:
        """`HardwareFault` when the ADC does not answer: then nothing is known of the pad, and nothing is sent."""
        self._raw_lifted = self._level(self._adc.volts(self.settings.channel), self._raw_lifted)
        began = self._debounce.update(self._raw_lifted, now)
        return None if began is None else PadChange(self.zone, self._debounce.level, began)

    def close(self) -> None:
        """The ADC holds no pin and no thread: nothing to release."""
