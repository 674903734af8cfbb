"""Forged and replayed sensor input on a running kiosk over a real broker: refused, counted, reps still right."""

import json
import time
from collections.abc import Callable

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from kiosk.contract.base import decode, encode
from kiosk.contract.profile import MemberProfile
from kiosk.contract.sensor import DepthSample, LiftoffEvent, SensorStatus
from kiosk.dev.broker import publish
from kiosk.sim.traces import TRACE_SETTINGS, generate
from tests.support.helpers import eventually

R = "gym/v1/testgym/lp1"
YEAR_1970, YEAR_3000 = 1.0, 32503679999.0


class Node:
    """Publishes like a sensor node: depth at QoS 0, events at QoS 1, in order, from one client."""

    def __init__(self, broker):
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def depth(self, sample: DepthSample) -> None:
        self.client.publish(f"{R}/sensor/depth", encode(sample), qos=0)
        # Under the kiosk's flood ceiling (1,000 depth samples a second, ingest.DEPTH_CEILING_HZ): faster, the
        # kiosk would drop the topic for 2 s as it does for a babbling node, and see the sensor go stale.
        time.sleep(0.0015)

    def event(self, event: LiftoffEvent) -> None:
        self.client.publish(f"{R}/sensor/event", encode(event), qos=1).wait_for_publish(5)

    def status(self, state: str) -> None:
        status = SensorStatus(state=state, ts=time.time(), fw="test", rate_hz=50)
        self.client.publish(f"{R}/sensor/status", encode(status), qos=1, retain=True).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def at_the_machine(broker, collect, kiosk):
    """A member in session with the settings the traces are made for, a node, and the kiosk's events."""
    profile = MemberProfile(member="m_sam", name="Sam", rev=3, updated=1.0, machines={"generic-45": TRACE_SETTINGS})
    publish(broker, "gym/v1/testgym/members/m_sam/profile", encode(profile), retain=True)
    eventually(lambda: kiosk.profiles.book.rev("m_sam") == 3, what="the profile filed")
    events = collect(f"{R}/kiosk/event")
    kiosk.scan(kiosk.keyring.code("m_sam"))
    events.wait_for(lambda m: b"session_start" in m.payload)
    node = Node(broker)
    yield node, events
    node.close()


def _samples(seed: int = 3, start: float | None = None) -> tuple[list[DepthSample], int]:
    trace = generate("good", seed, rate_hz=50, start_ts=time.time() if start is None else start)
    return [decode(DepthSample, i.payload) for i in trace.items if i.kind == "depth"], trace.truth.reps


def _paced(node: Node, samples: list[DepthSample], pace: float = 3.0) -> None:
    """Send `samples` at most `pace` times faster than their timestamps: the kiosk believes a stream only
    while it keeps up with the time that passed (up to MAX_PACE sensor seconds a second)."""
    t0, ts0 = time.monotonic(), samples[0].ts
    for sample in samples:
        ahead = (sample.ts - ts0) / pace - (time.monotonic() - t0)
        if ahead > 0.02:
            time.sleep(ahead)  # pacing the sender, not waiting on the kiosk
        node.depth(sample)


def _sensor_health(broker, collect) -> dict:
    replies = collect(f"{R}/kiosk/res/diagnostics")
    transaction = f"d{time.monotonic_ns()}"
    publish(broker, f"{R}/kiosk/cmd/diagnostics", json.dumps({"transaction": transaction}))
    return json.loads(replies.wait_for(lambda m: transaction.encode() in m.payload).payload)["data"]["telemetry"][
        "sensor"]


def _settled(events, reps: int) -> list[dict]:
    """The kiosk's events once the set ended, with `reps` reps or whatever came."""
    events.wait_for(lambda m: b'"set_end"' in m.payload, timeout=30)
    return [json.loads(m.payload) for m in events.messages]


def two_liftoff_set(node: Node, between: Callable[[int, DepthSample], None] = lambda _n, _s: None) -> None:
    """Play a set in which the lower back lifts off in two different reps; `between(n, sample)` runs
    after each sample is sent, the first lift-off's sample included."""
    samples, _ = _samples(start=time.time())
    deep = [n for n, s in enumerate(samples) if s.mm > 240]
    first, second = deep[0], next(n for n in deep if n > deep[0] + 150)
    for n, sample in enumerate(samples[:second + 1]):
        node.depth(sample)
        if n in (first, second):
            node.event(LiftoffEvent(seq=n, ts=sample.ts, type="liftoff", zone="lumbar", state="start"))
            node.event(LiftoffEvent(seq=n + 1, ts=sample.ts + 0.01, type="liftoff", zone="lumbar", state="end"))
        between(n - first, sample)


def lumbar_cues(events) -> list[str]:
    """The severities of the lumbar lift-off cues, once the set's stop has come."""
    events.wait_for(lambda m: b'"stop"' in m.payload and b'"liftoff_lumbar"' in m.payload, timeout=15)
    return [json.loads(m.payload)["severity"] for m in events.messages if b'"liftoff_lumbar"' in m.payload]


def test_liftoffs_stamped_1970_or_3000_are_refused_and_a_real_one_is_cued(broker, collect, at_the_machine):
    node, events = at_the_machine
    samples, _ = _samples()
    bottom = max(range(len(samples) // 3), key=lambda n: samples[n].mm)  # deep in the first rep
    for n, sample in enumerate(samples):
        node.depth(sample)
        if n == bottom:
            for seq, ts in enumerate((YEAR_1970, YEAR_3000) * 15):
                node.event(LiftoffEvent(seq=seq, ts=ts, type="liftoff", zone="pelvis", state="start"))
            node.event(LiftoffEvent(seq=99, ts=sample.ts, type="liftoff", zone="pelvis", state="start"))
            # The node's events arrive in order and the kiosk takes them in order: had a forged one been
            # believed, its cue would be the first `liftoff_pelvis`, years away from the real one.
            first = json.loads(events.wait_for(lambda m: b"liftoff_pelvis" in m.payload).payload)
            assert abs(first["ts"] - sample.ts) < 60, f"a forged lift-off was cued: {first}"
    received = _settled(events, 0)
    set_end = next(e for e in received if e["type"] == "set_end")
    assert set_end["liftoffs"] == 1
    assert sum(e.get("cue") == "liftoff_pelvis" for e in received) == 1
    assert _sensor_health(broker, collect)["ts_refused"] == 30
    # Operators hear of it once, not thirty times: one fault with the reason, within the 30 s budget.
    faults = [e for e in received if e["type"] == "sensor_fault"]
    assert [f["fault"] for f in faults] == ["invalid_payloads"]
    assert faults[0]["detail"].startswith("timestamp refused (1 so far): ts 1.000 is")


@pytest.mark.parametrize("forged_mm", [150.0, 1900.0], ids=["inside travel", "outside travel"])
def test_a_future_dated_sample_never_moves_the_sensor_clock(broker, collect, at_the_machine, forged_mm):
    node, events = at_the_machine
    samples, reps = _samples()
    middle = len(samples) // 2
    for n, sample in enumerate(samples):
        node.depth(sample)
        if n == middle:
            node.depth(DepthSample(seq=sample.seq + 1, ts=sample.ts + 30_000_000, mm=forged_mm))
            node.depth(DepthSample(seq=sample.seq + 2, ts=sample.ts + 200, mm=forged_mm))
    received = _settled(events, reps)
    assert not any(e.get("cue") == "sensor_lost" or e.get("fault") == "stale" for e in received)
    assert sum(e["type"] == "rep" for e in received) == reps
    assert sum(e["type"] == "set_end" for e in received) == 1
    assert _sensor_health(broker, collect)["ts_refused"] == 2


def test_replayed_samples_in_bursts_are_not_counted_as_reps(broker, collect, at_the_machine):
    node, events = at_the_machine
    samples, reps = _samples()
    for n, sample in enumerate(samples):
        node.depth(sample)
        if n % 50 == 49 and n > 200:
            for old in samples[n - 200:n - 197]:  # four seconds old, in bursts of three
                node.depth(old)
    received = _settled(events, reps)
    rep_events = [e for e in received if e["type"] == "rep"]
    assert len(rep_events) == reps
    assert all(e["eccentric_s"] > 0.5 for e in rep_events)
    health = _sensor_health(broker, collect)
    assert health["ts_refused"] > 0 and health["restarts"] == 0


def test_a_restart_is_recognised_from_the_status_and_seq_back_near_0(broker, collect, kiosk, at_the_machine):
    node, events = at_the_machine
    node.status("ready")
    first, _ = _samples(seed=3)
    _paced(node, first[:600])  # twelve seconds: well into the set
    # The node reboots with its clock a minute behind (not yet synced) and counts from 0 again.
    behind, reps = _samples(seed=4, start=first[599].ts - 60)
    for sample in behind[:50]:
        node.depth(sample)
    # Refused, not taken for a restart: without a new status all fifty stay refused.
    eventually(lambda: _sensor_health(broker, collect)["ts_refused"] == 50, what="all 50 refused")
    node.status("ready")
    # The status reaches the core thread through the same queue as the samples after it, but the broker
    # forwards QoS 1 and QoS 0 on separate paths: wait until the core has taken it (a private flag: nothing
    # the kiosk publishes says so).
    eventually(lambda: kiosk.inbox.call(lambda: kiosk.sensor.monitor.clock._restart_expected),
               what="the kiosk has the node's new ready status")
    # Its rep events reach this test through the broker after the kiosk took the samples: wait for its newest.
    newest = kiosk.inbox.call(lambda: kiosk.events.health.last_eid)
    eventually(lambda: any(json.loads(m.payload).get("eid") == newest for m in events.messages),
               what="every event the kiosk made before the reboot")
    received = [json.loads(m.payload) for m in events.messages]
    reps_before = sum(e["type"] == "rep" for e in received)
    assert reps_before > 0 and not any(e["type"] == "set_end" for e in received)
    before_restart = len(events.messages)
    _paced(node, behind)
    def set_ends() -> list[dict]:
        return [e for e in map(json.loads, (m.payload for m in events.messages[before_restart:]))
                if e["type"] == "set_end"]
    eventually(lambda: set_ends(), timeout=30, what="the set ends after the reboot")
    # The member never racked the weight: the set stays open across the reboot (a second lift-off after it
    # must still stop the set), the rep in progress is dropped, and every rep after the reboot counts.
    (the_set,) = set_ends()
    assert the_set["reps"] == reps_before + reps and not the_set["stopped"]
    assert _sensor_health(broker, collect)["restarts"] == 2  # the node's first `ready`, then the reboot


def test_a_node_slower_than_the_contract_is_told_once_and_a_fast_one_is_not(broker, collect, at_the_machine):
    node, events = at_the_machine

    def stream(rate_hz: float, seconds: float, seq: int) -> int:
        for _ in range(int(rate_hz * seconds)):
            node.depth(DepthSample(seq=seq, ts=time.time(), mm=40.0))
            seq += 1
            time.sleep(1 / rate_hz)
        return seq

    seq = stream(50, 4.5, 0)  # two full rate windows at the contract's pace
    assert not [m for m in events.messages if b'"rate_low"' in m.payload]
    seq = stream(5, 7.0, seq)  # the window that straddles the change, then two slow ones
    fault = events.wait_for(lambda m: b'"rate_low"' in m.payload).event()
    assert fault.type == "sensor_fault" and fault.session is not None
    assert fault.detail.startswith(("4.", "5.")) and "at least 20" in fault.detail
    stream(5, 3.0, seq)  # still slow: not told again within minutes
    assert sum(b'"rate_low"' in m.payload for m in events.messages) == 1


def test_a_profile_pushed_mid_set_cannot_undo_what_a_liftoff_taught_nor_save_the_set_from_its_stop(
        broker, collect, at_the_machine, kiosk):
    node, events = at_the_machine
    learnt = []

    def push_a_deeper_profile(after_first: int, _sample: DepthSample) -> None:
        if after_first != 0:
            return
        events.wait_for(lambda m: b'"liftoff_lumbar"' in m.payload)
        learnt.append(kiosk.session.settings)
        # Another login (any kiosk may write profiles) pushes a far deeper one with a newer rev.
        pushed = MemberProfile(member="m_sam", name="Sam", rev=50, updated=2.0, machines={
            "generic-45": TRACE_SETTINGS.model_copy(update={"max_depth_mm": 500.0, "target_depth_mm": 480.0})})
        publish(broker, "gym/v1/testgym/members/m_sam/profile", encode(pushed), retain=True)
        eventually(lambda: kiosk.profiles.book.rev("m_sam") == 50, what="the pushed profile in the cache")
        assert kiosk.session.settings == learnt[0], "the session kept what the lift-off taught"

    two_liftoff_set(node, push_a_deeper_profile)
    assert lumbar_cues(events) == ["warn", "stop"], "the second lift-off of the set still stops it"
    events.wait_for(lambda m: b'"set_end"' in m.payload, timeout=15)
    set_end = next(json.loads(m.payload) for m in events.messages if b'"set_end"' in m.payload)
    assert set_end["stopped"] is True and set_end["liftoffs"] == 2
    kiosk.end_session("logout")
    # Saved again at the end, over the pushed revision: the next visit starts from what was learnt here.
    events.wait_for(lambda m: b'"profile_saved"' in m.payload and b'"rev":51' in m.payload.replace(b" ", b""))
    assert kiosk.profiles.book.get("m_sam").machines["generic-45"].max_depth_mm == learnt[0].max_depth_mm


def test_a_depth_sample_stamped_ahead_cannot_hide_the_real_liftoffs_after_it(broker, collect, at_the_machine):
    node, events = at_the_machine

    def forge(after_first: int, sample: DepthSample) -> None:
        if after_first == -5:
            # Within the 5 s a real node may jump ahead: the stream's newest time runs 5 s ahead of the truth.
            node.depth(DepthSample(seq=sample.seq + 1, ts=sample.ts + 4.9, mm=sample.mm))

    two_liftoff_set(node, forge)
    assert lumbar_cues(events) == ["warn", "stop"]


def test_a_flood_of_new_member_profiles_is_filed_off_the_core_thread_and_liftoffs_still_stop_the_set(
        broker, collect, at_the_machine, kiosk):
    node, events = at_the_machine
    flood = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
    flood.connect(broker.host, broker.port)
    flood.loop_start()
    posted_before, received_before = kiosk.inbox.posted, kiosk.profiles.book.stats.received
    sent = [0]

    def ten_new_members(_after_first: int, sample: DepthSample) -> None:
        # Anyone with a kiosk login may publish profiles: 10 new members per sample, 500 a second.
        for _ in range(10):
            member = f"x{sent[0]:06d}"
            sent[0] += 1
            profile = MemberProfile(member=member, name="", rev=1, updated=1.0, machines={})
            flood.publish(f"gym/v1/testgym/members/{member}/profile", encode(profile), qos=0)

    try:
        two_liftoff_set(node, ten_new_members)
        assert lumbar_cues(events) == ["warn", "stop"]
        flooded = sent[0]
        eventually(lambda: kiosk.profiles.book.stats.received - received_before >= flooded, timeout=30,
                   what="the flood filed")
    finally:
        flood.loop_stop()
        flood.disconnect()
    # Samples, events and news for the member at the machine went through the core's queue; the
    # flood did not (it was filed on the profile intake's own thread).
    assert kiosk.inbox.posted - posted_before < flooded / 4, (kiosk.inbox.posted - posted_before, flooded)
    assert kiosk.inbox.overflows == 0


def test_the_kiosk_relays_its_nodes_status_for_the_site_on_change_and_at_most_once_a_second(
        broker, collect, at_the_machine, monkeypatch):
    from kiosk.core.sensor import ingest

    node, _ = at_the_machine
    # The limit is tested, not its length: under load the ten flaps below (each a broker round trip) can take
    # longer than the product's second, and a flap caught at its end would rightly go out.
    monkeypatch.setattr(ingest, "RELAY_EVERY_S", 3.0)
    relayed = collect(f"{R}/kiosk/sensor")
    node.status("ready")
    first = relayed.wait_for(lambda m: True).decode(SensorStatus)
    assert first.state == "ready" and first.fw == "test"
    for n in range(10):  # a node flapping within a second, back to ready at the end
        node.status("disconnected" if n % 2 == 0 else "ready")
    time.sleep(3.5)
    assert len(relayed.messages) == 1, "flaps within the limit, ending where it was, are not news"
    node.status("disconnected")
    last = relayed.wait_for(lambda m: m.decode(SensorStatus).state == "disconnected", timeout=5)
    assert last.decode(SensorStatus).state == "disconnected"
    late = collect(f"{R}/kiosk/sensor")
    assert late.wait_for(lambda m: True).retain, "kept for whoever looks later"
