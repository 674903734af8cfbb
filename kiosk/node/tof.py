"""Sled travel from a VL53L1X time-of-flight sensor on I2C, through Adafruit's maintained driver.

The driver (and Blinka's `board`/`busio` under it) is imported only when a node is built with this sensor,
so an encoder node, the tests and a laptop never need an I2C bus. Tests hand in a fake bus at the
driver's boundary (`try_lock`, `writeto`, `readfrom_into`): the real driver code runs against it.
"""

import importlib
import time
from collections.abc import Callable
from typing import Any

from kiosk.node.faults import HardwareFault
from kiosk.node.settings import TofSled

# Without a new range for this long the sensor has stopped answering (it ranges every 15-50 ms).
SILENT_S = 0.5
# A target beyond the two calibrated ends by more than this is not on the sled (something in the beam).
BEYOND_ENDS_MM = 40.0
SHORT_RANGE = 1  # the driver's distance mode 1: up to 1.3 m, the least ambient light trouble


def header_i2c_bus() -> Any:
    """The 40-pin header's I2C bus (GPIO 2 and 3) as Blinka opens it on a Pi."""
    board = importlib.import_module("board")
    busio = importlib.import_module("busio")
    return busio.I2C(board.SCL, board.SDA)


class TofSledSensor:
    """Travel = how far the target has moved from where it reads with legs extended, toward the bottom stop."""

    def __init__(self, settings: TofSled, open_bus: Callable[[], Any] = header_i2c_bus,
                 mono: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.last_distance_mm: float | None = None  # the sensor's own reading, for calibrating by hand
        self.invalid = 0  # ranges the sensor itself flagged as not valid (no target, too much ambient light)
        self._open_bus = open_bus
        self._mono = mono
        self._sensor: Any = None
        self._last_range = mono()
        self._direction = 1.0 if settings.bottom_mm > settings.extended_mm else -1.0

    def open(self) -> None:
        """Find the sensor and start it ranging; `HardwareFault` in one line if it is not there."""
        where = f"VL53L1X at I2C address {self.settings.address:#04x}"
        try:
            driver = importlib.import_module("adafruit_vl53l1x")
        except ImportError as exc:
            raise HardwareFault(f"no {where}: its driver is not installed ({exc.name})") from None
        try:
            bus = self._open_bus()
        except (ImportError, NotImplementedError, RuntimeError, OSError) as exc:
            # Blinka cannot tell this board (not a Pi) or the bus is switched off (raspi-config, I2C).
            raise HardwareFault(f"no {where}: no I2C bus on the header ({type(exc).__name__}: {exc})") from None
        try:
            sensor = driver.VL53L1X(bus, address=self.settings.address)
            sensor.distance_mode = SHORT_RANGE
            sensor.timing_budget = self.settings.timing_budget_ms
            sensor.start_ranging()
        except (OSError, ValueError, RuntimeError) as exc:
            # ValueError: nothing acknowledges the address; RuntimeError: another chip answers there.
            raise HardwareFault(f"no {where}: {type(exc).__name__}: {exc}") from None
        self._sensor = sensor
        self._last_range = self._mono()

    def read(self) -> float | None:
        """Travel in mm, or None while the next range is not ready; `HardwareFault` if the sensor is gone."""
        sensor = self._sensor
        if sensor is None:
            raise HardwareFault(f"VL53L1X at {self.settings.address:#04x} is not open")
        now = self._mono()
        try:
            if not sensor.data_ready:
                self._check_silence(now)
                return None
            cm = sensor.distance
            sensor.clear_interrupt()
        except OSError as exc:
            self._sensor = None
            raise HardwareFault(f"VL53L1X at {self.settings.address:#04x} stopped answering: {exc}") from None
        if cm is None:
            self.invalid += 1
            self._check_silence(now)
            return None
        self._last_range = now
        mm = self.last_distance_mm = float(cm) * 10.0
        s = self.settings
        travel = (mm - s.extended_mm) * self._direction
        span = abs(s.bottom_mm - s.extended_mm)
        if not -BEYOND_ENDS_MM <= travel <= span + BEYOND_ENDS_MM:
            raise HardwareFault(f"target out of range: the sensor reads {mm:.0f} mm, outside "
                                f"{s.extended_mm:.0f}-{s.bottom_mm:.0f} mm (is something in the beam?)")
        return travel

    def _check_silence(self, now: float) -> None:
        if now - self._last_range > SILENT_S:
            raise HardwareFault(f"VL53L1X at {self.settings.address:#04x} gave no valid range for "
                                f"{now - self._last_range:.1f} s")

    def recover(self) -> None:
        """Open the sensor again after it stopped answering (a loose wire put back, a brown-out over)."""
        if self._sensor is None:
            self.open()
        else:
            self._last_range = self._mono()

    def close(self) -> None:
        if self._sensor is not None:
            try:
                self._sensor.stop_ranging()
            except OSError:
                pass
            self._sensor = None
