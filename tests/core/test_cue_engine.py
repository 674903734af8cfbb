"""The live cue engine, driven by generated traces and by hand-made streams."""

import itertools

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kiosk.contract.base import decode, encode
from kiosk.contract.config import CueThresholds
from kiosk.contract.events import KIOSK_EVENT, CueRaised, RepDone, SensorFault, SetEnd
from kiosk.contract.sensor import DepthSample, LiftoffEvent
from kiosk.core.cues import CueEngine
from kiosk.core.cues.replay import engine_for, replay
from kiosk.core.cues.safety import depth_floor
from kiosk.core.machine.depth_limits import TARGET_MARGIN_MM, with_target_margin
from kiosk.sim.traces import LUMBAR_LIFTS_MM, SCENARIOS, TRACE_GEOMETRY, TRACE_SETTINGS, generate

T0 = 1_764_000_000.0
DEFAULTS = CueThresholds()


def make_engine(**thresholds: float) -> CueEngine:
    return CueEngine(TRACE_SETTINGS, TRACE_GEOMETRY, CueThresholds(**thresholds), session="s1")


def cues_in(events: list) -> set[tuple[str, str]]:
    return {(e.cue, e.severity) for e in events if isinstance(e, CueRaised)}


class Stream:
    """Hand-made sensor input: depth samples every 20 ms, lift-offs between them."""

    def __init__(self, engine: CueEngine, ts: float = T0):
        self.engine, self.ts, self.seq, self.event_seq = engine, ts, 0, 0
        self.events: list = []

    def depth(self, mm: float, dt: float = 0.02) -> list:
        self.ts += dt
        out = self.engine.on_depth(DepthSample(seq=self.seq, ts=self.ts, mm=mm))
        self.seq += 1
        self.events += out
        return out

    def move(self, to_mm: float, seconds: float, start_mm: float) -> None:
        steps = max(1, round(seconds / 0.02))
        for k in range(1, steps + 1):
            self.depth(start_mm + (to_mm - start_mm) * k / steps)

    def hold(self, mm: float, seconds: float) -> None:
        for _ in range(round(seconds / 0.02)):
            self.depth(mm)

    def liftoff(self, zone: str = "lumbar", state: str = "start") -> list:
        out = self.engine.on_liftoff(LiftoffEvent(seq=self.event_seq, ts=self.ts, type="liftoff", zone=zone,
                                                  state=state))
        self.event_seq += 1
        self.events += out
        return out

    def rep(self, depth: float = 250.0, top: float = 62.0) -> None:
        self.move(depth, 2.8, top)
        self.hold(depth, 0.2)
        self.move(top, 1.8, depth)
        self.hold(top, 0.8)


def in_lowering(stream: Stream, to_mm: float = 200.0) -> None:
    stream.hold(62.0, 1.0)
    stream.move(to_mm, 2.0, 62.0)


# -- every cue, both ways, from realistic traces --------------------------------


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_each_scenario_raises_exactly_its_cues_and_counts_its_reps(scenario: str, seed: int) -> None:
    trace = generate(scenario, seed)
    engine = engine_for(trace)
    events = replay(trace, engine).events
    assert cues_in(events) == trace.truth.cues
    assert sum(s.reps for s in engine.sets) == trace.truth.reps
    assert len(engine.sets) == trace.truth.sets
    assert [e.rep for e in events if isinstance(e, RepDone)] == [
        n for s in engine.sets for n in range(1, s.reps + 1)
    ]


@pytest.mark.parametrize("seed", range(8))
def test_clean_noisy_reps_only_ever_say_depth_reached(seed: int) -> None:
    trace = generate("good", seed)
    events = replay(trace, engine_for(trace)).events
    assert {e.cue for e in events if isinstance(e, CueRaised)} == {"depth_reached"}
    assert not [e for e in events if isinstance(e, SensorFault)]
    assert all(e.eccentric_s > DEFAULTS.descent_fast_s for e in events if isinstance(e, RepDone))


def test_same_cue_is_not_repeated_faster_than_repeat_s() -> None:
    for scenario in ("too-deep", "lockout", "good", "shallow", "bounce"):
        trace = generate(scenario, 1, reps=7)
        events = replay(trace, engine_for(trace)).events
        last: dict[str, float] = {}
        for e in (e for e in events if isinstance(e, CueRaised)):
            assert e.ts - last.get(e.cue, -1e9) >= DEFAULTS.repeat_s, (scenario, e)
            last[e.cue] = e.ts


def test_every_event_carries_the_session_and_an_input_time() -> None:
    trace = generate("butt-wink", 0)
    events = replay(trace, engine_for(trace, session="s1")).events
    assert events
    first, last = trace.items[0].ts, trace.items[-1].ts
    for e in events:
        assert e.session == "s1"
        assert first <= e.ts <= last + 0.01
        assert KIOSK_EVENT.validate_json(encode(e)) == e


def test_rep_reports_depth_and_phase_times() -> None:
    stream = Stream(make_engine())
    stream.hold(62.0, 1.0)
    stream.rep(depth=252.0)
    (rep,) = [e for e in stream.events if isinstance(e, RepDone)]
    assert rep.rep == 1
    assert rep.depth_mm == pytest.approx(252.0, abs=0.5)
    assert 2.4 <= rep.eccentric_s <= 3.1
    assert 1.4 <= rep.concentric_s <= 2.0


def test_phases_follow_the_sled() -> None:
    engine = make_engine()
    stream = Stream(engine)
    seen = []
    stream.hold(62.0, 0.5)
    seen.append(engine.phase)
    stream.move(250.0, 2.8, 62.0)
    seen.append(engine.phase)
    stream.hold(250.0, 0.5)
    seen.append(engine.phase)
    stream.move(62.0, 1.8, 250.0)
    stream.hold(62.0, 0.5)
    assert seen + [engine.phase] == ["top", "lowering", "bottom", "top"]
    assert engine.reps_in_set == 1 and engine.set_open
    assert engine.last_depth_mm == 62.0


def test_one_input_past_target_and_max_gives_the_warning_first() -> None:
    stream = Stream(make_engine())
    in_lowering(stream, 200.0)
    out = stream.depth(320.0)
    assert [(e.cue, e.severity) for e in out] == [("too_deep", "warn"), ("depth_reached", "info")]


def test_lockout_needs_more_than_one_noisy_reading() -> None:
    stream = Stream(make_engine())
    stream.hold(62.0, 1.0)
    stream.rep()
    stream.depth(40.0)
    stream.depth(62.0)
    assert "lockout" not in {c for c, _ in cues_in(stream.events)}
    stream.hold(40.0, 0.1)
    assert ("lockout", "warn") in cues_in(stream.events)


# -- lift-offs and what they teach ------------------------------------------------


def test_lumbar_liftoff_is_cued_on_the_very_input_that_reports_it() -> None:
    stream = Stream(make_engine())
    in_lowering(stream)
    assert stream.liftoff("lumbar") == [
        CueRaised(ts=stream.ts, session="s1", cue="liftoff_lumbar", severity="warn", rep=1)
    ]


def test_pelvis_liftoff_warns_but_not_again_within_repeat_s() -> None:
    stream = Stream(make_engine())
    in_lowering(stream)
    assert cues_in(stream.liftoff("pelvis")) == {("liftoff_pelvis", "warn")}
    stream.liftoff("pelvis", "end")
    stream.hold(200.0, 1.0)
    assert stream.liftoff("pelvis") == []


def test_liftoffs_outside_a_set_are_ignored() -> None:
    stream = Stream(make_engine())
    stream.hold(62.0, 1.0)
    assert stream.liftoff("lumbar") == []
    assert stream.engine.max_depth_mm == TRACE_SETTINGS.max_depth_mm


def test_lumbar_liftoff_lowers_max_depth() -> None:
    trace = generate("butt-wink", 2)
    engine = engine_for(trace)
    replay(trace, engine)
    expected = LUMBAR_LIFTS_MM - DEFAULTS.liftoff_margin_mm
    assert trace.truth.learnt_max_depth_mm == expected
    assert engine.max_depth_mm == pytest.approx(expected, abs=8)
    learnt = engine.learnt_settings()
    assert learnt.max_depth_mm == engine.max_depth_mm
    # The old target was deeper than the new max: it is kept the margin short of it.
    assert learnt.target_depth_mm == engine.max_depth_mm - TARGET_MARGIN_MM
    assert learnt.backrest_notch == TRACE_SETTINGS.backrest_notch


def test_after_a_lumbar_liftoff_no_rep_at_the_target_is_too_deep_for_the_rest_of_the_session() -> None:
    stream = Stream(make_engine(lumbar_liftoffs_to_stop=2))
    in_lowering(stream, 265.0)
    stream.liftoff("lumbar")
    engine = stream.engine
    assert engine.max_depth_mm == 235.0
    assert engine.target_depth_mm <= engine.max_depth_mm - TARGET_MARGIN_MM
    stream.move(62.0, 1.8, 265.0)
    stream.hold(62.0, 5.0)  # the set ends at rest; the next sets use the learnt limits
    for _ in range(2):
        before = len(stream.events)
        for _ in range(3):
            stream.rep(depth=engine.target_depth_mm)
        later = stream.events[before:]
        assert ("depth_reached", "info") in cues_in(later)
        assert ("too_deep", "warn") not in cues_in(later)
        stream.hold(62.0, 5.0)


def test_an_old_profile_with_its_target_at_the_max_is_repaired_and_reaching_it_is_not_too_deep() -> None:
    old = TRACE_SETTINGS.model_copy(update={"target_depth_mm": 300.0, "max_depth_mm": 300.0})
    assert with_target_margin(old).target_depth_mm == 300.0 - TARGET_MARGIN_MM
    assert with_target_margin(TRACE_SETTINGS) is TRACE_SETTINGS
    engine = CueEngine(old, TRACE_GEOMETRY, DEFAULTS, session="s1")
    assert engine.target_depth_mm == 290.0
    assert engine.learnt_settings().target_depth_mm == 290.0  # saved repaired at the session's end
    stream = Stream(engine)
    stream.hold(62.0, 1.0)
    stream.rep(depth=290.0)
    assert ("depth_reached", "info") in cues_in(stream.events)
    assert ("too_deep", "warn") not in cues_in(stream.events)


def test_learnt_max_depth_never_drops_below_half_the_range() -> None:
    stream = Stream(make_engine(lumbar_liftoffs_to_stop=2))
    in_lowering(stream, 100.0)
    stream.liftoff("lumbar")
    assert stream.engine.max_depth_mm == depth_floor(TRACE_SETTINGS.top_mm, TRACE_SETTINGS.max_depth_mm) == 180.0


def test_learnt_settings_are_the_same_without_lumbar_liftoffs() -> None:
    trace = generate("too-deep", 0)
    engine = engine_for(trace)
    replay(trace, engine)
    assert engine.learnt_settings() == TRACE_SETTINGS


def test_second_lumbar_liftoff_stops_the_set_with_advice() -> None:
    stream = Stream(make_engine())
    in_lowering(stream, 265.0)
    stream.liftoff("lumbar")
    stream.move(62.0, 1.8, 265.0)
    stream.hold(62.0, 0.8)
    in_lowering(stream, 262.0)
    out = stream.liftoff("lumbar")
    assert [type(e) for e in out] == [CueRaised, SetEnd]
    assert (out[0].cue, out[0].severity, out[0].rep) == ("liftoff_lumbar", "stop", 2)
    summary = out[1]
    assert summary.stopped and summary.reps == 1 and summary.liftoffs == 2
    assert len(summary.suggestions) >= 3 and all(s.endswith(".") for s in summary.suggestions)
    assert not stream.engine.set_open


def test_pushing_up_after_a_stop_does_not_start_a_set() -> None:
    stream = Stream(make_engine(lumbar_liftoffs_to_stop=1))
    in_lowering(stream, 250.0)
    stream.liftoff("lumbar")
    stream.move(275.0, 0.3, 250.0)
    stream.move(62.0, 1.8, 275.0)
    stream.hold(62.0, 1.0)
    assert not stream.engine.set_open and len(stream.engine.sets) == 1
    stream.rep()
    assert stream.engine.set_open and stream.engine.reps_in_set == 1


# -- sets -------------------------------------------------------------------------


def test_set_ends_after_resting_at_the_top() -> None:
    stream = Stream(make_engine())
    stream.hold(62.0, 1.0)
    stream.rep()
    stream.rep()
    assert stream.engine.set_open
    stream.hold(62.0, DEFAULTS.set_rest_s)
    (summary,) = [e for e in stream.events if isinstance(e, SetEnd)]
    assert (summary.set_number, summary.reps, summary.stopped) == (1, 2, False)
    assert summary.max_depth_mm == 250.0


def test_tick_ends_a_set_resting_at_the_top_without_samples() -> None:
    # A rest shorter than the sensor timeout, so the set ends before the silence counts as a lost sensor.
    engine = make_engine(set_rest_s=1.5, sensor_lost_s=2)
    stream = Stream(engine)
    stream.hold(62.0, 1.0)
    stream.rep()
    assert engine.tick(stream.ts + 0.3) == []
    out = engine.tick(stream.ts + 1.5)
    assert [type(e) for e in out] == [SetEnd]


def test_sets_are_numbered_in_order() -> None:
    trace = generate("good", 4, sets=2)
    engine = engine_for(trace)
    replay(trace, engine)
    assert [s.set_number for s in engine.sets] == [1, 2]
    assert sum(s.reps for s in engine.sets) == trace.truth.reps


def test_end_closes_an_open_set_without_the_unfinished_rep() -> None:
    stream = Stream(make_engine())
    stream.hold(62.0, 1.0)
    stream.rep()
    in_lowering(stream)
    (summary,) = stream.engine.end(stream.ts)
    assert isinstance(summary, SetEnd) and summary.reps == 1 and not summary.stopped
    assert stream.engine.end(stream.ts) == []


# -- sensor health ------------------------------------------------------------------


def test_duplicate_and_late_samples_are_dropped_and_counted() -> None:
    engine = make_engine()
    assert engine.on_depth(DepthSample(seq=5, ts=T0 + 0.05, mm=62.0)) == []
    engine.on_depth(DepthSample(seq=5, ts=T0 + 0.05, mm=62.0))
    engine.on_depth(DepthSample(seq=4, ts=T0 + 0.04, mm=90.0))
    assert engine.last_depth_mm == 62.0
    health = engine.health
    assert (health.duplicates, health.out_of_order, health.dropped) == (1, 1, 2)


def test_restarted_sensor_is_followed_from_seq_zero() -> None:
    engine = make_engine()
    engine.on_depth(DepthSample(seq=900, ts=T0, mm=62.0))
    engine.on_depth(DepthSample(seq=0, ts=T0 + 3.0, mm=70.0))
    engine.on_depth(DepthSample(seq=1, ts=T0 + 3.02, mm=71.0))
    assert engine.last_depth_mm == 71.0
    assert engine.health.restarts == 1 and engine.health.dropped == 0


def test_out_of_range_readings_are_ignored_and_reported_at_a_limited_rate() -> None:
    engine = make_engine()
    faults = []
    for k in range(50):
        faults += engine.on_depth(DepthSample(seq=k, ts=T0 + k * 0.1, mm=TRACE_GEOMETRY.travel_mm + 100))
    assert engine.last_depth_mm is None and engine.health.out_of_range == 50
    assert [f.fault for f in faults] == ["out_of_range"]
    later = engine.on_depth(DepthSample(seq=99, ts=T0 + 20, mm=-150.0))
    assert [f.fault for f in later] == ["out_of_range"] and "50 depth" in later[0].detail


def test_silent_sensor_in_a_set_is_reported_once_and_cues_come_back() -> None:
    trace = generate("dropout", 3)
    events = replay(trace, engine_for(trace)).events
    (lost,) = [e for e in events if isinstance(e, CueRaised) and e.cue == "sensor_lost"]
    (stale,) = [e for e in events if isinstance(e, SensorFault)]
    (silence_from, silence_to) = trace.truth.silences[0]
    assert stale.fault == "stale" and stale.ts == lost.ts
    assert silence_from + DEFAULTS.sensor_lost_s <= lost.ts < silence_to
    assert any(isinstance(e, CueRaised) and e.ts > silence_to for e in events)
    assert any(isinstance(e, RepDone) and e.ts > silence_to for e in events)


def test_a_stream_that_keeps_stalling_is_one_stale_fault_per_ten_seconds_with_the_count() -> None:
    engine = make_engine()
    out, ts, seq = [], T0, 0
    for mm in (62.0, 120.0, 180.0):  # into a set
        out += engine.on_depth(DepthSample(seq=seq, ts=ts, mm=mm))
        ts, seq = ts + 0.02, seq + 1
    for _ in range(20):  # 30 s of a sample, then 1.5 s of silence, again and again
        out += engine.tick(ts + 1.5)
        ts += 1.5
        out += engine.on_depth(DepthSample(seq=seq, ts=ts, mm=180.0))
        seq += 1
    stale = [e for e in out if isinstance(e, SensorFault) and e.fault == "stale"]
    assert 3 <= len(stale) <= 4, [e.detail for e in stale]
    assert all(b.ts - a.ts >= 10.0 for a, b in itertools.pairwise(stale))
    assert "stalls since the last report" in stale[1].detail


def test_silence_outside_a_set_is_not_a_lost_sensor() -> None:
    engine = make_engine()
    engine.on_depth(DepthSample(seq=0, ts=T0, mm=62.0))
    assert engine.tick(T0 + 60) == []


def test_chaos_is_counted_exactly_and_does_not_change_the_reps() -> None:
    trace = generate("chaos", 5)
    engine = engine_for(trace)
    result = replay(trace, engine)
    havoc, health = trace.truth.havoc, engine.health
    assert (health.duplicates, health.out_of_order, health.out_of_range, health.restarts) == (
        havoc.duplicates, havoc.out_of_order, havoc.out_of_range, havoc.restarts)
    assert result.rejected == havoc.malformed
    assert sum(s.reps for s in engine.sets) == trace.truth.reps


def test_impossible_clock_values_are_ignored() -> None:
    stream = Stream(make_engine())
    in_lowering(stream)
    for bad in (float("nan"), float("inf"), -1.0, 1e12):
        assert stream.engine.tick(bad) == []
    (summary,) = stream.engine.end(float("nan"))
    assert summary.ts == stream.ts


# -- properties -------------------------------------------------------------------

seqs = st.integers(min_value=0, max_value=2**63 - 1) | st.integers(min_value=0, max_value=50)
times = st.floats(min_value=0, max_value=32503680000) | st.floats(min_value=T0, max_value=T0 + 60)
depths = st.floats(min_value=-200, max_value=2000) | st.floats(min_value=40, max_value=320)
inputs = st.one_of(
    st.builds(lambda s, t, m: ("depth", DepthSample(seq=s, ts=t, mm=m)), seqs, times, depths),
    st.builds(lambda s, t, z, on: ("liftoff", LiftoffEvent(seq=s, ts=t, type="liftoff", zone=z, state=on)),
              seqs, times, st.sampled_from(["lumbar", "pelvis"]), st.sampled_from(["start", "end"])),
    st.tuples(st.just("tick"), st.floats(allow_nan=True, allow_infinity=True)),
    st.tuples(st.just("end"), st.floats(allow_nan=True, allow_infinity=True)),
)
thresholds = st.builds(CueThresholds, repeat_s=st.floats(0, 10), lumbar_liftoffs_to_stop=st.integers(1, 2),
                       hysteresis_mm=st.floats(1, 40), sensor_lost_s=st.floats(0.25, 2))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(inputs, max_size=120), thresholds)
def test_engine_never_raises_and_only_says_contract_events(ops: list, th: CueThresholds) -> None:
    engine = CueEngine(TRACE_SETTINGS, TRACE_GEOMETRY, th, session="s1")
    for kind, value in ops:
        if kind == "depth":
            out = engine.on_depth(value)
        elif kind == "liftoff":
            out = engine.on_liftoff(value)
        elif kind == "tick":
            out = engine.tick(value)
        else:
            out = engine.end(value)
        for event in out:
            assert KIOSK_EVENT.validate_json(encode(event)) == event
    assert engine.reps_in_set >= 0 and engine.max_depth_mm <= TRACE_SETTINGS.max_depth_mm


@settings(max_examples=120, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["depth", "liftoff"]), st.floats(40, 320),
                          st.sampled_from(["lumbar", "pelvis"]), st.sampled_from(["start", "end"])),
                min_size=1, max_size=200),
       st.integers(1, 2))
def test_every_lumbar_liftoff_start_in_a_set_is_cued_on_that_input(ops: list, to_stop: int) -> None:
    stream = Stream(make_engine(lumbar_liftoffs_to_stop=to_stop, repeat_s=15))
    for kind, mm, zone, state in ops:
        if kind == "depth":
            stream.depth(mm, dt=0.05)
            continue
        was_open = stream.engine.set_open
        out = stream.liftoff(zone, state)
        if was_open and zone == "lumbar" and state == "start":
            assert out and isinstance(out[0], CueRaised) and out[0].cue == "liftoff_lumbar"


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(SCENARIOS), st.integers(min_value=0, max_value=100_000))
@example("shallow", 3592)  # a short push's end read 0.03 s after its fastest moment: a false velocity_loss
def test_rep_counts_match_the_generator_across_seeds(scenario: str, seed: int) -> None:
    trace = generate(scenario, seed)
    engine = engine_for(trace)
    events = replay(trace, engine).events
    assert sum(s.reps for s in engine.sets) == trace.truth.reps
    assert cues_in(events) == trace.truth.cues


@pytest.mark.xfail(strict=True, reason="known defect: on a push of about 80 mm the end is timed up to 0.23 s early "
                   "or late (its levels sit within the sensor's noise), so the mean velocity reads up to 19% high or "
                   "9% low and a false velocity_loss comes in 3 of 1,500 shallow sets (seeds 355, 728, 1193)")
@pytest.mark.parametrize("seed", [355, 728, 1193])
def test_a_short_push_s_noisy_end_raises_no_false_velocity_loss(seed: int) -> None:
    trace = generate("shallow", seed)
    assert cues_in(replay(trace, engine_for(trace)).events) == trace.truth.cues


def test_a_forged_far_future_liftoff_cannot_hide_the_real_ones() -> None:
    trace = generate("butt-wink", 2)
    engine = engine_for(trace)
    forged = LiftoffEvent(seq=2**63 - 1, ts=32503680000.0, type="liftoff", zone="pelvis", state="end")
    engine.on_liftoff(forged)
    events = replay(trace, engine).events
    assert ("liftoff_lumbar", "warn") in {(e.cue, e.severity) for e in events if e.type == "cue"}


def test_a_forged_seq_far_ahead_mid_stream_is_refused_and_the_stream_goes_on() -> None:
    trace = generate("good", 3)
    depth = [decode(DepthSample, i.payload) for i in trace.items if i.kind == "depth"]
    engine = engine_for(trace)
    half = len(depth) // 2
    events = [e for s in depth[:half] for e in engine.on_depth(s)]
    events += engine.on_depth(DepthSample(seq=2**63 - 1, ts=depth[half].ts, mm=100.0))
    events += [e for s in depth[half:] for e in engine.on_depth(s)]
    assert len([e for e in events if e.type == "rep"]) == trace.truth.reps
    assert engine.health.out_of_order == 1


def test_replayed_old_samples_in_bursts_are_never_taken_for_a_restart() -> None:
    trace = generate("good", 3)
    depth = [decode(DepthSample, i.payload) for i in trace.items if i.kind == "depth"]
    engine = engine_for(trace)
    events = []
    for n, sample in enumerate(depth):
        events += engine.on_depth(sample)
        if n % 40 == 39:
            # Three old samples from the bottom of an earlier rep, as a replaying attacker would send them.
            for old in sorted(depth[:n - 20], key=lambda s: -s.mm)[:3]:
                events += engine.on_depth(old)
    assert len([e for e in events if e.type == "rep"]) == trace.truth.reps
    assert engine.health.restarts == 0 and engine.health.out_of_order > 0


def test_lumbar_liftoff_is_not_buried_by_a_too_deep_for_the_same_rep() -> None:
    engine = CueEngine(TRACE_SETTINGS, TRACE_GEOMETRY, session="s1")
    seq, ts, cues = 0, 1000.0, []

    def move(start: float, end: float, seconds: float) -> None:
        nonlocal seq, ts
        steps = int(seconds * 50)
        for i in range(1, steps + 1):
            seq, ts = seq + 1, ts + 0.02
            sample = DepthSample(seq=seq, ts=ts, mm=start + (end - start) * i / steps)
            cues.extend(e.cue for e in engine.on_depth(sample) if e.type == "cue")

    move(60, 60, 1.0)
    move(60, 280, 3.0)
    lift = LiftoffEvent(seq=1, ts=ts, type="liftoff", zone="lumbar", state="start")
    cues.extend(e.cue for e in engine.on_liftoff(lift) if e.type == "cue")
    move(280, 285, 0.3)
    assert "liftoff_lumbar" in cues and "too_deep" not in cues
    assert engine.max_depth_mm < 280
    move(285, 60, 2.0)
    move(60, 60, 1.0)
    move(60, 270, 3.0)
    assert cues.count("too_deep") == 1, "the next rep past the new max is warned"


def test_reps_that_run_straight_into_the_next_keep_their_depth_and_times() -> None:
    engine = CueEngine(TRACE_SETTINGS, TRACE_GEOMETRY, session="s1")
    seq, ts, events = 0, 0.0, []

    def feed(mm: float) -> None:
        nonlocal seq, ts
        seq, ts = seq + 1, ts + 0.02
        events.extend(engine.on_depth(DepthSample(seq=seq, ts=ts, mm=mm)))

    for _ in range(50):
        feed(60)
    for _ in range(3):  # no pause at the top between reps
        for i in range(100):
            feed(60 + 2 * i)
        for i in range(100):
            feed(260 - 2 * i)
    for _ in range(300):
        feed(60)
    reps = [e for e in events if e.type == "rep"]
    assert [r.rep for r in reps] == [1, 2, 3]
    assert all(r.depth_mm == pytest.approx(258, abs=3) for r in reps)
    assert all(r.eccentric_s == pytest.approx(2.0, abs=0.2) and r.concentric_s > 1.0 for r in reps)


def lumbar_cues(events: list) -> list[str]:
    return [e.severity for e in events if isinstance(e, CueRaised) and e.cue == "liftoff_lumbar"]


def test_new_settings_mid_set_keep_the_sets_liftoffs_so_the_second_one_still_stops_it() -> None:
    engine = make_engine()
    stream = Stream(engine)
    stream.hold(40.0, 0.5)
    stream.move(300.0, 2.0, start_mm=40.0)
    assert lumbar_cues(stream.liftoff()) == ["warn"]
    deeper = TRACE_SETTINGS.model_copy(update={"target_depth_mm": TRACE_SETTINGS.target_depth_mm - 20})
    engine.retune(deeper, TRACE_GEOMETRY, DEFAULTS)
    assert engine.set_open
    stream.move(40.0, 1.0, start_mm=300.0)
    stream.move(300.0, 2.0, start_mm=40.0)
    out = stream.liftoff()
    assert lumbar_cues(out) == ["stop"]
    (end,) = [e for e in out if isinstance(e, SetEnd)]
    assert end.set_number == 1 and end.liftoffs == 2 and end.reps == 1 and end.stopped


def test_settings_deeper_than_the_max_a_liftoff_taught_do_not_deepen_it() -> None:
    engine = make_engine()
    stream = Stream(engine)
    stream.hold(40.0, 0.5)
    stream.move(300.0, 2.0, start_mm=40.0)
    stream.liftoff()
    learnt = engine.max_depth_mm
    assert learnt < TRACE_SETTINGS.max_depth_mm
    engine.retune(TRACE_SETTINGS, TRACE_GEOMETRY, DEFAULTS)  # a stale draft with the old max
    assert engine.max_depth_mm == learnt
    assert engine.target_depth_mm <= learnt - TARGET_MARGIN_MM


def test_a_sensor_restart_mid_set_keeps_the_set_and_what_it_taught() -> None:
    engine = make_engine()
    stream = Stream(engine)
    stream.hold(40.0, 0.5)
    stream.move(300.0, 2.0, start_mm=40.0)
    stream.liftoff()
    assert engine.sensor_restarted() == []
    assert engine.set_open
    stream.seq = 0  # the node counts from 0 again
    stream.hold(250.0, 0.5)
    stream.move(40.0, 1.0, start_mm=250.0)
    stream.move(300.0, 2.0, start_mm=40.0)
    assert lumbar_cues(stream.liftoff()) == ["stop"]


def test_a_set_left_open_by_a_sensor_restart_still_ends_by_resting_at_the_top() -> None:
    engine = make_engine()
    stream = Stream(engine)
    stream.hold(40.0, 0.5)
    stream.move(300.0, 2.0, start_mm=40.0)
    engine.sensor_restarted()
    stream.seq = 0
    stream.move(40.0, 1.0, start_mm=300.0)
    assert engine.set_open
    stream.hold(40.0, DEFAULTS.set_rest_s + 0.5)
    assert not engine.set_open
    assert [e.set_number for e in stream.events if isinstance(e, SetEnd)] == [1]


def test_after_a_pain_report_no_coaching_cue_and_after_one_that_ends_training_no_new_set() -> None:
    engine = make_engine()
    stream = Stream(engine)
    stream.hold(40.0, 0.5)
    engine.pain_reported(ends_training=False)
    stream.move(TRACE_SETTINGS.max_depth_mm + 30, 0.5, start_mm=40.0)  # fast and too deep
    stream.move(40.0, 0.5, start_mm=TRACE_SETTINGS.max_depth_mm + 30)
    stream.hold(40.0, 0.5)
    assert not [e for e in stream.events if isinstance(e, CueRaised)]
    assert [e for e in stream.events if isinstance(e, RepDone)]  # a dull ache: the set still counts
    assert lumbar_cues(stream.liftoff()) == ["warn"]  # the back leaving the pad is still told
    stream.hold(40.0, DEFAULTS.set_rest_s + 0.5)
    engine.pain_reported(ends_training=True)
    counted = len(stream.events)
    stream.move(300.0, 2.0, start_mm=40.0)
    stream.move(40.0, 1.0, start_mm=300.0)
    stream.hold(40.0, DEFAULTS.set_rest_s + 0.5)
    assert not engine.set_open and stream.events[counted:] == []


def test_a_sensor_restart_with_the_sled_held_down_is_not_taken_for_a_rest_at_the_top() -> None:
    engine = make_engine()
    stream = Stream(engine)
    stream.hold(40.0, 0.5)
    stream.move(300.0, 2.0, start_mm=40.0)
    stream.liftoff()
    engine.sensor_restarted()
    stream.seq = 0
    stream.hold(300.0, DEFAULTS.set_rest_s + 1.0)  # still, deep in the rep, for longer than a rest
    assert engine.set_open
    assert lumbar_cues(stream.liftoff()) == ["stop"]
    stream.move(40.0, 1.0, start_mm=300.0)
    assert not [e for e in stream.events if isinstance(e, RepDone)]  # a rep split by the restart is not counted
