"""The node's parts as a test drives them: an encoder's wire, pad switches that bounce (kiosk/dev/mock_parts.py,
shared with the demo), a member's motion played into them, and a VL53L1X on a fake bus.

Pins are gpiozero's mock pins (the node reads them through its real `RotaryEncoder` and `Button`); the
VL53L1X is a register map behind the bus methods Adafruit's driver calls, so the real driver runs.
"""

import errno
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from gpiozero.pins.mock import MockFactory

from kiosk.dev.mock_parts import EncoderWire, PadSwitchPin
from kiosk.sim.motion import SledPath

__all__ = ["EncoderWire", "FakeVl53l1xBus", "PadRule", "PadSwitchPin", "mock_pins", "play"]

@dataclass(frozen=True)
class PadRule:
    """The lumbar pad lifts as the sled passes `lifts_mm` going down and settles back above `back_mm`."""

    lifts_mm: float
    back_mm: float


def play(path: SledPath, wire: EncoderWire, step_s: float = 0.004, lumbar: PadSwitchPin | None = None,
         rule: PadRule | None = None, stop: threading.Event | None = None,
         on_step: Callable[[float, float], None] | None = None) -> None:
    """Move the wire (and the lumbar switch by `rule`) along `path` in real time, as the member would."""
    stop = stop or threading.Event()
    start, elapsed = time.monotonic(), 0.0
    while elapsed <= path.end - path.start and not stop.is_set():
        mm = path.at(path.start + elapsed)
        wire.move_to(mm)
        if lumbar is not None and rule is not None:
            if not lumbar.lifted and mm > rule.lifts_mm:
                lumbar.change(True)
            elif lumbar.lifted and mm < rule.back_mm:
                lumbar.change(False)
        if on_step is not None:
            on_step(elapsed, mm)
        # The member moves on a real clock because the node samples on one.
        stop.wait(step_s)
        elapsed = time.monotonic() - start
    wire.move_to(path.mm)


# Registers of the VL53L1X that Adafruit's driver reads (the rest it only writes).
MODEL_ID = 0x010F
GPIO_HV_MUX_CTRL = 0x0030
GPIO_TIO_HV_STATUS = 0x0031
PHASECAL_TIMEOUT = 0x004B
RANGE_STATUS = 0x0089
RANGE_MM = 0x0096
RANGE_VALID = 0x09


class FakeVl53l1xBus:
    """An I2C bus with one VL53L1X on it, at the driver's boundary: `try_lock`, `writeto`, `readfrom_into`.

    Writes of two bytes set the register pointer; longer writes store bytes from there on. A new range is
    ready each time the driver asks (as with a short timing budget); `distance_mm` is what it measures.
    `answering = False` makes every transfer fail as Linux reports a device that does not acknowledge.
    """

    def __init__(self, address: int = 0x29, distance_mm: float = 150.0):
        self.address = address
        self.distance_mm = distance_mm
        self.answering = True
        self.transfers = 0
        self._regs = bytearray(0x0200)
        self._regs[MODEL_ID:MODEL_ID + 3] = bytes([0xEA, 0xCC, 0x10])
        self._pointer = 0
        self._lock = threading.Lock()

    def try_lock(self) -> bool:
        return self._lock.acquire(blocking=False)

    def unlock(self) -> None:
        self._lock.release()

    def _check(self, address: int) -> None:
        self.transfers += 1
        if not self.answering or address != self.address:
            raise OSError(errno.EREMOTEIO, "Remote I/O error")

    def writeto(self, address: int, buffer: bytes, *, start: int = 0, end: int | None = None) -> None:
        self._check(address)
        data = bytes(buffer[start:end])
        if len(data) < 2:
            return  # the driver's probe: an empty write the device acknowledges
        self._pointer = struct.unpack(">H", data[:2])[0]
        payload = data[2:]
        self._regs[self._pointer:self._pointer + len(payload)] = payload

    def readfrom_into(self, address: int, buffer: bytearray, *, start: int = 0, end: int | None = None) -> None:
        self._check(address)
        end = len(buffer) if end is None else end
        self._refresh()
        for i in range(start, end):
            buffer[i] = self._regs[self._pointer + i - start]

    def _refresh(self) -> None:
        # Interrupt polarity bit 4 of GPIO_HV_MUX_CTRL clear: "ready" reads as bit 0 of the status set.
        self._regs[GPIO_TIO_HV_STATUS] = 0x01
        self._regs[RANGE_STATUS] = RANGE_VALID
        self._regs[RANGE_MM:RANGE_MM + 2] = struct.pack(">H", max(0, round(self.distance_mm)))


@contextmanager
def mock_pins() -> Iterator[MockFactory]:
    factory = MockFactory()
    try:
        yield factory
    finally:
        factory.close()


ADS_CONVERSION, ADS_CONFIG = 0x00, 0x01
ADS_OS = 0x8000  # config bit 15: write 1 to start a conversion; reads 1 when none is running
ADS_LSB_V = 4.096 / 32768  # gain 1


class FakeAds1115Bus:
    """An I2C bus with one ADS1115 on it, at the driver's boundary; `volts[channel]` is what each input sees.

    A config write with the OS bit converts the input its mux names at once (the conversion register then
    holds it, and the OS bit reads as done). `answering = False` fails every transfer as Linux does.
    """

    def __init__(self, address: int = 0x48, volts: dict[int, float] | None = None):
        self.address = address
        self.volts = dict.fromkeys(range(4), 0.0) | (volts or {})
        self.answering = True
        self.conversions = 0
        self._regs = {ADS_CONVERSION: 0, ADS_CONFIG: 0x8583, 0x02: 0x8000, 0x03: 0x7FFF}
        self._pointer = ADS_CONVERSION
        self._lock = threading.Lock()

    def try_lock(self) -> bool:
        return self._lock.acquire(blocking=False)

    def unlock(self) -> None:
        self._lock.release()

    def _check(self, address: int) -> None:
        if not self.answering or address != self.address:
            raise OSError(errno.EREMOTEIO, "Remote I/O error")

    def writeto(self, address: int, buffer: bytes, *, start: int = 0, end: int | None = None) -> None:
        self._check(address)
        self._write(bytes(buffer[start:end]))

    def readfrom_into(self, address: int, buffer: bytearray, *, start: int = 0, end: int | None = None) -> None:
        self._check(address)
        self._read(buffer, start, len(buffer) if end is None else end)

    def writeto_then_readfrom(self, address: int, out_buffer: bytes, in_buffer: bytearray, *, out_start: int = 0,
                              out_end: int | None = None, in_start: int = 0, in_end: int | None = None) -> None:
        self._check(address)
        self._write(bytes(out_buffer[out_start:out_end]))
        self._read(in_buffer, in_start, len(in_buffer) if in_end is None else in_end)

    def _write(self, data: bytes) -> None:
        if not data:
            return  # the driver's probe
        self._pointer = data[0]
        if len(data) >= 3:
            value = data[1] << 8 | data[2]
            if self._pointer == ADS_CONFIG and value & ADS_OS:
                mux = (value >> 12) & 0x07
                assert mux >= 4, "the node reads single-ended inputs"
                self._regs[ADS_CONVERSION] = max(0, min(0x7FFF, round(self.volts[mux - 4] / ADS_LSB_V)))
                self.conversions += 1
            self._regs[self._pointer] = value | ADS_OS if self._pointer == ADS_CONFIG else value

    def _read(self, buffer: bytearray, start: int, end: int) -> None:
        value = self._regs.get(self._pointer, 0)
        data = bytes([value >> 8, value & 0xFF])
        for i in range(start, end):
            buffer[i] = data[(i - start) % 2]
