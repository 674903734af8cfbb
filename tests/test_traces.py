"""The trace generator: deterministic, realistic, and honest about its ground truth."""

import statistics

import pytest

from kiosk.contract.base import PayloadError, decode
from kiosk.contract.config import CueThresholds
from kiosk.contract.sensor import DepthSample, LiftoffEvent
from kiosk.sim.chaos import MALFORMED_DEPTH, MALFORMED_EVENT
from kiosk.sim.motion import SledPath
from kiosk.sim.traces import LUMBAR_LIFTS_MM, SCENARIOS, START_TS, TRACE_SETTINGS, generate


def depth_samples(trace) -> list[DepthSample]:
    return [decode(DepthSample, item.payload) for item in trace.items if item.kind == "depth"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_same_scenario_and_seed_give_the_same_bytes(scenario: str) -> None:
    assert generate(scenario, 7) == generate(scenario, 7)
    assert generate(scenario, 7).items != generate(scenario, 8).items


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s != "chaos"])
def test_clean_scenarios_send_valid_ordered_streams(scenario: str) -> None:
    trace = generate(scenario, 3)
    samples = depth_samples(trace)
    assert [s.seq for s in samples] == list(range(len(samples)))
    assert all(a.ts < b.ts for a, b in zip(samples, samples[1:], strict=False))
    assert [item.ts for item in trace.items] == sorted(item.ts for item in trace.items)
    assert trace.items[0].ts >= START_TS
    assert trace.truth.reps >= 3


def test_samples_come_at_20_to_100_hz_with_jitter_and_noise() -> None:
    for seed in range(6):
        trace = generate("good", seed)
        samples = depth_samples(trace)
        gaps = [b.ts - a.ts for a, b in zip(samples, samples[1:], strict=False)]
        assert 20 <= trace.rate_hz <= 100
        assert len(samples) / trace.duration_s == pytest.approx(trace.rate_hz, rel=0.05)
        assert statistics.pstdev(gaps) > 0.02 / trace.rate_hz
        # The first second is a member sitting still at the top: only noise moves.
        still = [s.mm for s in samples if s.ts < START_TS + 0.9]
        assert 0.7 <= statistics.pstdev(still) <= 2.6


def test_rate_can_be_fixed() -> None:
    trace = generate("good", 1, rate_hz=50)
    assert trace.rate_hz == 50
    assert len(depth_samples(trace)) / trace.duration_s == pytest.approx(50, rel=0.05)


def test_reps_are_smooth_and_reach_the_scripted_depth() -> None:
    trace = generate("good", 2, rate_hz=100)
    mm = [s.mm for s in depth_samples(trace)]
    steps = [abs(b - a) for a, b in zip(mm, mm[1:], strict=False)]
    assert max(steps) < 15  # noise plus at most a few mm of travel per 10 ms
    assert TRACE_SETTINGS.target_depth_mm - 5 <= max(mm) <= TRACE_SETTINGS.max_depth_mm


def test_butt_wink_lifts_off_past_its_depth_and_comes_back() -> None:
    trace = generate("butt-wink", 0)
    events = [decode(LiftoffEvent, item.payload) for item in trace.items if item.kind == "event"]
    assert [(e.zone, e.state) for e in events] == [("lumbar", "start"), ("lumbar", "end")] * 2
    path_depth = {round(s.ts, 2): s.mm for s in depth_samples(trace)}
    for event in events[::2]:
        nearby = [mm for ts, mm in path_depth.items() if abs(ts - event.ts) < 0.06]
        assert min(nearby) == pytest.approx(LUMBAR_LIFTS_MM, abs=12)
    assert trace.truth.stopped and trace.truth.reps == 3


def test_dropout_goes_quiet_longer_than_the_sensor_lost_time() -> None:
    trace = generate("dropout", 0)
    (start, end) = trace.truth.silences[0]
    samples = depth_samples(trace)
    assert not [s for s in samples if start <= s.ts < end]
    assert end - start > CueThresholds().sensor_lost_s
    assert end - start < CueThresholds().set_rest_s


def test_chaos_garbage_never_decodes() -> None:
    for payload in MALFORMED_DEPTH:
        with pytest.raises(PayloadError):
            decode(DepthSample, payload)
    for payload in MALFORMED_EVENT:
        with pytest.raises(PayloadError):
            decode(LiftoffEvent, payload)


def test_chaos_mixes_garbage_repeats_and_reordering_into_the_stream() -> None:
    trace = generate("chaos", 0)
    havoc = trace.truth.havoc
    refused = 0
    seqs = []
    for item in trace.items:
        try:
            model = decode(DepthSample if item.kind == "depth" else LiftoffEvent, item.payload)
        except PayloadError:
            refused += 1
            continue
        if item.kind == "depth":
            seqs.append(model.seq)
    assert refused == havoc.malformed
    assert sum(1 for a, b in zip(seqs, seqs[1:], strict=False) if a == b) == havoc.duplicates
    assert sum(1 for a, b in zip(seqs, seqs[1:], strict=False) if b < a) == havoc.out_of_order + havoc.restarts
    assert havoc.out_of_range > 0 and havoc.unknown_fields > 0


def test_unknown_scenario_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown scenario"):
        generate("leg-day", 0)


def test_rebound_reverses_at_the_given_speed() -> None:
    path = SledPath(0.0, 100.0).rebound(400.0, 0.05)
    assert path.at(0.0) == pytest.approx(100.0)
    assert path.at(0.025) == pytest.approx(100.0 + 400.0 * 0.05 / 4)
    assert path.at(0.05) == pytest.approx(100.0)
    assert (path.at(0.001) - path.at(0.0)) / 0.001 == pytest.approx(400.0, rel=0.05)
