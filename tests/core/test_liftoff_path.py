"""The lift-off's own path through the core: its lane of the inbox, the sensor clock that no single sample
moves, and a lift-off that counts while depth is silent. In-process, with real threads and no sleeps."""

import threading

from kiosk.contract.config import CueThresholds
from kiosk.contract.events import CueRaised, SetEnd
from kiosk.contract.sensor import DepthSample, LiftoffEvent
from kiosk.core.cues import CueEngine
from kiosk.core.inbox import MAX_SAMPLES, Inbox
from kiosk.core.sensor.clock import NEW_STREAM_SAMPLES, TAKEOVER_SILENCE_S, SensorClock
from kiosk.sim.traces import TRACE_GEOMETRY, TRACE_SETTINGS
from tests.support.helpers import eventually

T0 = 1_764_000_000.0


class HeldCore:
    """An inbox whose core thread is held in a job until `release`, so a test can queue what it likes first."""

    def __init__(self) -> None:
        self.inbox = Inbox(on_tick=lambda _now: None)
        self.ran: list[str] = []
        self._gate = threading.Event()
        self._holding = threading.Event()
        self.inbox.start()
        self.hold()

    def hold(self) -> None:
        self._gate.clear()
        self._holding.clear()
        self.inbox.post(self._hold)
        eventually(self._holding.is_set, what="the core thread held")

    def _hold(self) -> None:
        self._holding.set()
        self._gate.wait(10)

    def post(self, name: str, lane: str = "jobs") -> None:
        self.inbox.post(lambda: self.ran.append(name), lane)  # type: ignore[arg-type]

    def let_go(self) -> None:
        self._gate.set()

    def release(self, expect: int) -> list[str]:
        self.let_go()
        eventually(lambda: len(self.ran) >= expect, what=f"{expect} jobs run")
        self.inbox.stop()
        return self.ran


def test_a_liftoff_runs_before_every_job_and_every_sample_that_came_after_it():
    core = HeldCore()
    core.post("sample before", "samples")
    core.post("scan", "jobs")
    core.post("liftoff", "urgent")
    for n in range(3):
        core.post(f"sample after {n}", "samples")
    ran = core.release(6)
    # The sample that came before places the lift-off; nothing that came after it runs first.
    assert ran[:2] == ["sample before", "liftoff"]
    assert sorted(ran[2:]) == sorted(["scan", "sample after 0", "sample after 1", "sample after 2"])


def test_a_flood_of_samples_sheds_its_oldest_counts_them_and_never_a_liftoff_or_a_job():
    core = HeldCore()
    flood = MAX_SAMPLES * 5
    for n in range(flood):
        core.post(f"sample {n}", "samples")
    core.post("liftoff", "urgent")
    core.post("command", "jobs")
    ran = core.release(MAX_SAMPLES + 2)
    assert core.inbox.shed == flood - MAX_SAMPLES
    assert core.inbox.overflows == 0
    assert "liftoff" in ran and "command" in ran
    kept = [name for name in ran if name.startswith("sample")]
    assert kept == [f"sample {n}" for n in range(flood - MAX_SAMPLES, flood)], "the newest are kept, in order"


def test_after_a_flood_full_of_liftoffs_the_next_real_sample_runs_at_once():
    core = HeldCore()
    # Forty lift-offs, each behind a full lane of flood: their context is 16,000 samples, four times the burst.
    for n in range(40):
        if n:
            core.hold()
        for k in range(MAX_SAMPLES):
            core.post(f"flood {n}.{k}", "samples")
        core.post(f"liftoff {n}", "urgent")
        core.let_go()
        eventually(lambda n=n: f"liftoff {n}" in core.ran, what=f"lift-off {n} run")
    # The budget owes nothing for them: the sensor's next sample runs at once, not half a minute later
    # (at 500 samples/s a debt of 12,000 would take 24 s to pay off).
    core.post("real sample", "samples")
    eventually(lambda: "real sample" in core.ran, timeout=5.0, what="the real sample run")
    core.inbox.stop()


class Feed:
    """A sensor clock fed as the kiosk feeds it: `ts` and `seq` of each depth sample, and when it came."""

    def __init__(self) -> None:
        self.clock = SensorClock()
        self.at = T0

    def depth(self, seq: int, ts: float, after_s: float = 0.01, shed: int = 0) -> bool:
        self.at += after_s
        ok = self.clock.believable(ts, self.at, seq, shed)
        if ok:
            self.clock.settle(ts, self.at, seq)
        return ok


def test_one_forged_future_sample_every_2_s_never_moves_the_clock_nor_locks_the_real_sensor_out():
    feed = Feed()
    refused_real = 0
    for n in range(1000):  # ten seconds of a 100 Hz node
        ts = T0 + n * 0.01
        if n % 200 == 199:
            assert not feed.depth(0, feed.at + 4.5, after_s=0.0), "the forgery is refused"
        refused_real += not feed.depth(n, ts)
    assert refused_real == NEW_STREAM_SAMPLES - 1, "only the first samples, while the stream formed"
    assert feed.clock.refused == 5 and feed.clock.restarts == 0
    assert abs(feed.clock.offset) < 0.05


def test_a_new_stream_is_believed_after_several_consistent_samples_and_takes_over_only_a_silent_one():
    feed = Feed()
    for n in range(100):
        feed.depth(n, T0 + n * 0.01)
    # Another node's stream, a minute behind, interleaved with the live one: never believed.
    for n in range(100, 200):
        assert not feed.depth(n - 100, T0 - 60 + n * 0.01, after_s=0.0)
        assert feed.depth(n, T0 + n * 0.01)
    # The live one stops (its node rebooted with its clock behind): after a silence, a few agreeing samples.
    feed.at += TAKEOVER_SILENCE_S
    believed = [feed.depth(n, T0 - 50 + n * 0.01) for n in range(NEW_STREAM_SAMPLES)]
    assert believed == [False] * (NEW_STREAM_SAMPLES - 1) + [True]
    assert feed.clock.just_restarted and feed.clock.restarts == 1
    assert feed.depth(NEW_STREAM_SAMPLES, T0 - 50 + NEW_STREAM_SAMPLES * 0.01)


def test_while_the_core_sheds_a_flood_no_stream_takes_over_the_believed_one_however_long_it_seems_silent():
    feed = Feed()
    for n in range(50):
        feed.depth(n, T0 + n * 0.01)
    shed = 0
    for n in range(400):  # the flood's samples the core got to, consistent among themselves, 30 s behind
        shed += 25  # and the 25 it shed before each, real ones among them
        assert not feed.depth(n * 25, T0 - 30 + n * 0.002, after_s=0.002, shed=shed)
    assert feed.clock.restarts == 0 and not feed.clock.just_restarted
    # A real sample that made it through still fits: the sensor was never locked out.
    assert feed.depth(51, T0 + 0.51 + 0.8, after_s=0.0, shed=shed)


def test_the_first_stream_forms_between_the_samples_of_a_flood():
    feed = Feed()
    for n in range(40):
        for junk in range(3):  # a flood's samples, all stamped alike, between every real one
            feed.depth(junk, T0 - 30, after_s=0.0001)
        feed.depth(n, T0 + n * 0.02, after_s=0.02)
    assert feed.clock.held >= NEW_STREAM_SAMPLES
    assert abs(feed.clock.sensor_time(feed.at) - (T0 + 39 * 0.02)) < 0.1, "the real stream's clock"


def test_liftoffs_count_and_stop_a_set_while_depth_is_silent():
    engine = CueEngine(TRACE_SETTINGS, TRACE_GEOMETRY, CueThresholds(), session="s1")
    out = []
    for seq, ts in ((1, T0), (3, T0 + 4.0)):
        out += engine.on_liftoff(LiftoffEvent(seq=seq, ts=ts, type="liftoff", zone="lumbar", state="start"))
        out += engine.tick(ts + 2.0)  # no depth: nothing can say the member rested
    assert [(e.cue, e.severity) for e in out if isinstance(e, CueRaised)] == [
        ("liftoff_lumbar", "warn"), ("liftoff_lumbar", "stop")]
    ends = [e for e in out if isinstance(e, SetEnd)]
    assert len(ends) == 1 and ends[0].stopped and ends[0].liftoffs == 2


def test_with_depth_at_the_top_a_liftoff_outside_a_set_is_someone_getting_in():
    engine = CueEngine(TRACE_SETTINGS, TRACE_GEOMETRY, CueThresholds(), session="s1")
    for n in range(50):
        engine.on_depth(DepthSample(seq=n, ts=T0 + n * 0.02, mm=TRACE_SETTINGS.top_mm))
    assert engine.on_liftoff(LiftoffEvent(seq=1, ts=T0 + 1.0, type="liftoff", zone="lumbar", state="start")) == []
