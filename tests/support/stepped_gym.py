"""A member at a stepped kiosk (`SteppedKiosk`: fake clock, no broker) and a sensor node that moves the sled
and the pads: what the core tests of one session share.

Every profile save the kiosk makes is kept in `saved` (the settings only), every event in `events` and every
line the headless screen would say in `lines`.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from kiosk.contract.events import CueRaised
from kiosk.contract.profile import MachineSettings
from kiosk.contract.sensor import DepthSample, LiftoffEvent, LiftoffZone, SensorStatus
from kiosk.core.text_presenter import TextPresenter
from tests.support.helpers import FakeClock
from tests.support.kiosk_harness import Keyring
from tests.support.stepped_kiosk import SteppedKiosk

G = TypeVar("G", bound="SteppedGym")

T0 = 1_764_000_000.0
SAMPLE_S = 0.04  # a 25 Hz node
REST_MM = 30.0


class SteppedGym:
    def __init__(self, root: Path, member: str, name: str, tick: bool = True, **tuning: Any) -> None:
        """`member` scans in with the sled resting at REST_MM; `tick`: the core's clock job runs after every
        sample (the guided setup and the set's end need it; a test of one input at a time may not); `tuning`:
        the kiosk's config as its settings file would set it."""
        self.clock = FakeClock(T0)
        self.keyring = Keyring(root)
        self.kiosk = SteppedKiosk(root / "data", self.keyring, self.clock, **tuning)
        self.kiosk.start()
        self._tick = tick
        self.lines: list[str] = []
        self.kiosk.observe(TextPresenter(self.lines.append, load_unit=lambda: self.kiosk.config.load_unit))
        self.events: list[object] = []
        self.kiosk.observe(self.events.append)
        self.saved: list[MachineSettings] = []
        save = self.kiosk.profiles.save

        def saving(member: str, name: str, settings: MachineSettings, language: str | None = None) -> None:
            self.saved.append(settings)
            save(member, name, settings, language)
        self.kiosk.profiles.save = saving  # type: ignore[method-assign]
        self.seq = self.event_seq = 0
        self.mm = REST_MM
        self.kiosk.deliver(self.kiosk.topics.sensor_status, SensorStatus(state="ready", ts=T0, fw="1.0"))
        self.sample(self.mm)
        self.kiosk.scan(self.keyring.code(member, name, now=T0))
        self.kiosk.run()

    def sample(self, mm: float) -> None:
        self.clock.advance(SAMPLE_S)
        self.mm = mm
        self.kiosk.deliver(self.kiosk.topics.sensor_depth, DepthSample(seq=self.seq, ts=self.clock.now(), mm=mm))
        self.seq += 1
        if self._tick:
            self.kiosk.tick()

    def move(self, to_mm: float, seconds: float) -> None:
        start, steps = self.mm, round(seconds / SAMPLE_S)
        for i in range(1, steps + 1):
            self.sample(start + (to_mm - start) * i / steps)

    def hold(self, seconds: float) -> None:
        self.move(self.mm, seconds)

    def pad(self, zone: LiftoffZone, state: str) -> None:
        event = LiftoffEvent(seq=self.event_seq, ts=self.clock.now(), type="liftoff", zone=zone,
                             state=state)  # type: ignore[arg-type]
        self.event_seq += 1
        self.kiosk.deliver(self.kiosk.topics.sensor_event, event)

    def cues(self) -> list[tuple[str, str]]:
        return [(e.cue, e.severity) for e in self.events if isinstance(e, CueRaised)]


@contextmanager
def gym_in(make: Callable[[Path], G], root: Path) -> Iterator[G]:
    """The gym `make` builds under `root`, its kiosk stopped afterwards whatever the test did (the fixture of
    every core test of one session)."""
    gym = make(root)
    try:
        yield gym
    finally:
        gym.kiosk.stop()
