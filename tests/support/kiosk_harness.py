"""An in-process Kiosk core on a real broker, with everything it tells its screen recorded."""

from pathlib import Path
from typing import Any

from pydantic import BaseModel

from kiosk.codes.member_codes import new_signing_key
from kiosk.contract.events import Role
from kiosk.contract.kiosk import KioskStatus
from kiosk.core.kiosk import Kiosk
from kiosk.core.settings import KioskSettings, load_settings
from kiosk.core.snapshot import KioskSnapshot
from kiosk.core.unit import Clock
from kiosk.dev.broker import Broker, Collector, Recording
from kiosk.fleet.members import issue_code
from tests.support.helpers import eventually


class Screen(Recording[BaseModel]):
    """Records what the core shows, the way a UI observer would receive it."""

    def __init__(self) -> None:
        super().__init__("the screen")
        self.seen = self.items

    def __call__(self, model: BaseModel) -> None:
        self.add(model)


class Keyring:
    """An operator's signing key and the kiosk's trusted-keys folder made from it."""

    def __init__(self, root: Path, kid: str = "desk"):
        self.trusted = root / "trusted"
        self.private, public = new_signing_key(kid, root / "keys")
        self.trusted.mkdir(parents=True, exist_ok=True)
        (self.trusted / public.name).write_bytes(public.read_bytes())

    def code(self, member: str, name: str = "Sam", role: Role = "member", expires_at: float | None = None,
             now: float | None = None) -> str:
        return issue_code(self.private, member, name, role=role, expires_at=expires_at, now=now)


class KioskUnderTest(Kiosk):
    """A Kiosk as tests drive it: `keyring` mints codes it trusts, `screen` records what it shows."""

    def __init__(self, settings: KioskSettings, keyring: Keyring, clock: Clock | None = None) -> None:
        super().__init__(settings, clock=clock)
        self.keyring = keyring
        self.screen = Screen()
        self.observe(self.screen)

    def ticked(self) -> None:
        """Wait until the core thread has ticked at the kiosk clock's current time, so its timeouts are checked.

        Runs what the test posted before, then waits for the next snapshot: a tick takes one after its checks.
        For tests on a `FakeClock` with no sensor or operator traffic (a job would take a snapshot too).
        """
        at = self.clock.now()
        self.inbox.call(lambda: None)
        before = self.snapshot
        eventually(lambda: self.snapshot is not before and self.snapshot.taken_at >= at,
                   what=f"a core tick at kiosk time {at:.1f}")

    def fresh_snapshot(self) -> KioskSnapshot:
        """The screen's snapshot taken after everything the test saw happen: read this, not `snapshot`, after a change.

        The core renews its snapshot after a job at most once a frame (and on every tick), so `snapshot`
        read straight after a change (a session set, a reply or event received) may still be the one
        from before it. This runs what was posted before and waits for the next snapshot.
        """
        self.ticked()
        return self.snapshot


def make_kiosk(broker_url: str, data_dir: Path, keyring: Keyring, machine: str = "lp1", clock: Clock | None = None,
               **overrides: Any) -> tuple[KioskUnderTest, Screen]:
    """A kiosk for a test. Its repeat filter is off unless `tuning` sets `scan_repeat_s`: tests log a
    member out by scanning the same code again at once; the filter has tests of its own."""
    tuning = overrides.pop("tuning", {})
    assert isinstance(tuning, dict)
    overrides["tuning"] = {"scan_repeat_s": 0, **tuning}
    settings = load_settings(site="testgym", machine=machine, broker=broker_url, data_dir=data_dir,
                             trusted_keys=keyring.trusted, **overrides)
    kiosk = KioskUnderTest(settings, keyring, clock=clock)
    return kiosk, kiosk.screen


def wait_announced(broker: Broker, kiosk: Kiosk, timeout: float = 10.0) -> None:
    """Until the kiosk's retained `ready` is at the broker. `wait_connected` returns before presence has
    announced it (the link's hooks run on the core thread), and a client that subscribes then, such as the
    fleet CLI with its half second for retained statuses, would not find the kiosk at all."""
    status = Collector(broker, kiosk.topics.kiosk_status)
    try:
        status.wait_for(lambda m: bool(m.payload) and m.decode(KioskStatus).state == "ready", timeout)
    finally:
        status.close()
