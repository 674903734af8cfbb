"""Per-rep figures from the depth stream against the simulator's scripted motion (known pushes).

The simulator writes every push itself (range and seconds), samples it at 20, 50 or 100 Hz with its
jittered timing and 1-2 mm of noise, and the engine reads it as the kiosk would: the figures must
come back within 5% (mean velocity) and 7% (power) of what was scripted.
"""

import math

import pytest

from kiosk.contract.config import MachineGeometry
from kiosk.contract.events import RepDone, SetEnd
from kiosk.core.cues.rep_figures import G, concentric_figures
from kiosk.core.cues.replay import engine_for, replay
from kiosk.sim.traces import generate, timed_pushes

SEEDS = range(8)
SLED = MachineGeometry(sled_angle_deg=45.0, sled_mass_kg=40.0)


def reps_of(trace, geometry=None, load_kg=None):
    if geometry is not None:
        trace = _with(trace, geometry, load_kg)
    events = replay(trace, engine_for(trace)).events
    return [e for e in events if isinstance(e, RepDone)], [e for e in events if isinstance(e, SetEnd)]


def _with(trace, geometry, load_kg):
    from dataclasses import replace
    return replace(trace, geometry=geometry, settings=trace.settings.model_copy(update={"load_kg": load_kg}))


@pytest.mark.parametrize("rate", [20, 50, 100])
@pytest.mark.parametrize("seed", SEEDS)
def test_mean_velocity_within_5_percent_of_the_scripted_push(rate, seed):
    trace = generate("good", seed, rate_hz=rate)
    reps, _ = reps_of(trace)
    assert len(reps) == len(trace.truth.pushes)
    # At 20 Hz a slow push (0.1 m/s) is timed from ~6 noisy samples at each end: one rep in twenty reads
    # 5-10% off (docs/training-record.md); the set's figures, averaged over its reps, still hold 5%.
    per_rep = 0.10 if rate == 20 else 0.05
    ratios = []
    for rep, (rom, seconds) in zip(reps, trace.truth.pushes, strict=True):
        truth = rom / seconds / 1000
        assert rep.mean_velocity_mps is not None
        ratios.append(rep.mean_velocity_mps / truth)
        assert rep.mean_velocity_mps == pytest.approx(truth, rel=per_rep), (rep.rep, rep.mean_velocity_mps, truth)
        # A cosine push peaks at pi/2 times its mean; smoothing may take a little off and noise add a little.
        assert rep.peak_velocity_mps == pytest.approx(math.pi / 2 * truth, rel=0.1)
        assert rep.rom_mm == pytest.approx(rom, abs=6)
        assert rep.power_w is None  # no load, no sled mechanics: velocity only
    assert sum(ratios) / len(ratios) == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("rate", [20, 50, 100])
def test_power_within_7_percent_on_a_45_degree_sled(rate):
    load, errors = 100.0, []
    for seed in SEEDS:
        trace = generate("good", seed, rate_hz=rate)
        reps, sets = reps_of(trace, SLED, load)
        for rep, (rom, seconds) in zip(reps, trace.truth.pushes, strict=True):
            truth = (load + 40.0) * G * math.sin(math.radians(45)) * rom / 1000 / seconds
            assert rep.power_w is not None
            errors.append(rep.power_w / truth - 1)
        assert sets[0].load_kg == load
    errors.sort(key=abs)
    # Every rep within 7% at 50 and 100 Hz; at 20 Hz, 19 reps in 20 (the slow-push tail above).
    within = errors[int(0.95 * len(errors)) - 1] if rate == 20 else errors[-1]
    assert abs(within) < 0.07, errors[-5:]


@pytest.mark.parametrize("rate", [20, 50, 100])
def test_velocity_loss_within_3_points_and_time_under_tension(rate):
    pushes = [1.0, 1.1, 1.2, 1.3, 1.4, 1.5]
    for seed in SEEDS:
        trace = timed_pushes(pushes, seed=seed, rate_hz=rate)
        reps, sets = reps_of(trace)
        assert len(reps) == 6 and len(sets) == 1
        truth_loss = (1 - 1.0 / 1.5) * 100  # the last push against the fastest
        assert sets[0].velocity_loss_pct == pytest.approx(truth_loss, abs=3)
        assert sets[0].best_mean_velocity_mps == pytest.approx(0.25, rel=0.05)
        assert sets[0].tut_s == pytest.approx(sum(r.eccentric_s + r.concentric_s for r in reps), abs=0.05)


def test_a_still_sled_or_a_few_samples_give_no_figures():
    still = [(float(i) / 50, 100.0 + (i % 3) * 0.5) for i in range(200)]
    assert concentric_figures(still) is None
    assert concentric_figures(still[:3]) is None
