"""How long a kiosk takes from exec to `ready` on its broker, headless, beside a bare `import paho, pydantic`.

A kiosk restarted by its watchdog (or after a power cut) is blind until it is
`ready`: nothing counts lift-offs while it starts. Each run starts
`legpress-kiosk --headless` as a new process with a fresh data folder and times
exec -> its retained `ready` status arriving at a subscriber on the same
loopback broker. The baseline, in the same run, is the time to exec Python and
import paho-mqtt and pydantic, which every kiosk needs before it can say
anything. The table also lists the largest imports of `kiosk.app` from
`python -X importtime`.

    .venv/bin/python bench/bench_startup.py --write docs/benchmarks.md
"""

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from report import write_section

from kiosk.contract.base import decode
from kiosk.contract.kiosk import KioskStatus
from kiosk.contract.topics import MachineTopics
from kiosk.dev.broker import Broker

SECTION = "## Start-up"
SITE = "bench"


class ReadyWatch:
    """One subscriber for every run's status topic: records when each machine says `ready`."""

    def __init__(self, broker: Broker):
        self.ready_at: dict[str, float] = {}
        self._cond = threading.Condition()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
        self._client.on_message = self._on_message
        self._client.connect(broker.host, broker.port)
        self._client.subscribe(f"gym/v1/{SITE}/+/kiosk/status", qos=1)
        self._client.loop_start()

    def _on_message(self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        at = time.perf_counter()
        machine = message.topic.split("/")[3]
        try:
            status = decode(KioskStatus, message.payload)
        except Exception:  # noqa: BLE001 - a cleared or odd status is not a ready one
            return
        if status.state == "ready":
            with self._cond:
                self.ready_at.setdefault(machine, at)
                self._cond.notify_all()

    def wait(self, machine: str, timeout: float) -> float:
        with self._cond:
            if not self._cond.wait_for(lambda: machine in self.ready_at, timeout):
                raise TimeoutError(f"{machine} did not say ready within {timeout} s")
            return self.ready_at[machine]

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def kiosk_start(broker: Broker, watch: ReadyWatch, machine: str, folder: Path) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGPRESS_")}
    env.update(LEGPRESS_SITE=SITE, LEGPRESS_MACHINE=machine, LEGPRESS_BROKER=broker.url,
               LEGPRESS_DATA_DIR=str(folder / machine))
    assert MachineTopics(SITE, machine).kiosk_status == f"gym/v1/{SITE}/{machine}/kiosk/status"
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "kiosk.app", "--headless"], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return watch.wait(machine, timeout=60.0) - start
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def bare_import() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import paho.mqtt.client, pydantic"], check=True)
    return time.perf_counter() - start


def largest_imports(n: int) -> list[tuple[str, float]]:
    """The packages `kiosk.app` imports that cost the most (cumulative ms, each package's first import)."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import kiosk.app"], capture_output=True,
                         text=True, check=True).stderr
    rows = []
    for line in out.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        # Whole third-party packages (no dot) and the project's own sub-packages; not every leaf.
        if not m or m.group(3) in ("kiosk", "kiosk.app", "encodings", "site") or m.group(3).startswith("_"):
            continue
        if "." not in m.group(3) or m.group(3).count(".") == 1 and m.group(3).startswith("kiosk."):
            rows.append((m.group(3), int(m.group(1)) / 1000))
    return sorted(rows, key=lambda r: -r[1])[:n]


def render(kiosk: list[float], bare: list[float], imports: list[tuple[str, float]]) -> str:
    k, b = statistics.median(kiosk), statistics.median(bare)
    lines = [
        SECTION, "",
        f"`bench/bench_startup.py`, {len(kiosk)} runs each, {platform.machine()}, Python {platform.python_version()}, "
        "on a loopback mosquitto. Exec to the kiosk's retained `ready` status at a subscriber, headless, with a fresh "
        "data folder; the baseline is exec to exit of `python -c 'import paho.mqtt.client, pydantic'` in the same run.",
        "",
        "| measurement | median | min | max | ratio to baseline |",
        "|---|---|---|---|---|",
        f"| baseline: Python + paho + pydantic | {b:.2f} s | {min(bare):.2f} s | {max(bare):.2f} s | 1.00x |",
        f"| kiosk exec -> `ready` | {k:.2f} s | {min(kiosk):.2f} s | {max(kiosk):.2f} s | {k / b:.2f}x |",
        "",
        "Largest imports of `kiosk.app` (cumulative, `python -X importtime`, one run):",
        "",
        "| module | ms |",
        "|---|---|",
        *(f"| `{name}` | {ms:.0f} |" for name, ms in imports),
        "",
        "Pillow (with numpy) and zxing load with the camera's first frame, on its thread; "
        "matplotlib, psycopg and the recorder only in the tools that use them.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--write", type=Path, metavar="MD", help="update this markdown file's start-up section")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    broker = Broker().start()
    watch = ReadyWatch(broker)
    kiosk, bare = [], []
    try:
        bare_import()  # warm the file cache for both
        for i in range(args.runs):
            # Interleaved, so a busy moment of the machine weighs on both alike.
            bare.append(bare_import())
            kiosk.append(kiosk_start(broker, watch, f"lp{i + 1}", folder))
            print(f"run {i + 1}: kiosk {kiosk[-1]:.2f} s, bare {bare[-1]:.2f} s", flush=True)
    finally:
        watch.close()
        broker.close()
    section = render(kiosk, bare, largest_imports(10))
    print(section)
    if args.write:
        write_section(args.write, SECTION, section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
