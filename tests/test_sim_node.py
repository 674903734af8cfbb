"""The simulated sensor node against a real mosquitto: topics, QoS, retained status and its Will."""

import subprocess
import sys

from kiosk.contract.base import decode
from kiosk.contract.sensor import DepthSample, LiftoffEvent, SensorStatus
from kiosk.contract.topics import MachineTopics
from kiosk.core.cues.replay import engine_for
from kiosk.sim.node import SensorNode
from kiosk.sim.traces import generate

TOPICS = MachineTopics("gym1", "lp7")


def status_is(state: str):
    return lambda msg: msg.topic == TOPICS.sensor_status and decode(SensorStatus, msg.payload).state == state


def test_node_plays_a_scenario_that_a_kiosk_counts_correctly(broker, collect) -> None:
    sensor = collect(f"{TOPICS.root}/sensor/#")
    trace = generate("butt-wink", 1)
    node = SensorNode(broker.url, TOPICS.site, TOPICS.machine)
    node.start()
    assert node.play(trace, realtime=False) == len(trace.items)
    node.close()
    sensor.wait_for(status_is("disconnected"))

    depth = [m for m in sensor.messages if m.topic == TOPICS.sensor_depth]
    events = [m for m in sensor.messages if m.topic == TOPICS.sensor_event]
    assert len(depth) == sum(1 for i in trace.items if i.kind == "depth")
    assert len(events) == sum(1 for i in trace.items if i.kind == "event")
    ready = decode(SensorStatus, sensor.wait_for(status_is("ready")).payload)
    assert ready.rate_hz == round(trace.rate_hz, 1)

    # What a kiosk makes of it: the broker keeps each stream's order.
    engine = engine_for(trace)
    for msg in sensor.messages:
        if msg.topic == TOPICS.sensor_depth:
            engine.on_depth(decode(DepthSample, msg.payload))
        elif msg.topic == TOPICS.sensor_event:
            engine.on_liftoff(decode(LiftoffEvent, msg.payload))
    assert [s.reps for s in engine.sets] == [trace.truth.reps]
    assert engine.sets[0].stopped


def test_status_stays_retained_for_late_subscribers(broker, collect) -> None:
    node = SensorNode(broker.url, TOPICS.site, TOPICS.machine)
    first = collect(TOPICS.sensor_status)
    node.start()
    node.play(generate("good", 0, reps=1), realtime=False)
    first.wait_for(status_is("ready"))  # at the broker: `play` only queues it on the node's link
    late = collect(TOPICS.sensor_status)
    msg = late.wait_for(status_is("ready"))
    assert msg.retain
    node.close()


def test_killed_node_leaves_a_lost_status(broker, collect) -> None:
    status = collect(TOPICS.sensor_status)
    proc = subprocess.Popen([sys.executable, "-m", "kiosk.sim.cli", "--broker", broker.url, "--site", TOPICS.site,
                             "--machine", TOPICS.machine, "--realtime", "--loop"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        status.wait_for(status_is("ready"))
    finally:
        proc.kill()
        proc.wait(10)
    lost = decode(SensorStatus, status.wait_for(status_is("lost")).payload)
    assert lost.fw == "legpress-sim"


def test_terminated_node_says_disconnected(broker, collect) -> None:
    status = collect(TOPICS.sensor_status)
    proc = subprocess.Popen([sys.executable, "-m", "kiosk.sim.cli", "--broker", broker.url, "--site", TOPICS.site,
                             "--machine", TOPICS.machine, "--scenario", "good", "--realtime"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    status.wait_for(status_is("ready"))
    proc.terminate()
    assert proc.wait(10) == 0
    status.wait_for(status_is("disconnected"))
    assert not any(status_is("lost")(m) for m in status.messages)


def test_several_scenarios_play_in_turn(broker) -> None:
    result = subprocess.run([sys.executable, "-m", "kiosk.sim.cli", "--broker", broker.url, "--site", TOPICS.site,
                             "--machine", TOPICS.machine, "--scenario", "good,shallow", "--fast", "--seed", "3"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    played = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("legpress-sim:")]
    assert played == ["good", "shallow"]


def test_unknown_scenario_is_refused_in_one_line(broker) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kiosk.sim.cli", "--broker", broker.url, "--scenario", "good,moonwalk"],
        capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "moonwalk" in result.stderr and "Traceback" not in result.stderr
