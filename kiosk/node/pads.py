"""The lumbar pad and the seat: a switch under each, read as a gpiozero `Button`, debounced into lift-offs."""

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from gpiozero import Button

from kiosk.node.settings import PadSwitch

Zone = Literal["lumbar", "pelvis"]


@dataclass
class Debounce:
    """A level counts once it has held for `hold_s`; the change is dated from its first edge.

    gpiozero's own `bounce_time` drops edges that come too soon after the last one, so the last edge of a
    bounce can be the one dropped and the pad then reads wrong until it moves again; holding for a time
    instead always settles on the level the contacts come to rest at. The first edge is when the back
    really left the pad, so that is the lift-off's time; a departure that comes back and stays back for
    `hold_s` was a blip and is forgotten.
    """

    hold_s: float
    level: bool = False
    _first: float | None = None  # first edge away from `level` in the current attempt
    _since: float | None = None  # start of the current run at the new level
    _back: float | None = None  # start of the current run back at `level`, during an attempt

    def update(self, raw: bool, now: float) -> float | None:
        """Feed the raw level at `now`; returns when the change began once it has held, else None."""
        if raw == self.level:
            self._since = None
            if self._first is not None:
                if self._back is None:
                    self._back = now
                elif now - self._back >= self.hold_s:
                    self._first = self._back = None
            return None
        self._back = None
        if self._first is None:
            self._first = now
        if self._since is None:
            self._since = now
        if now - self._since < self.hold_s:
            return None
        began, self.level = self._first, raw
        self._first = self._since = None
        return began


@dataclass(frozen=True)
class PadChange:
    zone: Zone
    lifted: bool
    at: float  # monotonic time the contacts began to change


class PadSensor(Protocol):
    """What the node asks of a pad, switch or FSR: poll it each beat; a change once it has settled."""

    zone: Zone

    @property
    def raw_lifted(self) -> bool: ...

    @property
    def lifted(self) -> bool: ...

    def poll(self, now: float) -> "PadChange | None": ...

    def close(self) -> None: ...


class SwitchPad:
    """One pad's switch: closed to ground while the member rests on it, so open means lifted off."""

    def __init__(self, zone: Zone, settings: PadSwitch, pin_factory: Any = None) -> None:
        if settings.pin is None:
            raise ValueError(f"the {zone} pad has no pin")
        self.zone = zone
        # bounce_time=None: `Debounce` does it (see there); the pull-up holds the line high while open.
        self._button = Button(settings.pin, pull_up=True, bounce_time=None, pin_factory=pin_factory)
        self._debounce = Debounce(settings.debounce_ms / 1000.0, level=self.raw_lifted)

    @property
    def raw_lifted(self) -> bool:
        return not self._button.is_pressed

    @property
    def lifted(self) -> bool:
        return self._debounce.level

    def poll(self, now: float) -> PadChange | None:
        began = self._debounce.update(self.raw_lifted, now)
        return None if began is None else PadChange(self.zone, self._debounce.level, began)

    def close(self) -> None:
        self._button.close()
