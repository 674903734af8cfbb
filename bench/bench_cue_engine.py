"""Throughput and per-input latency of the cue engine, on one core.

Throughput is reported against a baseline measured in the same process on the
same samples (a pass-through that reads each sample's fields), so the ratio
stays comparable across machines; absolute samples per second are checked
against the goal. Results go to a section of docs/benchmarks.md with --write.

    .venv/bin/python bench/bench_cue_engine.py --write docs/benchmarks.md
"""

import argparse
import os
import platform
import sys
import time
from pathlib import Path

from report import write_section

from kiosk.contract.base import decode
from kiosk.contract.sensor import DepthSample
from kiosk.core.cues import CueEngine
from kiosk.core.cues.replay import engine_for
from kiosk.core.cues.set_record import NoRecord
from kiosk.sim.traces import generate

GOAL_SAMPLES_PER_S = 200_000
# The training record's per-rep figures may cost the engine at most this much more (issue 24).
GOAL_FIGURES_RATIO = 1.5
SECTION = "## Cue engine"


def load_samples(sets: int, reps: int) -> tuple[object, list[DepthSample]]:
    trace = generate("good", 0, rate_hz=100, reps=reps, sets=sets)
    return trace, [decode(DepthSample, item.payload) for item in trace.items if item.kind == "depth"]


def best_of(rounds: int, run) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def pass_through(samples: list[DepthSample]) -> None:
    sink = []
    for s in samples:
        sink.append((s.seq, s.ts, s.mm))
        sink.clear()


def engine_run(trace, samples: list[DepthSample]) -> None:
    on_depth = engine_for(trace).on_depth
    for s in samples:
        on_depth(s)


def engine_without_figures(trace, samples: list[DepthSample]) -> None:
    """The engine as before the training record: the same engine keeping no samples and no figures."""
    on_depth = CueEngine(settings=trace.settings, geometry=trace.geometry, record=NoRecord()).on_depth
    for s in samples:
        on_depth(s)


def interleaved_best(rounds: int, runs: dict) -> dict:
    """Best time of each run, the runs taking turns round by round: a busy spell on a shared machine then
    slows them alike instead of whichever happened to run during it."""
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def latencies_ns(trace, samples: list[DepthSample]) -> list[int]:
    on_depth = engine_for(trace).on_depth
    clock = time.perf_counter_ns
    out = []
    for s in samples:
        start = clock()
        on_depth(s)
        out.append(clock() - start)
    out.sort()
    return out


def percentile(sorted_values: list[int], p: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(p / 100 * len(sorted_values)))] / 1000


def measure(rounds: int, sets: int, reps: int) -> dict:
    trace, samples = load_samples(sets, reps)
    n = len(samples)
    raw = [item.payload for item in trace.items if item.kind == "depth"]
    base_s = best_of(rounds, lambda: pass_through(samples))
    paired = interleaved_best(rounds * 2, {"with": lambda: engine_run(trace, samples),
                                           "without": lambda: engine_without_figures(trace, samples)})
    engine_s, bare_s = paired["with"], paired["without"]
    decode_s = best_of(max(1, rounds // 2), lambda: [decode(DepthSample, p) for p in raw])
    empty = sorted(_timer_cost() for _ in range(20_000))
    lat = latencies_ns(trace, samples)
    return {
        "samples": n,
        "reps": trace.truth.reps,
        "baseline_per_s": n / base_s,
        "engine_per_s": n / engine_s,
        "decode_per_s": n / decode_s,
        "ratio": engine_s / base_s,
        "bare_per_s": n / bare_s,
        "figures_ratio": engine_s / bare_s,
        "p50_us": percentile(lat, 50),
        "p90_us": percentile(lat, 90),
        "p99_us": percentile(lat, 99),
        "p999_us": percentile(lat, 99.9),
        "max_us": lat[-1] / 1000,
        "timer_us": percentile(empty, 50),
    }


def _timer_cost() -> int:
    clock = time.perf_counter_ns
    start = clock()
    return clock() - start


def report(r: dict) -> str:
    verdict = "meets" if r["engine_per_s"] >= GOAL_SAMPLES_PER_S else "MISSES"
    figures_verdict = "met" if r["figures_ratio"] <= GOAL_FIGURES_RATIO else "MISSED"
    cpu = platform.processor() or platform.machine()
    return f"""{SECTION}

`bench/bench_cue_engine.py`: {r['samples']:,} depth samples at 100 Hz ({r['reps']} clean reps
in noisy, jittered timing, from `kiosk.sim.traces`), decoded once up front, then fed
to `CueEngine.on_depth` on one core; best of several rounds. Python
{platform.python_version()} on {cpu}, {time.strftime('%Y-%m-%d')}.

| what | samples/s | cost vs pass-through |
|---|---|---|
| pass-through (read seq, ts, mm) | {r['baseline_per_s']:,.0f} | 1.0x |
| cue engine `on_depth` | {r['engine_per_s']:,.0f} | {r['ratio']:.1f}x |
| cue engine without the per-rep figures (`NoRecord`), same run | {r['bare_per_s']:,.0f} | |
| payload decode (`decode(DepthSample, ...)`), for scale | {r['decode_per_s']:,.0f} | |

Goal: at least {GOAL_SAMPLES_PER_S:,} samples/s on one core; this run {verdict} it
(a sensor sends at most 100 per second).

The training record's per-rep figures (velocity, range, power: `kiosk/core/cues/rep_figures.py`) cost
{r['figures_ratio']:.2f}x the engine without them, measured in turns in this run (goal: at most
{GOAL_FIGURES_RATIO}x; {figures_verdict}). They are computed once a rep, with numpy, from the rep's samples.

Per-input latency of `on_depth` (includes about {r['timer_us']:.2f} us of timer overhead):

| p50 | p90 | p99 | p99.9 | max |
|---|---|---|---|---|
| {r['p50_us']:.2f} us | {r['p90_us']:.2f} us | {r['p99_us']:.2f} us | {r['p999_us']:.2f} us | {r['max_us']:.1f} us |

The slow tail is the few inputs that end a rep or raise a cue: they build and
validate a contract event (pydantic), where every other sample only compares
numbers.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sets", type=int, default=4)
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--write", type=Path, metavar="MD", help="update this markdown file's cue engine section")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    results = measure(args.rounds, args.sets, args.reps)
    section = report(results)
    print(section)
    if args.write:
        write_section(args.write, SECTION, section)
    ok = results["engine_per_s"] >= GOAL_SAMPLES_PER_S and results["figures_ratio"] <= GOAL_FIGURES_RATIO
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
