"""A real `legpress-fleet console serve` for tests, its staff, and a headless Chromium to drive it.

The console runs as its own process on a free loopback port; tests sign in with
real accounts (argon2 hashes in the console's own database) and drive the page
through Playwright, by the accessible names the spec fixes.
"""

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import requests

from kiosk.console.accounts import Accounts, Role
from kiosk.dev.broker import end_process, free_port
from tests.support.another_user import Reader
from tests.support.helpers import eventually

FLEET = Path(sys.executable).parent / "legpress-fleet"
PASSWORD = "correct horse battery staple"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


@dataclass
class ConsoleProcess:
    url: str
    db: Path
    proc: subprocess.Popen[bytes]
    log: Path
    staff: dict[str, Role] = field(default_factory=dict)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        end_process(self.proc)


def add_staff(db: Path, name: str, role: Role, password: str = PASSWORD) -> None:
    accounts = Accounts(db)
    try:
        accounts.add(name, role, password)
    finally:
        accounts.close()


def start_console(broker_url: str, root: Path, site: str = "testgym", *extra: str,
                  staff: dict[str, Role] | None = None, scheme: str = "http", host: str = "127.0.0.1",
                  verify: str | bool = True, as_user: Reader | None = None) -> ConsoleProcess:
    """`as_user`: the console runs as that user (its folder given to it), as the installed console runs as
    its own user; by default as whoever runs the tests."""
    root.mkdir(parents=True, exist_ok=True)
    db = root / "console.sqlite3"
    staff = {"desk1": "desk", "trainer1": "trainer", "ops1": "operator"} if staff is None else staff
    for name, role in staff.items():
        add_staff(db, name, role)
    port = free_port()
    log = root / "console.log"
    args = ["console", "serve", "--site", site, "--broker", broker_url, "--db", str(db), "--listen", f"{host}:{port}",
            *extra]
    argv, kwargs = [str(FLEET), *args], {}
    if as_user is not None:
        for path in (root, *root.iterdir()):
            os.chown(path, as_user.uid, as_user.gid)
        argv, kwargs = as_user.argv("kiosk.fleet.cli", *args), as_user.popen_kwargs()
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, **kwargs)
    console = ConsoleProcess(f"{scheme}://{host}:{port}", db, proc, log, staff)

    def answering() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"the console exited with {proc.returncode}: {console.output()}")
        try:
            return requests.get(f"{console.url}/login", timeout=1.0, verify=verify).status_code == 200
        except requests.RequestException:
            return False

    eventually(answering, timeout=20, what="the console answering")
    return console
