"""The sensor node's sampling on this machine: achieved rate and timestamp jitter at 50 and 100 Hz.

The real node (`kiosk.node`: its beat loop, gpiozero's `RotaryEncoder` and `Button`s on mock pins, the
debounce, the contract models, the paho link) publishes to a loopback mosquitto while a thread turns the
encoder as a member lowers and pushes the sled, so the pin callbacks compete with the loop as GPIO
interrupts would on a Pi. Jitter is how far each interval between two samples' timestamps is from the
period. The baseline, in the same run, is a bare loop on the same fixed beat grid that only reads the
clock: what the interpreter and the scheduler allow before the node does anything. Baseline and node
alternate over several rounds and each figure is the median over the rounds, so another program's burst
on a shared machine spoils one round, not the result.

    .venv/bin/python bench/bench_node.py --write docs/benchmarks.md
"""

import argparse
import math
import os
import platform
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from gpiozero.pins.mock import MockFactory
from report import write_section

from kiosk.dev.broker import Broker
from kiosk.node.parts import build_node
from kiosk.node.settings import load_node_settings

SECTION = "## Sensor node sampling"
COUNTS_PER_MM = 2.0


@dataclass
class Run:
    what: str
    rate_hz: float
    stamps: list[float]
    late: int = 0

    @property
    def achieved_hz(self) -> float:
        return (len(self.stamps) - 1) / (self.stamps[-1] - self.stamps[0])

    def jitter_ms(self) -> list[float]:
        period = 1.0 / self.rate_hz
        return sorted(abs((b - a) - period) * 1000 for a, b in zip(self.stamps, self.stamps[1:], strict=False))


def percentile(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, math.ceil(p / 100 * len(values)) - 1)]


def bare_loop(rate_hz: float, seconds: float) -> Run:
    """The node's beat grid with nothing in the beat but reading the clock."""
    stop, stamps, late = threading.Event(), [], 0
    period = 1.0 / rate_hz
    due = end = time.monotonic()
    end += seconds
    while True:
        now = time.monotonic()
        if now >= end:
            break
        stamps.append(now)
        due += period
        delay = due - time.monotonic()
        if delay < -period:
            late += 1
            due = time.monotonic()
        elif delay > 0:
            stop.wait(delay)
    return Run("bare loop reading the clock", rate_hz, stamps, late)


def turn_encoder(pins: MockFactory, stop: threading.Event) -> None:
    """A member's reps on the draw-wire: 60 -> 250 -> 60 mm every 4 s, in 5 ms moves."""
    a, b = pins.pin(23), pins.pin(24)
    steps, start = 0, time.monotonic()
    while not stop.wait(0.005):
        t = (time.monotonic() - start) % 4.0
        mm = 60 + 190 * (1 - math.cos(math.pi * t / 2.0)) / 2
        target = round(mm * COUNTS_PER_MM)
        while steps != target:
            lead, follow = (a, b) if steps < target else (b, a)
            lead.drive_low()
            follow.drive_low()
            lead.drive_high()
            follow.drive_high()
            steps += 1 if steps < target else -1


def node_run(broker: Broker, rate_hz: float, seconds: float) -> Run:
    settings = load_node_settings(site="bench", machine="lp1", broker=broker.url, rate_hz=rate_hz,
                                  sled={"counts_per_mm": COUNTS_PER_MM})
    pins = MockFactory()
    node = build_node(settings, pin_factory=pins)
    node.keep_ts = True
    node.link.start()
    stop, moving = threading.Event(), threading.Event()
    member = threading.Thread(target=turn_encoder, args=(pins, moving), daemon=True)
    member.start()
    beat = threading.Thread(target=node.run, args=(stop,), daemon=True)
    beat.start()
    # The first second only measures the rate (no samples go out before `ready`).
    time.sleep(seconds + 1.0)
    stop.set()
    beat.join()
    moving.set()
    member.join()
    node.close()
    pins.close()
    return Run("node on mock pins, publishing", rate_hz, node.stats.sample_ts, node.stats.late_beats)


@dataclass
class Figures:
    """One loop's figures over the rounds: the median of each round's, the worst of the maxima."""

    what: str
    rate_hz: float
    achieved_hz: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    late: int


def figures(runs: list[Run]) -> Figures:
    jitters = [run.jitter_ms() for run in runs]
    return Figures(runs[0].what, runs[0].rate_hz, statistics.median(r.achieved_hz for r in runs),
                   statistics.median(statistics.median(j) for j in jitters),
                   statistics.median(percentile(j, 99) for j in jitters), max(j[-1] for j in jitters),
                   sum(r.late for r in runs))


def row(run: Figures, base: Figures) -> str:
    ratio = run.p99_ms / base.p99_ms if base.p99_ms > 0 else float("inf")
    return (f"| {run.rate_hz:.0f} Hz | {run.what} | {run.achieved_hz:.2f} Hz | "
            f"{run.achieved_hz / base.achieved_hz:.3f}x | {run.p50_ms:.3f} ms | {run.p99_ms:.3f} ms | "
            f"{ratio:.2f}x | {run.max_ms:.2f} ms | {run.late} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="sampling time per round (default 4)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of baseline then node (default 3)")
    parser.add_argument("--write", type=Path, help="replace this benchmark's section of that Markdown file")
    args = parser.parse_args(argv)
    broker = Broker().start()
    rows = []
    try:
        for rate in (50.0, 100.0):
            bases, nodes = [], []
            for _ in range(args.rounds):
                bases.append(bare_loop(rate, args.seconds))
                nodes.append(node_run(broker, rate, args.seconds))
            base = figures(bases)
            rows += [row(base, base), row(figures(nodes), base)]
    finally:
        broker.close()
    section = "\n".join([
        SECTION,
        "",
        f"`bench/bench_node.py`, {args.rounds} rounds of {args.seconds:g} s per loop, medians over the rounds "
        f"(max and beats skipped: over all), {platform.machine()}, {os.cpu_count()} cores shared with other "
        f"work, Python "
        f"{platform.python_version()}, on a loopback mosquitto. The node (gpiozero mock pins, an encoder "
        "turned as a member does reps, debounced pads, the paho link) beside a bare loop on the same beat grid "
        "that only reads the clock, in the same run. Jitter: distance of each interval between consecutive "
        "sample timestamps from the period.",
        "",
        "| rate | loop | achieved | ratio to baseline | jitter p50 | jitter p99 | p99 ratio to baseline | "
        "jitter max | beats skipped |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
    ])
    print(section)
    if args.write:
        write_section(args.write, SECTION, section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
