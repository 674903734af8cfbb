"""The README's demo: a loopback broker, the simulated sensor node and the kiosk, together.

Everything runs from a throwaway folder (`.demo/`) so the demo never touches a
real kiosk's data. Ctrl-C stops all of it.
"""

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

from kiosk.devbroker import Broker

SITE, MACHINE = "demo", "lp1"


def _env(broker: Broker, work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGPRESS_")}
    env.update(
        LEGPRESS_SITE=SITE,
        LEGPRESS_MACHINE=MACHINE,
        LEGPRESS_BROKER=broker.url,
        LEGPRESS_DATA_DIR=str(work / "data"),
        PYTHONUNBUFFERED="1",
    )
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="demo", description=__doc__)
    parser.add_argument("--headless", action="store_true", help="no window: the kiosk logs what it would show")
    parser.add_argument("--work", default=".demo", help="folder for the demo's data")
    args = parser.parse_args(argv)
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    broker = Broker().start()
    print(f"demo: broker on {broker.url} (loopback only)")
    env = _env(broker, work)
    kiosk_cmd = [sys.executable, "-m", "kiosk.app"] + (["--headless"] if args.headless else [])
    procs = [subprocess.Popen(kiosk_cmd, env=env)]
    try:
        procs[0].wait()
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
