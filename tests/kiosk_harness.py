"""An in-process Kiosk core on a real broker, with everything it tells its screen recorded."""

import threading
import time
from pathlib import Path

from pydantic import BaseModel

from kiosk.core.kiosk import Kiosk
from kiosk.core.member_codes import new_signing_key
from kiosk.core.settings import load_settings
from kiosk.fleet.members import issue_code


class Screen:
    """Records what the core shows, the way a UI observer would receive it."""

    def __init__(self) -> None:
        self.seen: list[BaseModel] = []
        self._cond = threading.Condition()

    def __call__(self, model: BaseModel) -> None:
        with self._cond:
            self.seen.append(model)
            self._cond.notify_all()

    def wait_for(self, predicate, timeout: float = 10.0) -> BaseModel:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for model in self.seen:
                    if predicate(model):
                        return model
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"screen never showed it; last: {self.seen[-5:]}")
                self._cond.wait(left)

    def of_type(self, type_name: str) -> list[BaseModel]:
        with self._cond:
            return [m for m in self.seen if getattr(m, "type", None) == type_name]


class Keyring:
    """An operator's signing key and the kiosk's trusted-keys folder made from it."""

    def __init__(self, root: Path, kid: str = "desk"):
        self.trusted = root / "trusted"
        self.private, public = new_signing_key(kid, root / "keys")
        self.trusted.mkdir(parents=True, exist_ok=True)
        (self.trusted / public.name).write_bytes(public.read_bytes())

    def code(self, member: str, name: str = "Sam", role: str = "member", **kw) -> str:
        return issue_code(self.private, member, name, role=role, **kw)


def make_kiosk(broker_url: str, data_dir: Path, keyring: Keyring, machine: str = "lp1", **overrides) -> tuple[Kiosk, Screen]:
    settings = load_settings(site="testgym", machine=machine, broker=broker_url, data_dir=data_dir,
                             trusted_keys=keyring.trusted, **overrides)
    kiosk = Kiosk(settings)
    screen = Screen()
    kiosk.observe(screen)
    return kiosk, screen
