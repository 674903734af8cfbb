"""The README's demo: a loopback broker, the simulated sensor node and the kiosk, together.

Everything lives in a throwaway folder (`.demo/`) so the demo never touches a
real kiosk's data: a signing key, the kiosk's trusted keys, a member card and
a staff card, and a folder the kiosk watches as its camera. Ctrl-C stops all.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from kiosk.contract.events import Role
from kiosk.core.member_codes import new_signing_key
from kiosk.devbroker import Broker
from kiosk.fleet.cards import write_cards
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


def _env(broker: Broker, work: Path, camera_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGPRESS_")}
    env.update(
        LEGPRESS_SITE=SITE,
        LEGPRESS_MACHINE=MACHINE,
        LEGPRESS_BROKER=broker.url,
        LEGPRESS_DATA_DIR=str(work / "data"),
        LEGPRESS_TRUSTED_KEYS=str(work / "trusted_keys"),
        LEGPRESS_CAMERA=f"files:{camera_dir}",
        PYTHONUNBUFFERED="1",
    )
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="demo", description=__doc__)
    parser.add_argument("--headless", action="store_true", help="no window: the kiosk logs what it would show")
    parser.add_argument("--scenario", default="good,fast-descent,good,too-deep,butt-wink",
                        help="simulator scenarios played in turn (good, butt-wink, too-deep, ...)")
    parser.add_argument("--work", default=".demo", help="folder for the demo's data (default: .demo)")
    args = parser.parse_args(argv)
    work = Path(args.work).resolve()
    camera_dir = work / "camera"
    camera_dir.mkdir(parents=True, exist_ok=True)
    codes = prepare(work)
    broker = Broker().start()
    env = _env(broker, work, camera_dir)
    scan_hint = ("paste a code here and press Enter to scan it" if args.headless
                 else "or type/paste a code into the kiosk window and press Enter")
    print(f"""
demo: broker on {broker.url} (loopback only), data in {work}
demo: to scan a member, copy a card into the kiosk's camera folder:
        cp {work}/cards/{MEMBER}.png {camera_dir}/
      (or show {work}/cards/{MEMBER}.png to a webcam with LEGPRESS_CAMERA=opencv:0)
demo: member code ({MEMBER_NAME}): {codes['member']}
demo: staff code  ({STAFF_NAME}, opens maintenance): {codes['staff']}
demo: {scan_hint}
""", flush=True)
    sim = [sys.executable, "-m", "kiosk.sim.cli", "--broker", broker.url, "--site", SITE, "--machine", MACHINE,
           "--scenario", args.scenario, "--realtime", "--loop"]
    kiosk = [sys.executable, "-m", "kiosk.app"] + (["--headless"] if args.headless else [])
    procs = [subprocess.Popen(sim, env=env, stdin=subprocess.DEVNULL), subprocess.Popen(kiosk, env=env)]
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
        broker.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
