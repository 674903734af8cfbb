"""Lift-off -> cue at the kiosk's own broker while the sensor login floods depth, on a rendered kiosk broker.

The attack of issue 20 as it happens on a Pi: a real `legpress-kiosk --headless` process on its rendered
kiosk broker (loopback listener, its own login), a member in session, and the machine's sensor login on the
sensor listener playing a set in real time with two lumbar lift-offs while, beside it, flooding depth
stamped 30 s old (tests/support/babbling_node.py). The times are taken at the kiosk's broker by one
collector logged in beside the kiosk: the lift-off as the broker hands it on, the warn and the stop as the
kiosk publishes them. Each flood rate is run beside the same set without a flood, in the same run, so the
table reads as ratios; the rate the flood reached is the node's own count over its time, and what reached
the kiosk is its `received` plus `shed` (diagnostics).

    .venv/bin/python bench/bench_sensor_flood.py --rates 3000 12000 24000 48000 --write docs/benchmarks.md
"""

import argparse
import os
import platform
import re
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from report import write_section  # noqa: E402

from tests.support.broker_gym import Gym  # noqa: E402
from tests.support.set_at_kiosk import diagnostics, kiosk_in_session, liftoff_to_cue, play  # noqa: E402

MACHINE = "lp-1"
HEADING = "## Lift-off -> cue under a sensor-login depth flood, on a rendered kiosk broker"
NOTE = ("Reading it: one connection carries the node's depth and its lift-offs, and MQTT keeps their order, "
        "so a lift-off sent behind a flood waits for every depth sample the broker queued for the kiosk "
        "before it. Since the flood gate (kiosk/mqtt/link.py `FloodGate`: past 1,000 depth samples in a "
        "second the kiosk unsubscribes the depth topic for 2 s, and the broker stops queueing it), that "
        "queue stays at about a second's worth, however fast the flood: the lift-off waits for what the "
        "broker had already sent, not for the whole flood. 'shed' counts the samples the core's lane and the "
        "gate dropped, 'pauses' how often the gate closed (`sensor.shed`, `sensor.flood_pauses` in telemetry). "
        "Before the gate, the run of 2026-12-05 had no cue within 15 s at 24,000/s.")


def one_set(gym: Gym, folder: Path, rate: int) -> dict:
    """One set at a fresh kiosk process, flooded at `rate` a second (0: no flood)."""
    folder.mkdir()
    with kiosk_in_session(gym, MACHINE, folder) as collector:
        said = play(gym, MACHINE, "flood" if rate else "none", rate=max(rate, 1))
        try:
            cues: dict[str, float | None] = dict(liftoff_to_cue(collector))
        except AssertionError as exc:  # a warn or a stop that never came (in 15 s): the finding, not a crash
            print(f"flood {rate}/s: {str(exc)[:300]}", file=sys.stderr)
            cues = {"warn": None, "stop": None}
        try:
            sensor = diagnostics(gym, MACHINE, transaction=f"bench-{rate}")["telemetry"]["sensor"]
        except AssertionError:  # the kiosk still reading the flood's backlog: its commands wait behind it too
            sensor = None
    reached = re.search(r"\((\d+)/s for ([\d.]+) s\)", said)
    return {"rate": rate, "flood_per_s": int(reached.group(1)) if reached else 0,
            "flood_s": float(reached.group(2)) if reached else 0.0, "warn_ms": _ms(cues["warn"]),
            "stop_ms": _ms(cues["stop"]),
            "at_kiosk": "no diagnostics in 15 s" if sensor is None else sensor["received"] + sensor["shed"],
            "shed": "-" if sensor is None else sensor["shed"],
            "pauses": "-" if sensor is None else sensor["flood_pauses"]}


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def _cell(ms: float | None) -> str:
    if ms is None:
        return "none in 15 s"
    # The broker itself saturated: it handed the observer the lift-off after the kiosk's cue for it.
    return "n/a (broker saturated)" if ms < 0 else f"{ms:.1f}"


def _ratio(ms: float | None, quiet: float | None) -> str:
    return "-" if ms is None or quiet is None or ms < 0 else f"{ms / max(quiet, 0.1):.1f}x"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", type=int, nargs="+", default=[3000, 12000, 24000, 48000])
    parser.add_argument("--write", type=Path, help="put the results in this markdown file (its own section)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        gym = Gym(Path(tmp), machines=(MACHINE,))
        try:
            assert gym.render() == 0
            gym.add_observer(MACHINE)
            gym.start("site")
            gym.start(MACHINE)
            for n, rate in enumerate([0, *args.rates]):
                rows.append(one_set(gym, Path(tmp) / f"set-{n}", rate))
        finally:
            gym.close()
    quiet = rows[0]
    lines = [HEADING, "",
             f"`bench/bench_sensor_flood.py`, {platform.machine()}, Python {platform.python_version()}, "
             f"{os.cpu_count()} cores shared with other work (load {os.getloadavg()[0]:.1f} at the end). One set "
             "per row, each at a fresh kiosk process; times at the kiosk's broker.", "",
             "| flood asked (/s) | flood reached (/s) | reached the kiosk (received + shed) | shed | pauses | "
             "warn after lift-off (ms) | stop after lift-off (ms) | warn, stop vs no flood |",
             "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        ratio = (f"{_ratio(row['warn_ms'], quiet['warn_ms'])}, {_ratio(row['stop_ms'], quiet['stop_ms'])}"
                 if row["rate"] else "1x")
        lines.append(f"| {row['rate'] or 'none'} | {row['flood_per_s'] or '-'} | {row['at_kiosk']} | {row['shed']} | "
                     f"{row['pauses']} | "
                     f"{_cell(row['warn_ms'])} | {_cell(row['stop_ms'])} | {ratio} |")
    lines += ["", NOTE]
    section = "\n".join(lines) + "\n"
    print(section)
    if args.write:
        write_section(args.write, HEADING, section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
