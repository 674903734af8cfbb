"""The README's demo: a loopback broker, the simulated sensor node, the kiosk and the front-desk console.

Everything lives in a throwaway folder (`.demo/`) so the demo never touches a
real kiosk's data: a signing key, the kiosk's trusted keys, a member card and
a staff card, and a folder the kiosk watches as its camera. Ctrl-C stops all.

`--secure` runs what a gym runs instead of the open loopback broker: an
inventory rendered into `.demo/secure/` by `legpress-fleet broker render`, the
site broker (TLS), the kiosk's own broker bridged to it over TLS, the
simulated sensor node on the kiosk broker's sensor listener with its own
login, and the kiosk app with its login, each from its `secrets/` file.

`--node-mock` replaces the simulator by the real sensor node (`kiosk/node/`) on gpiozero's mock pins,
with the scenarios' recorded motion played into the pins (`kiosk/dev/node_mock.py`): pins -> node ->
broker -> kiosk, on a laptop.
"""

import argparse
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from kiosk.codes.member_codes import new_signing_key
from kiosk.console.accounts import Accounts
from kiosk.contract.events import Role
from kiosk.dev.broker import Broker, RenderedBroker, free_port
from kiosk.fleet.broker.cli import report
from kiosk.fleet.broker.render import render
from kiosk.fleet.cards import write_cards
from kiosk.fleet.inventory import load_inventory
from kiosk.fleet.members import issue_code

SITE, MACHINE = "demo", "lp1"
MEMBER, MEMBER_NAME = "m_demo", "Alex"
STAFF, STAFF_NAME = "t_demo", "Robin"


def prepare(work: Path) -> dict[str, str]:
    """Keys, trusted keys and cards for the demo (made once, reused on later runs)."""
    keys, trusted, cards = work / "keys", work / "trusted_keys", work / "cards"
    private = keys / "demo.key"
    if not private.exists():
        _, public = new_signing_key("demo", keys)
        trusted.mkdir(parents=True, exist_ok=True)
        shutil.copy(public, trusted / public.name)
    codes: dict[str, str] = {}
    people: tuple[tuple[str, str, Role], ...] = ((MEMBER, MEMBER_NAME, "member"), (STAFF, STAFF_NAME, "staff"))
    for member, name, role in people:
        code = issue_code(private, member, name, role=role)
        write_cards(code, member, name, cards)
        codes[role] = code
    return codes


# The console's demo login: an operator (sees and does everything), its password made on the first run.
CONSOLE_USER = "demo"


def console_login(work: Path) -> tuple[Path, str]:
    """The console's database with the demo login in it, and that login's password."""
    folder = work / "console"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    db, kept = folder / "console.sqlite3", folder / "demo-password"
    if kept.exists():
        return db, kept.read_text().strip()
    password = secrets.token_urlsafe(12)
    accounts = Accounts(db)
    try:
        accounts.add(CONSOLE_USER, "operator", password)
    finally:
        accounts.close()
    kept.write_text(password + "\n")
    kept.chmod(0o600)
    return db, password


def _env(work: Path, camera_dir: Path, **broker: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGPRESS_")}
    env.update(
        LEGPRESS_SITE=SITE,
        LEGPRESS_MACHINE=MACHINE,
        **broker,
        LEGPRESS_DATA_DIR=str(work / "data"),
        LEGPRESS_TRUSTED_KEYS=str(work / "trusted_keys"),
        LEGPRESS_CAMERA=f"files:{camera_dir}",
        PYTHONUNBUFFERED="1",
    )
    return env


class SecureGym:
    """The demo's gym on the real topology: one site broker and one kiosk broker, rendered and started."""

    def __init__(self, work: Path):
        self.folder = work / "secure"
        self.out = self.folder / "render"
        self.brokers: list[RenderedBroker] = []

    def start(self) -> str:
        """Render (again: passwords are kept) on fresh free ports, start both brokers; returns the render report."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        tls, local, kiosk, sensor = (free_port() for _ in range(4))
        inventory = self.folder / "gym.toml"
        inventory.write_text(f"""# The demo gym: `legpress-fleet broker render` renders it into {self.out}.
[site]
id = "{SITE}"
broker_host = "localhost"
tls_port = {tls}
local_port = {local}

[[machines]]
id = "{MACHINE}"
model = "generic-45"
kiosk_local_port = {kiosk}
sensor_port = {sensor}

[[operators]]
name = "demo"
""")
        result = render(load_inventory(inventory), self.out, pwd.getpwuid(os.geteuid()).pw_name)
        for conf in (self.out / "site" / "mosquitto.conf", self.out / "kiosks" / MACHINE / "mosquitto.conf"):
            self.brokers.append(RenderedBroker(conf, log=conf.with_name("mosquitto.log")).start())
        return report(result)

    def secrets(self, user: str) -> str:
        return str(self.out / "secrets" / f"{user}.toml")

    def close(self) -> None:
        for broker in reversed(self.brokers):
            broker.stop()


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="demo", description=__doc__)
    parser.add_argument("--headless", action="store_true", help="no window: the kiosk logs what it would show")
    parser.add_argument("--scenario", default="good,fast-descent,good,too-deep,butt-wink",
                        help="simulator scenarios played in turn (good, butt-wink, too-deep, ...)")
    parser.add_argument("--work", default=".demo", help="folder for the demo's data (default: .demo)")
    parser.add_argument("--secure", action="store_true",
                        help="the real topology: rendered site and kiosk brokers, TLS bridge, logins for everyone")
    parser.add_argument("--node-mock", action="store_true",
                        help="the real sensor node on mock pins, playing the scenarios into them, not the simulator")
    args = parser.parse_args(argv)
    work = Path(args.work).resolve()
    camera_dir = work / "camera"
    camera_dir.mkdir(parents=True, exist_ok=True)
    codes = prepare(work)
    # SIGTERM stops the demo like Ctrl-C does, so the brokers it started stop with it.
    signal.signal(signal.SIGTERM, _interrupt)
    if args.secure:
        gym = SecureGym(work)
        closing = gym.close
        try:
            rendered = gym.start()
        except BaseException:
            gym.close()
            raise
        env = _env(work, camera_dir, LEGPRESS_BROKER_SECRETS=gym.secrets(f"kiosk-{MACHINE}"))
        sim_broker = ["--broker-secrets", gym.secrets(f"sensor-{MACHINE}")]
        console_broker = ["--broker-secrets", gym.secrets("console")]
        # The site certificate from the render (made for `localhost`): the console serves HTTPS like a gym's.
        certs = gym.out / "certs"
        console_tls = ["--tls-cert", str(certs / "site.crt"), "--tls-key", str(certs / "site.key")]
        console_host = "localhost"
        where = f"""{rendered}
demo: the kiosk logs in to its own broker as kiosk-{MACHINE}, the simulator to its sensor listener as
      sensor-{MACHINE}; the kiosk broker bridges to the site broker over TLS. Watch as an operator:
        .venv/bin/legpress-fleet watch --site {SITE} --broker-secrets {gym.secrets("op-demo")}"""
    else:
        broker = Broker().start()
        closing = broker.close
        env = _env(work, camera_dir, LEGPRESS_BROKER=broker.url)
        sim_broker = ["--broker", broker.url]
        console_broker, console_tls, console_host = ["--broker", broker.url], [], "127.0.0.1"
        where = f"demo: broker on {broker.url} (loopback only)"
    console_db, console_password = console_login(work)
    console_port = free_port()
    console_url = f"{'https' if console_tls else 'http'}://{console_host}:{console_port}/"
    scan_hint = ("paste a code here and press Enter to scan it" if args.headless
                 else "or type/paste a code into the kiosk window and press Enter")
    print(f"""
{where}
demo: data in {work}
demo: to scan a member, copy a card into the kiosk's camera folder:
        cp {work}/cards/{MEMBER}.png {camera_dir}/
      (or show {work}/cards/{MEMBER}.png to a webcam with LEGPRESS_CAMERA=opencv:0)
demo: member code ({MEMBER_NAME}): {codes['member']}
demo: staff code  ({STAFF_NAME}, opens maintenance): {codes['staff']}
demo: {scan_hint}
demo: front-desk console on {console_url}
      sign in as User "{CONSOLE_USER}", Password "{console_password}" (an operator)
""", flush=True)
    if args.node_mock:
        sim = [sys.executable, "-m", "kiosk.dev.node_mock", *sim_broker, "--site", SITE, "--machine", MACHINE,
               "--scenario", args.scenario]
    else:
        sim = [sys.executable, "-m", "kiosk.sim.cli", *sim_broker, "--site", SITE, "--machine", MACHINE,
               "--scenario", args.scenario, "--realtime", "--loop"]
    kiosk = [sys.executable, "-m", "kiosk.app"] + (["--headless"] if args.headless else [])
    console = [sys.executable, "-m", "kiosk.fleet.cli", "console", "serve", "--site", SITE, *console_broker,
               "--db", str(console_db), "--listen", f"{console_host}:{console_port}", *console_tls]
    procs = [subprocess.Popen(sim, env=env, stdin=subprocess.DEVNULL), subprocess.Popen(kiosk, env=env),
             subprocess.Popen(console, env=env, stdin=subprocess.DEVNULL)]
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        closing()
    return 0


if __name__ == "__main__":
    sys.exit(main())
