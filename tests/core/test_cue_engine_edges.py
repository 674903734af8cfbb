"""The cue engine at its edges: exact numbers, boundaries and counts that the scenario tests leave loose.

Written against the survivors of mutation testing (docs/mutation.md): each test pins a behaviour a
member or an operator would notice if it changed: a set's summary, a cue's rep number, when a set
ends, what a fault report says, what a lift-off teaches.
"""

from dataclasses import dataclass, field

from kiosk.contract.base import encode
from kiosk.contract.config import CueThresholds, MachineGeometry
from kiosk.contract.events import CueRaised, RepDone, SensorFault, SetEnd
from kiosk.contract.profile import MachineSettings
from kiosk.contract.sensor import DepthSample, LiftoffEvent
from kiosk.core.cues import CueEngine
from kiosk.core.cues.gate import CueGate
from kiosk.core.cues.health import ACCEPT, DUPLICATE, OUT_OF_ORDER, RESTART, EventGuard, SeqGuard, StreamHealth
from kiosk.core.cues.replay import TICK_S, engine_for, replay
from kiosk.core.cues.reps import DESCENT, REP, TURN, RepTracker, _crossing, _peak
from kiosk.core.cues.safety import LEARNT_FLOOR_FRACTION, depth_floor, lowered_max_depth
from kiosk.sim.traces import TRACE_GEOMETRY, TRACE_SETTINGS
from tests.core.test_cue_engine import DEFAULTS, T0, Stream, in_lowering, make_engine

# -- replaying a trace ------------------------------------------------------------------


@dataclass
class Item:
    ts: float
    kind: str
    payload: bytes


@dataclass
class HandTrace:
    items: list[Item]
    settings: MachineSettings = field(default_factory=lambda: TRACE_SETTINGS)
    geometry: MachineGeometry = field(default_factory=lambda: TRACE_GEOMETRY)


@dataclass
class Listener:
    """Stands in for the engine: notes each call in order, says nothing."""

    calls: list[tuple[str, float]] = field(default_factory=list)

    def tick(self, now: float) -> list:
        self.calls.append(("tick", now))
        return []

    def on_depth(self, sample: DepthSample) -> list:
        self.calls.append(("depth", sample.ts))
        return []

    def on_liftoff(self, event: LiftoffEvent) -> list:
        self.calls.append(("liftoff", event.ts))
        return []


def _depth(seq: int, ts: float) -> Item:
    return Item(ts, "depth", encode(DepthSample(seq=seq, ts=ts, mm=62.0)))


def test_replay_ticks_the_clock_from_the_first_item_on_and_before_an_item_at_the_same_time() -> None:
    # Quarter seconds are exact in binary, so "the same time" is exactly the same float.
    trace = HandTrace([_depth(0, T0), _depth(1, T0 + 0.5), Item(T0 + 0.6, "event", encode(LiftoffEvent(
        seq=0, ts=T0 + 0.6, type="liftoff", zone="pelvis", state="start")))])
    listener = Listener()
    result = replay(trace, listener, tick_s=0.25)  # type: ignore[arg-type]
    assert listener.calls == [("depth", T0), ("tick", T0 + 0.25), ("tick", T0 + 0.5), ("depth", T0 + 0.5),
                              ("liftoff", T0 + 0.6)]
    assert result.rejected == 0 and result.events == []


def test_replay_of_an_empty_trace_says_nothing_and_the_kiosk_ticks_ten_times_a_second() -> None:
    listener = Listener()
    assert replay(HandTrace([]), listener).events == []  # type: ignore[arg-type]
    assert listener.calls == [] and TICK_S == 0.1


def test_a_trace_engine_takes_the_thresholds_and_session_it_is_given() -> None:
    thresholds = CueThresholds(repeat_s=7.0, lumbar_liftoffs_to_stop=1)
    engine = engine_for(HandTrace([]), thresholds, session="s-trace")  # type: ignore[arg-type]
    assert engine.thresholds == thresholds and engine.session == "s-trace"
    assert engine.settings == TRACE_SETTINGS and engine.geometry == TRACE_GEOMETRY


# -- what a set's summary says ------------------------------------------------------------


def _set_end(events: list) -> SetEnd:
    (end,) = [e for e in events if isinstance(e, SetEnd)]
    return end


def test_a_set_summary_counts_every_liftoff_and_the_deepest_reading() -> None:
    stream = Stream(make_engine())
    stream.hold(62.0, 1.0)
    stream.rep(depth=240.0)
    in_lowering(stream, 231.4)
    stream.liftoff("pelvis")
    stream.liftoff("pelvis", "end")  # an end is not a new lift-off
    stream.move(62.0, 1.8, 231.4)
    stream.hold(62.0, DEFAULTS.set_rest_s + 0.5)
    end = _set_end(stream.events)
    assert (end.set_number, end.reps, end.liftoffs, end.stopped, end.suggestions) == (1, 2, 1, False, [])
    assert end.max_depth_mm == 240.0 and end.session == "s1"


def test_sets_after_a_takeover_are_numbered_after_the_sessions_earlier_sets() -> None:
    engine = make_engine()
    engine = type(engine)(TRACE_SETTINGS, TRACE_GEOMETRY, DEFAULTS, session="s1", sets_before=3)
    stream = Stream(engine)
    stream.hold(62.0, 1.0)
    stream.rep()
    (end,) = engine.end(stream.ts)
    assert isinstance(end, SetEnd) and end.set_number == 4 and engine.sets == [end]
    assert not engine.set_open and engine.reps_in_set == 0


def test_ending_a_set_on_a_bad_clock_stamps_it_with_the_last_sample() -> None:
    stream = Stream(make_engine())
    in_lowering(stream)
    (end,) = stream.engine.end(-5.0)
    assert end.ts == stream.ts
    assert stream.engine.end(stream.ts) == []


def test_end_before_any_sample_closes_nothing() -> None:
    engine = make_engine()
    assert engine.end(T0) == [] and engine.sets == []


def test_a_set_ended_mid_rep_needs_the_sled_back_at_the_top_before_the_next_set() -> None:
    stream = Stream(make_engine())
    in_lowering(stream, 200.0)
    stream.engine.end(stream.ts)
    stream.move(240.0, 0.5, 200.0)  # still going down: not a new set
    assert not stream.engine.set_open
    stream.move(62.0, 1.5, 240.0)
    stream.hold(62.0, 0.6)
    in_lowering(stream, 200.0)
    assert stream.engine.set_open


# -- rep numbers and rep reports ------------------------------------------------------------


def test_reps_report_their_number_depth_and_times_rounded() -> None:
    stream = Stream(make_engine())
    stream.hold(62.0, 1.0)
    stream.rep(depth=250.04)
    stream.rep(depth=249.96)
    reps = [e for e in stream.events if isinstance(e, RepDone)]
    assert [r.rep for r in reps] == [1, 2]
    assert [r.depth_mm for r in reps] == [250.0, 250.0]
    for r in reps:
        assert r.session == "s1"
        assert r.eccentric_s == round(r.eccentric_s, 2) and 2.5 <= r.eccentric_s <= 3.2
        assert r.concentric_s == round(r.concentric_s, 2) and 1.5 <= r.concentric_s <= 2.2
    assert stream.engine.reps_in_set == 2


def test_a_cue_during_a_rep_names_that_rep_and_one_at_the_top_the_last_finished() -> None:
    stream = Stream(make_engine())
    stream.hold(62.0, 1.0)
    stream.rep()
    in_lowering(stream, 200.0)
    (during,) = stream.liftoff("lumbar")
    assert (during.cue, during.severity, during.rep) == ("liftoff_lumbar", "warn", 2)
    stream.move(62.0, 1.5, 200.0)
    stream.hold(62.0, 0.6)
    (at_top,) = stream.liftoff("pelvis")
    assert (at_top.cue, at_top.severity, at_top.rep) == ("liftoff_pelvis", "warn", 2)


# -- lift-offs ----------------------------------------------------------------------------


def test_a_liftoff_repeated_by_qos_1_counts_once() -> None:
    stream = Stream(make_engine())
    in_lowering(stream, 250.0)
    event = LiftoffEvent(seq=7, ts=stream.ts, type="liftoff", zone="lumbar", state="start")
    first = stream.engine.on_liftoff(event)
    assert [(c.cue, c.severity) for c in first] == [("liftoff_lumbar", "warn")]
    assert stream.engine.on_liftoff(event) == []  # the same message delivered twice
    assert stream.engine.health.duplicates == 1 and stream.engine.set_open


def test_the_stop_after_two_lumbar_liftoffs_comes_even_within_the_repeat_interval() -> None:
    stream = Stream(make_engine(repeat_s=15.0))
    in_lowering(stream, 250.0)
    (warn,) = stream.liftoff("lumbar")
    stream.depth(251.0)
    out = stream.liftoff("lumbar")
    assert (warn.severity, [type(e) for e in out]) == ("warn", [CueRaised, SetEnd])
    assert out[0].severity == "stop" and out[1].stopped and out[1].liftoffs == 2


def test_a_lumbar_liftoff_lowers_the_max_by_the_margin_below_where_it_lifted_and_keeps_the_target_short() -> None:
    stream = Stream(make_engine(liftoff_margin_mm=15.0))
    in_lowering(stream, 240.0)
    stream.liftoff("lumbar")
    assert stream.engine.max_depth_mm == 225.0
    assert stream.engine.target_depth_mm == min(TRACE_SETTINGS.target_depth_mm, 215.0)
    learnt = stream.engine.learnt_settings()
    assert (learnt.max_depth_mm, learnt.target_depth_mm) == (225.0, stream.engine.target_depth_mm)
    assert learnt.top_mm == TRACE_SETTINGS.top_mm and learnt.backrest_notch == TRACE_SETTINGS.backrest_notch
    assert stream.engine.lowered_at_mm == 240.0
    # A second lift-off, shallower, stops the set but does not lower the max again: once a session
    # (issue 22: lowered on every lift-off, a member's range only ever shrank).
    stream.move(200.0, 0.5, 240.0)
    stream.liftoff("lumbar")
    assert stream.engine.max_depth_mm == 225.0 and not stream.engine.set_open
    assert stream.engine.lowered_at_mm == 240.0


def test_a_liftoff_after_the_sensor_went_silent_does_not_move_the_max() -> None:
    engine = make_engine()
    stream = Stream(engine)
    in_lowering(stream, 240.0)
    engine.tick(stream.ts + DEFAULTS.sensor_lost_s + 0.1)
    stream.ts += DEFAULTS.sensor_lost_s + 0.1
    (cue,) = stream.liftoff("lumbar")
    assert (cue.cue, cue.severity) == ("liftoff_lumbar", "warn")
    assert engine.max_depth_mm == TRACE_SETTINGS.max_depth_mm


def test_no_too_deep_on_the_rep_where_the_back_lifted_even_past_the_new_max() -> None:
    stream = Stream(make_engine())
    in_lowering(stream, 240.0)
    stream.liftoff("lumbar")
    stream.move(TRACE_SETTINGS.max_depth_mm - 1, 0.5, 240.0)
    assert not any(isinstance(e, CueRaised) and e.cue == "too_deep" for e in stream.events)


# -- sensor faults: exact wording and counts --------------------------------------------------


def test_the_first_stall_is_reported_with_how_long_and_no_count() -> None:
    engine = make_engine()
    stream = Stream(engine)
    in_lowering(stream, 200.0)
    lost_at = stream.ts + DEFAULTS.sensor_lost_s
    assert engine.tick(lost_at - 0.01) == []
    out = engine.tick(lost_at)
    assert [type(e) for e in out] == [CueRaised, SensorFault]
    cue, fault = out
    assert (cue.cue, cue.severity, cue.ts, cue.rep) == ("sensor_lost", "warn", lost_at, 1)
    assert (fault.fault, fault.ts, fault.session) == ("stale", lost_at, "s1")
    assert fault.detail == f"no depth reading for {DEFAULTS.sensor_lost_s:.1f} s; live cues are off"
    assert engine.tick(lost_at + 5) == []  # once per silence


def test_stalls_within_ten_seconds_of_a_report_are_held_and_counted_in_the_next() -> None:
    engine = make_engine()  # sensor_lost_s 1.0
    stream = Stream(engine)
    in_lowering(stream, 200.0)
    faults: list[SensorFault] = []
    for _ in range(9):  # a stall every 1.3 s: at 0, 1.3, ... 10.4 s after the first
        faults += [e for e in engine.tick(stream.ts + 1.0) if isinstance(e, SensorFault)]
        stream.ts += 1.0
        stream.depth(200.0, dt=0.3)
    assert [round(f.ts - faults[0].ts, 1) for f in faults] == [0.0, 10.4]
    assert faults[0].detail == "no depth reading for 1.0 s; live cues are off"
    assert faults[1].detail == "no depth reading for 1.0 s; live cues are off (8 stalls since the last report)"


def test_out_of_range_is_reported_with_the_count_the_travel_and_the_last_reading() -> None:
    engine = make_engine()
    too_far = TRACE_GEOMETRY.travel_mm + 20.5
    first = engine.on_depth(DepthSample(seq=0, ts=T0, mm=too_far))
    assert [(f.fault, f.ts, f.session) for f in first] == [("out_of_range", T0, "s1")]
    assert first[0].detail == (f"1 depth reading(s) outside 0-{TRACE_GEOMETRY.travel_mm:g} mm of travel, "
                               f"last {too_far:.0f} mm")
    assert engine.on_depth(DepthSample(seq=1, ts=T0 + 9.99, mm=-21.0)) == []
    again = engine.on_depth(DepthSample(seq=2, ts=T0 + 10.0, mm=-30.0))
    assert again[0].detail.startswith("2 depth reading(s)") and again[0].detail.endswith("last -30 mm")


def test_readings_just_inside_the_tolerance_are_believed() -> None:
    engine = make_engine()
    assert engine.on_depth(DepthSample(seq=0, ts=T0, mm=-20.0)) == []
    deepest = engine.on_depth(DepthSample(seq=1, ts=T0 + 0.02, mm=TRACE_GEOMETRY.travel_mm + 20.0))
    assert not any(isinstance(e, SensorFault) for e in deepest)
    assert engine.health.out_of_range == 0 and engine.last_depth_mm == TRACE_GEOMETRY.travel_mm + 20.0


def test_a_restart_seen_in_the_seq_is_counted_and_the_samples_go_on() -> None:
    engine = make_engine()
    engine.on_depth(DepthSample(seq=5000, ts=T0, mm=62.0))
    engine.on_depth(DepthSample(seq=3, ts=T0 + 1, mm=64.0))
    assert engine.health.restarts == 1 and engine.last_depth_mm == 64.0


# -- a sensor restart announced by the kiosk -----------------------------------------------------


def test_a_sensor_restart_mid_set_keeps_the_set_open_and_drops_the_rep_in_progress() -> None:
    # The member never racked the weight: the set goes on (a second lumbar lift-off after the restart must
    # still stop it), but the half rep cannot be finished on a clock that cannot be compared.
    stream = Stream(make_engine())
    stream.hold(62.0, 1.0)
    stream.rep()
    in_lowering(stream, 200.0)
    assert stream.engine.sensor_restarted() == []
    assert stream.engine.set_open and stream.engine.reps_in_set == 1 and stream.engine.last_depth_mm is None
    assert stream.engine.health.restarts == 1 and stream.engine.phase == "top"
    # The new stream counts from 0 on a clock of its own; its reps add to the same set.
    fresh = Stream(stream.engine, ts=T0 - 3600)
    fresh.hold(62.0, 1.0)
    fresh.rep()
    assert stream.engine.set_open and stream.engine.reps_in_set == 2
    (the_set,) = stream.engine.end(fresh.ts)
    assert the_set.set_number == 1 and the_set.reps == 2


def test_a_sensor_restart_between_sets_ends_nothing() -> None:
    engine = make_engine()
    engine.on_depth(DepthSample(seq=0, ts=T0, mm=62.0))
    assert engine.sensor_restarted() == []
    assert engine.sets == [] and engine.health.restarts == 1
    assert engine.on_depth(DepthSample(seq=0, ts=T0 - 100, mm=63.0)) == []
    assert engine.last_depth_mm == 63.0 and engine.health.dropped == 0


# -- the parts: reps out of the depth stream ---------------------------------------------------


def _feed(tracker: RepTracker, samples: list[tuple[float, float]]) -> list[tuple[int, str]]:
    return [(tracker.update(ts, mm), tracker.phase) for ts, mm in samples]


def test_a_rep_is_timed_from_the_band_around_each_turning_point() -> None:
    tracker = RepTracker(hysteresis_mm=15.0)  # a band of 5 mm
    steps = _feed(tracker, [
        (0.0, 62.0), (0.1, 64.0), (0.2, 77.0),  # 77 is not past 62 + 15: still at the top
        (0.3, 80.0),  # the descent: it left the band at 0.1
        (0.5, 150.0), (0.7, 200.0), (0.8, 199.0),  # deepest at 0.7
        (1.1, 198.0),  # 0.4 s without going deeper: resting at the bottom
        (1.2, 185.0), (1.3, 184.9),  # 15 mm up from 200 is not yet a turn; past it is
        (1.4, 120.0), (1.6, 70.0), (1.8, 63.0), (2.0, 63.5),
        (2.2, 63.0),  # 0.4 s within the band: back at the top since 1.8
    ])
    assert steps == [(0, "top"), (0, "top"), (0, "top"), (DESCENT, "lowering"), (0, "lowering"), (0, "lowering"),
                     (0, "lowering"), (0, "bottom"), (0, "bottom"), (TURN, "pushing"), (0, "pushing"),
                     (0, "pushing"), (0, "pushing"), (0, "pushing"), (REP, "top")]
    rep = tracker.finished
    assert rep is not None and rep is tracker.rep
    assert (rep.start_ts, rep.start_mm, rep.depth_mm, rep.bottom_ts) == (0.1, 62.0, 200.0, 0.7)
    assert abs(rep.eccentric_s - 0.6) < 1e-9 and abs(rep.concentric_s - 1.1) < 1e-9
    assert tracker.top_since == 1.8


def test_a_rep_pushed_straight_into_the_next_keeps_its_own_numbers() -> None:
    tracker = RepTracker(hysteresis_mm=15.0)
    _feed(tracker, [(0.0, 62.0), (0.5, 80.0), (1.0, 200.0), (1.5, 180.0), (2.0, 100.0), (2.5, 64.0)])
    first = tracker.rep
    assert tracker.update(2.6, 79.0) == 0  # exactly 15 mm below the shallowest point: not yet
    flags = tracker.update(2.7, 79.5)  # past it: down again at once
    assert flags == REP | DESCENT and tracker.phase == "lowering"
    assert tracker.finished is first and tracker.rep is not first
    assert first is not None and first.depth_mm == 200.0 and abs(first.concentric_s - 1.5) < 1e-9
    assert tracker.rep is not None and (tracker.rep.start_mm, tracker.rep.start_ts) == (64.0, 2.5)


def test_a_dropped_rep_turns_and_comes_back_up_without_being_counted() -> None:
    tracker = RepTracker(hysteresis_mm=15.0)
    _feed(tracker, [(0.0, 62.0), (0.5, 80.0), (1.0, 200.0)])
    tracker.drop_rep()
    assert tracker.update(1.5, 180.0) == TURN
    flags = [tracker.update(ts, mm) for ts, mm in [(2.0, 100.0), (2.5, 64.0), (3.0, 64.0)]]
    assert flags == [0, 0, 0] and tracker.phase == "top" and tracker.finished is None


def test_a_sharp_turn_reads_as_its_deceleration() -> None:
    # Constant deceleration of 8000 mm/s2 around a turn at 250 mm, sampled at 100 Hz.
    tracker = RepTracker(hysteresis_mm=15.0)
    tracker.update(0.0, 62.0)
    for k in range(1, 200):  # bounded: a broken tracker must fail here, not loop
        ts = k / 100
        t = ts - 1.0
        mm = 250.0 - 4000.0 * t * t if abs(t) < 0.15 else 250.0 - 4000.0 * 0.15 ** 2 - 1200.0 * (abs(t) - 0.15)
        if tracker.update(ts, max(mm, 62.0)) & TURN:
            break
    rep = tracker.rep
    assert rep is not None and rep.depth_mm == 250.0 and rep.bottom_ts == 1.0
    assert 7500.0 <= rep.reversal_mm_s2 <= 8500.0, rep.reversal_mm_s2


def test_a_turn_with_no_samples_before_its_deepest_has_no_reversal() -> None:
    tracker = RepTracker(hysteresis_mm=15.0)
    _feed(tracker, [(0.0, 62.0), (0.1, 250.0)])  # the descent sample is the deepest
    assert tracker.update(0.2, 200.0) == TURN
    assert tracker.rep is not None and tracker.rep.reversal_mm_s2 == 0.0


def test_the_parabola_puts_back_a_peak_missed_between_samples_within_its_limit() -> None:
    assert _peak((0.0, 0.0), (1.0, 10.0), (2.0, 0.0), 100.0) == 10.0
    assert abs(_peak((0.0, 0.0), (1.0, 10.0), (2.0, 8.0), 100.0) - 32 / 3) < 1e-9
    assert _peak((0.0, 0.0), (1.0, 10.0), (2.0, 8.0), 0.5) == 10.5
    assert _peak((0.0, 10.0), (1.0, 5.0), (2.0, 10.0), 100.0) == 5.0  # a dip, not a peak
    assert _peak((1.0, 0.0), (1.0, 10.0), (2.0, 0.0), 100.0) == 10.0  # times not increasing
    assert _peak((0.0, 0.0), (1.0, 10.0), (2.0, 20.0), 100.0) == 10.0  # a straight line has no peak
    # Only the shape counts, not when: the same samples a few seconds later give the same peak.
    assert abs(_peak((5.0, 0.0), (6.0, 10.0), (7.0, 8.0), 100.0) - 32 / 3) < 1e-9
    # Unevenly spaced: the parabola through them peaks at 12.73 mm, 0.93 s after the first.
    assert abs(_peak((5.0, 0.0), (5.5, 10.0), (6.5, 8.0), 100.0) - 12.7348485) < 1e-6


def test_a_crossing_is_interpolated_between_two_samples() -> None:
    assert _crossing((0.0, 0.0), (2.0, 10.0), 5.0) == 1.0
    assert _crossing((1.0, 0.0), (3.0, 10.0), 2.5) == 1.5
    assert _crossing((0.0, 4.0), (2.0, 4.0), 4.0) == 2.0


# -- the parts: the sequence guards and the gate ------------------------------------------------


def test_the_seq_guard_takes_each_seq_once_in_order_and_notices_a_restart() -> None:
    guard = SeqGuard()
    assert guard.admit(5000, 10.0) == ACCEPT  # whatever the first one is
    assert guard.admit(5000, 10.0) == DUPLICATE
    assert guard.admit(4999, 9.9) == OUT_OF_ORDER
    assert guard.admit(5001, 10.1) == ACCEPT
    assert guard.admit(1000, 10.0) == OUT_OF_ORDER  # near 0 but older: a late message, not a restart
    assert guard.admit(1000, 12.0) == RESTART
    assert guard.admit(1001, 12.01) == ACCEPT
    assert guard.admit(1001 + 1000 + 1000, 13.01) == ACCEPT  # as far ahead as a second at 1000 Hz allows
    assert guard.admit(3001 + 1001, 13.01) == OUT_OF_ORDER  # one more than that: forged
    assert guard.admit(1001, 20.0) == OUT_OF_ORDER  # past the restart window


def test_the_seq_guard_checks_the_pace_from_seq_0_on() -> None:
    guard = SeqGuard()
    assert guard.admit(0, 10.0) == ACCEPT
    assert guard.admit(5000, 10.0) == OUT_OF_ORDER


def test_the_seq_guard_allows_no_pace_for_a_sample_stamped_before_the_last() -> None:
    guard = SeqGuard()
    guard.admit(0, 100.0)
    assert guard.admit(1000, 90.0) == ACCEPT  # within the slack, whatever the time
    assert guard.admit(2001, 80.0) == OUT_OF_ORDER


def test_the_event_guard_forgets_after_its_memory() -> None:
    guard = EventGuard(memory=3)
    assert [guard.admit(s, 1.0) for s in (1, 2, 1, 3)] == [ACCEPT, ACCEPT, DUPLICATE, ACCEPT]
    assert guard.admit(1, 2.0) == ACCEPT  # same seq, another time: another event
    assert guard.admit(1, 1.0) == ACCEPT  # three newer ones since: forgotten
    assert EventGuard().admit(9, 1.0) == ACCEPT


def test_stream_health_counts_what_was_dropped() -> None:
    health = StreamHealth(duplicates=2, out_of_order=3, out_of_range=4, restarts=1)
    assert health.dropped == 5 and StreamHealth().dropped == 0


def test_the_gate_reopens_exactly_at_the_repeat_interval_and_after_a_clock_jump_back() -> None:
    gate = CueGate(repeat_s=6.0)
    assert gate.allow("shallow", 100.0)
    assert not gate.allow("shallow", 105.9)
    assert gate.allow("bounce", 105.9)  # each cue has its own interval
    assert gate.allow("shallow", 106.0)
    assert gate.allow("shallow", 50.0)  # the clock went back: shown rather than muted
    assert not gate.allow("shallow", 50.0)  # the same moment twice is within the interval
    gate.note("lockout", 200.0)  # shown past the gate: the interval counts from it
    assert not gate.allow("lockout", 205.0) and gate.allow("lockout", 206.0)


# -- the parts: what a lift-off teaches -------------------------------------------------------


def test_the_learnt_floor_is_halfway_and_a_liftoff_lowers_the_max_by_its_margin() -> None:
    assert LEARNT_FLOOR_FRACTION == 0.5
    assert depth_floor(40.0, 280.0) == 160.0
    assert lowered_max_depth(280.0, 250.0, 30.0, 160.0) == 220.0
    assert lowered_max_depth(280.0, 175.0, 30.0, 160.0) == 160.0  # never past the floor
    assert lowered_max_depth(200.0, 250.0, 30.0, 160.0) == 200.0  # never deeper than before


# -- second pass: what the first full mutation run left standing ----------------------------------


def _into_a_set(engine: CueEngine, ts: float = T0) -> float:
    """Three samples a quarter second apart (exact in binary) that open a set; returns the last time."""
    for seq, mm in enumerate((62.0, 120.0, 180.0)):
        engine.on_depth(DepthSample(seq=seq, ts=ts + 0.25 * seq, mm=mm))
    assert engine.set_open
    return ts + 0.5


def _stall_at(engine: CueEngine, last_ts: float, silence_s: float, seq: int) -> list[SensorFault]:
    """Silence after `last_ts` for `silence_s`, then one sample a quarter second later."""
    faults = [e for e in engine.tick(last_ts + silence_s) if isinstance(e, SensorFault)]
    engine.on_depth(DepthSample(seq=seq, ts=last_ts + silence_s + 0.25, mm=180.0))
    return faults


def test_a_stall_exactly_ten_seconds_after_the_last_report_is_reported_with_its_count() -> None:
    engine = make_engine()  # sensor_lost_s 1.0
    ts = _into_a_set(engine)
    faults = _stall_at(engine, ts, 1.0, 3)  # reported at ts + 1
    faults += _stall_at(engine, ts + 1.25, 3.75, 4)  # at ts + 5: held
    faults += _stall_at(engine, ts + 5.25, 5.75, 5)  # at ts + 11: ten seconds after the report
    assert [(f.ts - ts, f.detail.endswith("(2 stalls since the last report)")) for f in faults] == [
        (1.0, False), (11.0, True)]


def test_a_sample_stamped_in_the_past_cannot_make_a_second_stall_report_at_the_same_moment() -> None:
    engine = make_engine()
    ts = _into_a_set(engine)
    (first,) = [e for e in engine.tick(ts + 1.0) if isinstance(e, SensorFault)]
    # A forged (or replayed) sample with a newer seq but an old time: the stream looks stalled again.
    engine.on_depth(DepthSample(seq=3, ts=ts, mm=180.0))
    assert not any(isinstance(e, SensorFault) for e in engine.tick(ts + 1.0))
    assert first.ts == ts + 1.0


def test_stalls_less_than_a_second_apart_are_still_one_report() -> None:
    engine = make_engine(sensor_lost_s=0.25)
    ts = _into_a_set(engine)
    faults = _stall_at(engine, ts, 0.25, 3)
    faults += _stall_at(engine, ts + 0.5, 0.25, 4)  # half a second after the first report
    assert len(faults) == 1


def test_two_out_of_range_readings_at_the_same_time_are_one_report() -> None:
    engine = make_engine()
    too_far = TRACE_GEOMETRY.travel_mm + 100
    assert len(engine.on_depth(DepthSample(seq=0, ts=T0, mm=too_far))) == 1
    assert engine.on_depth(DepthSample(seq=1, ts=T0, mm=too_far)) == []
    assert engine.health.out_of_range == 2


def test_every_restart_is_counted_whether_announced_or_seen_in_the_seq() -> None:
    engine = make_engine()
    engine.on_depth(DepthSample(seq=5000, ts=T0, mm=62.0))
    engine.on_depth(DepthSample(seq=1, ts=T0 + 1, mm=62.0))  # seen in the seq
    engine.on_depth(DepthSample(seq=1500, ts=T0 + 2, mm=62.0))
    engine.on_depth(DepthSample(seq=2, ts=T0 + 3, mm=62.0))  # and again
    assert engine.health.restarts == 2
    engine.sensor_restarted()
    engine.sensor_restarted()
    assert engine.health.restarts == 4


def test_a_restarted_node_counting_its_liftoffs_from_0_again_is_heard() -> None:
    engine = make_engine()
    ts = _into_a_set(engine)
    first = engine.on_liftoff(LiftoffEvent(seq=0, ts=ts, type="liftoff", zone="lumbar", state="start"))
    engine.on_depth(DepthSample(seq=3, ts=ts + 0.25, mm=200.0))
    # The same seq from a node that restarted in between: another lift-off, at another time.
    second = engine.on_liftoff(LiftoffEvent(seq=0, ts=ts + 0.25, type="liftoff", zone="lumbar", state="start"))
    assert [c.severity for c in first] == ["warn"]
    assert [type(e) for e in second] == [CueRaised, SetEnd] and second[0].severity == "stop"


def test_a_set_ended_by_the_member_is_stamped_when_they_ended_it() -> None:
    stream = Stream(make_engine())
    in_lowering(stream)
    (end,) = stream.engine.end(stream.ts + 2.0)
    assert end.ts == stream.ts + 2.0


def test_a_rep_report_rounds_depth_to_a_tenth_and_times_to_a_hundredth() -> None:
    engine = make_engine()
    samples = [(0.0, 62.0), (0.1, 62.0), (0.4, 120.0), (1.5, 200.0), (2.4456, 250.26), (2.6, 249.0),
               (2.8, 230.0), (3.5, 120.0), (4.1234, 62.0), (4.3, 62.5), (4.5, 62.0)]
    out: list = []
    for seq, (t, mm) in enumerate(samples):
        out += engine.on_depth(DepthSample(seq=seq, ts=T0 + t, mm=mm))
    (rep,) = [e for e in out if isinstance(e, RepDone)]
    assert (rep.rep, rep.depth_mm, rep.eccentric_s, rep.concentric_s) == (1, 250.3, 2.35, 1.68)


def test_the_learnt_max_is_rounded_to_a_tenth() -> None:
    stream = Stream(make_engine(liftoff_margin_mm=30.0))
    in_lowering(stream, 240.37)
    stream.liftoff("lumbar")
    assert stream.engine.max_depth_mm == 210.4


def test_a_max_learnt_below_a_target_already_short_enough_is_saved_with_the_target_kept() -> None:
    stream = Stream(make_engine(liftoff_margin_mm=30.0))
    in_lowering(stream, 290.0)
    stream.liftoff("lumbar")
    learnt = stream.engine.learnt_settings()
    assert (learnt.max_depth_mm, learnt.target_depth_mm) == (260.0, TRACE_SETTINGS.target_depth_mm)


def test_a_target_saved_with_hundredths_is_saved_back_to_the_tenth_the_engine_uses() -> None:
    settings = TRACE_SETTINGS.model_copy(update={"target_depth_mm": 215.05})
    engine = CueEngine(settings, TRACE_GEOMETRY, DEFAULTS, session="s1")
    assert engine.target_depth_mm == 215.0
    assert engine.learnt_settings().target_depth_mm == 215.0


def test_a_lumbar_liftoff_in_the_next_set_is_shown_even_within_the_repeat_interval() -> None:
    stream = Stream(make_engine(set_rest_s=0.5, repeat_s=15.0))
    in_lowering(stream, 220.0)
    (first,) = stream.liftoff("lumbar")
    stream.move(62.0, 1.0, 220.0)
    stream.hold(62.0, 1.0)
    assert not stream.engine.set_open and len(stream.engine.sets) == 1
    in_lowering(stream, 200.0)  # a new set, a few seconds after the first warning
    (second,) = stream.liftoff("lumbar")
    assert (first.severity, second.severity, second.cue) == ("warn", "warn", "liftoff_lumbar")
    assert second.ts - first.ts < 15.0


def test_pushing_part_way_up_after_a_stop_and_lowering_again_is_not_a_new_set() -> None:
    stream = Stream(make_engine())
    in_lowering(stream, 250.0)
    stream.liftoff("lumbar")
    stream.liftoff("lumbar")  # the stop, mid-rep
    assert not stream.engine.set_open
    stream.move(150.0, 1.0, 250.0)  # part way up ...
    stream.move(220.0, 1.0, 150.0)  # ... and down again without reaching the top
    assert not stream.engine.set_open and len(stream.engine.sets) == 1
    stream.move(62.0, 1.5, 220.0)
    stream.hold(62.0, 0.6)
    in_lowering(stream, 200.0)  # back at the top first: now a descent starts a set
    assert stream.engine.set_open


def test_a_fast_push_is_timed_as_it_was() -> None:
    tracker = RepTracker(hysteresis_mm=15.0)
    _feed(tracker, [(0.0, 62.0), (0.2, 80.0), (0.4, 200.0), (0.5, 180.0), (0.7, 100.0), (0.9, 63.0), (1.3, 63.0)])
    rep = tracker.finished
    assert rep is not None and abs(rep.concentric_s - 0.5) < 1e-9 and abs(rep.eccentric_s - 0.4) < 1e-9


def test_a_fresh_engine_has_no_reps_and_no_set() -> None:
    engine = make_engine()
    assert (engine.reps_in_set, engine.set_open, engine.sets, engine.last_depth_mm) == (0, False, [], None)


def _lockout_after(engine: CueEngine, readings: list[float]) -> list[str]:
    stream = Stream(engine)
    stream.hold(62.0, 1.0)
    stream.rep()
    before = len(stream.events)
    for mm in readings:
        stream.depth(mm)
    return [e.cue for e in stream.events[before:] if isinstance(e, CueRaised)]


def test_lockout_takes_three_readings_past_the_line_and_the_line_itself_is_not_past() -> None:
    # The line: the top position, less the margin and a third of the hysteresis (60 - 0 - 5 = 55 mm).
    assert _lockout_after(make_engine(), [55.0, 55.0, 55.0, 55.0]) == []
    assert _lockout_after(make_engine(), [54.9, 54.9]) == []
    assert _lockout_after(make_engine(), [54.9, 54.9, 54.9]) == ["lockout"]
    assert _lockout_after(make_engine(), [54.9, 54.9, 56.0, 54.9, 54.9]) == []  # a reading back resets it
    assert _lockout_after(make_engine(), [55.5, 55.5, 55.5]) == []
    # A margin moves the line further out: 60 - 10 - 5 = 45 mm.
    assert _lockout_after(make_engine(lockout_margin_mm=10.0), [50.0, 50.0, 50.0]) == []
    assert _lockout_after(make_engine(lockout_margin_mm=10.0), [44.9, 44.9, 44.9]) == ["lockout"]


def test_depth_is_reached_at_the_tolerance_and_too_deep_only_past_the_max() -> None:
    # The target 250 less the 5 mm tolerance is 245: reaching exactly 245 is reaching it.
    stream = Stream(make_engine())
    in_lowering(stream, 245.0)
    assert ("depth_reached", "info") in {(e.cue, e.severity) for e in stream.events if isinstance(e, CueRaised)}
    # Exactly at the max is not past it.
    stream = Stream(make_engine())
    in_lowering(stream, TRACE_SETTINGS.max_depth_mm)
    stream.hold(TRACE_SETTINGS.max_depth_mm, 0.5)
    assert not any(isinstance(e, CueRaised) and e.cue == "too_deep" for e in stream.events)
    stream.depth(TRACE_SETTINGS.max_depth_mm + 0.1)
    assert [e.cue for e in stream.events if isinstance(e, CueRaised) and e.cue == "too_deep"] == ["too_deep"]


def test_too_deep_is_said_once_in_a_rep_however_long_the_sled_stays_past_the_max() -> None:
    stream = Stream(make_engine(repeat_s=2.0))
    in_lowering(stream, 310.0)
    stream.hold(311.0, 5.0)  # past the max for more than twice the repeat interval
    assert sum(isinstance(e, CueRaised) and e.cue == "too_deep" for e in stream.events) == 1


def test_a_gap_while_lowering_drops_that_rep_and_a_gap_near_the_top_of_a_push_does_not() -> None:
    engine = make_engine()
    stream = Stream(engine)
    stream.hold(62.0, 1.0)
    stream.rep()
    in_lowering(stream, 200.0)
    engine.tick(stream.ts + DEFAULTS.sensor_lost_s + 0.1)  # silent mid-lowering
    stream.ts += DEFAULTS.sensor_lost_s + 0.1
    stream.move(250.0, 0.5, 200.0)
    stream.move(62.0, 1.8, 250.0)
    stream.hold(62.0, 0.8)
    assert engine.reps_in_set == 1, "a lowering timed across a gap is no rep"
    in_lowering(stream, 250.0)
    stream.move(70.0, 1.5, 250.0)
    engine.tick(stream.ts + DEFAULTS.sensor_lost_s + 0.1)  # silent just before the top
    stream.ts += DEFAULTS.sensor_lost_s + 0.1
    stream.hold(62.0, 0.8)
    assert engine.reps_in_set == 2, "a push nearly home before the gap still counts"


def test_a_good_depth_held_back_by_the_repeat_interval_is_said_while_the_member_rests_at_the_bottom() -> None:
    stream = Stream(make_engine(repeat_s=6.0))
    stream.hold(62.0, 1.0)
    stream.rep()  # "good depth" on the way down
    stream.move(250.0, 2.8, 62.0)  # the next rep reaches it again within six seconds: held back
    reached = [e.ts for e in stream.events if isinstance(e, CueRaised) and e.cue == "depth_reached"]
    assert len(reached) == 1 and stream.ts - reached[0] < 6.0
    stream.hold(250.0, 2.0)  # resting at the bottom past the interval
    reached = [e.ts for e in stream.events if isinstance(e, CueRaised) and e.cue == "depth_reached"]
    assert len(reached) == 2 and 6.0 <= reached[1] - reached[0] < 6.1
    assert stream.engine.phase == "bottom"


def test_a_rep_starts_where_the_sled_last_was_within_a_third_of_the_hysteresis_of_the_top() -> None:
    for near in (66.5, 67.0):  # within the 5 mm band above the shallowest point, up to its edge
        tracker = RepTracker(hysteresis_mm=15.0)
        _feed(tracker, [(0.0, 62.0), (0.1, near), (0.2, 70.0), (0.3, 80.0)])
        assert tracker.rep is not None and tracker.rep.start_ts == 0.1


def test_a_turn_right_after_the_descent_sample_still_reads_its_deceleration() -> None:
    tracker = RepTracker(hysteresis_mm=15.0)
    _feed(tracker, [(0.0, 62.0), (0.1, 80.0), (0.2, 250.0), (0.3, 240.0)])
    assert tracker.update(0.4, 232.0) == TURN
    assert tracker.rep is not None and tracker.rep.reversal_mm_s2 > 0


def test_the_liftoff_guard_remembers_the_last_64_events() -> None:
    guard = EventGuard()
    guard.admit(0, 1.0)
    for seq in range(1, 64):
        guard.admit(seq, 1.0)
    assert guard.admit(0, 1.0) == DUPLICATE  # 63 others since: still remembered
    guard = EventGuard()
    for seq in range(65):
        guard.admit(seq, 1.0)
    assert guard.admit(0, 1.0) == ACCEPT  # 64 others since: forgotten
