"""A bounded soak: the kiosk core at 100 Hz through session after session, on a real broker.

Members tap in, press sets (the sled going down and up at 100 Hz, with a lift-off now and then) and
tap out, over and over, for about 40 s. After a warm-up, memory, open files and the core's queues
must stay flat: a leak per session or per sample shows here long before a gym sees it.
"""

import os
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from kiosk.contract.sensor import DepthSample, LiftoffEvent
from kiosk.core.kiosk import Kiosk
from kiosk.core.settings import load_settings
from kiosk.dev.broker import Broker
from tests.support.kiosk_harness import Keyring

R = "gym/v1/testgym/lp1"
SOAK_S = 40.0
WARM_UP_S = 10.0


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_many_sessions_at_100_hz_leave_memory_files_and_queues_flat(tmp_path):
    broker = Broker().start()
    keyring = Keyring(tmp_path)
    kiosk = Kiosk(load_settings(site="testgym", machine="lp1", broker=broker.url, data_dir=tmp_path / "data",
                                trusted_keys=keyring.trusted))
    node = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
    stop = threading.Event()
    try:
        kiosk.start()
        assert kiosk.link.wait_connected(10)
        node.connect(broker.host, broker.port)
        node.loop_start()

        def sensor_node() -> None:
            seq = event_seq = 0
            next_at = time.monotonic()
            while not stop.is_set():
                seq += 1
                phase = (seq % 300) / 300  # a 3 s rep: down then up
                mm = 40 + 220 * (phase * 2 if phase < 0.5 else (1 - phase) * 2)
                node.publish(f"{R}/sensor/depth", DepthSample(seq=seq, ts=time.time(), mm=mm).model_dump_json(),
                             qos=0)
                if seq % 450 == 0:
                    for state in ("start", "end"):
                        event_seq += 1
                        event = LiftoffEvent(seq=event_seq, ts=time.time(), type="liftoff", zone="pelvis",
                                             state=state)
                        node.publish(f"{R}/sensor/event", event.model_dump_json(), qos=1)
                next_at += 0.01
                time.sleep(max(0.0, next_at - time.monotonic()))

        streamer = threading.Thread(target=sensor_node, daemon=True)
        streamer.start()
        started = time.monotonic()
        samples: list[tuple[float, float, int, int]] = []
        sessions = 0
        while time.monotonic() - started < SOAK_S:
            code = keyring.code(f"m_{sessions % 7}", "Sam")
            kiosk.scan(code)
            time.sleep(3.5)
            kiosk.scan(code)  # the same code again: logout, with the learnt settings saved
            sessions += 1
            kiosk.inbox.call(lambda: None)
            samples.append((time.monotonic() - started, _rss_mb(), _open_files(), kiosk.inbox.waiting()))
        stop.set()
        streamer.join(2)
        kiosk.inbox.call(lambda: None)
        settled = [s for s in samples if s[0] >= WARM_UP_S]
        assert sessions >= 8 and len(settled) >= 4
        first, last = settled[0], settled[-1]
        print(f"soak: {sessions} sessions, {kiosk.sensor.monitor.received} samples; RSS {first[1]:.1f} -> "
              f"{last[1]:.1f} MB, open files {first[2]} -> {last[2]}, max core queue {max(s[3] for s in samples)}")
        assert last[1] - first[1] < 15, f"memory grew {last[1] - first[1]:.1f} MB over {len(settled)} sessions"
        assert last[2] - first[2] <= 2, "open files grew"
        assert max(s[3] for s in samples) < 500, "the core's queue backed up"
        assert kiosk.inbox.errors == 0 and kiosk.inbox.overflows == 0
        assert kiosk.events.health.write_errors == 0
        assert kiosk.sensor.monitor.received > SOAK_S * 100 * 0.8
    finally:
        stop.set()
        node.loop_stop()
        kiosk.stop()
        broker.close()
