"""The demo's `--node-mock`: the real node on mock pins, a scenario's recorded motion played into them."""

import signal
import subprocess
import sys

from kiosk.contract.base import decode
from kiosk.contract.sensor import DepthSample, SensorStatus
from kiosk.contract.topics import MachineTopics

TOPICS = MachineTopics("demo", "lp1")


def test_node_mock_turns_a_recorded_motion_into_the_nodes_own_depth(broker, collect) -> None:
    sensor = collect(f"{TOPICS.root}/sensor/#")
    proc = subprocess.Popen([sys.executable, "-m", "kiosk.dev.node_mock", "--broker", broker.url,
                             "--scenario", "good"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        ready = sensor.wait_for(lambda m: m.topic == TOPICS.sensor_status, timeout=20)
        assert decode(SensorStatus, ready.payload).fw.startswith("legpress-node")
        # The member lowers the sled past 100 mm within the scenario's first reps (target 250 mm).
        deep = sensor.wait_for(lambda m: m.topic == TOPICS.sensor_depth and decode(DepthSample, m.payload).mm > 100,
                               timeout=30)
        # The encoder's resolution (2 counts per mm), not the trace's tenths of a millimetre.
        assert decode(DepthSample, deep.payload).mm * 2 == int(decode(DepthSample, deep.payload).mm * 2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert decode(SensorStatus, sensor.wait_for(
        lambda m: m.topic == TOPICS.sensor_status and decode(SensorStatus, m.payload).state == "disconnected"
    ).payload).fw.startswith("legpress-node")
