"""An in-process Kiosk core on a real broker, with everything it tells its screen recorded."""

from pathlib import Path

from pydantic import BaseModel

from kiosk.core.kiosk import Kiosk
from kiosk.core.member_codes import new_signing_key
from kiosk.core.settings import load_settings
from kiosk.devbroker import Recording
from kiosk.fleet.members import issue_code


class Screen(Recording):
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

    def code(self, member: str, name: str = "Sam", role: str = "member", **kw) -> str:
        return issue_code(self.private, member, name, role=role, **kw)


def make_kiosk(broker_url: str, data_dir: Path, keyring: Keyring, machine: str = "lp1",
               **overrides: object) -> tuple[Kiosk, Screen]:
    """A kiosk for a test. Its repeat filter is off unless `tuning` sets `scan_repeat_s`: tests log a
    member out by scanning the same code again at once; the filter has tests of its own."""
    tuning = overrides.pop("tuning", {})
    assert isinstance(tuning, dict)
    overrides["tuning"] = {"scan_repeat_s": 0, **tuning}
    settings = load_settings(site="testgym", machine=machine, broker=broker_url, data_dir=data_dir,
                             trusted_keys=keyring.trusted, **overrides)
    kiosk = Kiosk(settings)
    screen = Screen()
    kiosk.observe(screen)
    return kiosk, screen
