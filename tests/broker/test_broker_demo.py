"""`deploy/demo.sh --secure`: the demo on the real topology, seen from the site as an operator would."""

import signal
import subprocess
import sys
import threading
from pathlib import Path

from kiosk.contract.base import decode
from kiosk.contract.kiosk import KioskStatus
from kiosk.dev.broker import Recording
from kiosk.mqtt.broker_url import BrokerSecrets
from tests.support.broker_gym import Peer


def test_the_secure_demo_runs_a_kiosk_behind_its_own_broker_bridged_to_the_site(tmp_path: Path):
    demo = subprocess.Popen([sys.executable, "-m", "kiosk.dev.demo", "--secure", "--headless", "--work", str(tmp_path),
                             "--scenario", "good"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines = Recording("the demo's output")
    threading.Thread(target=lambda: [lines.add(line) for line in demo.stdout], daemon=True).start()
    try:
        lines.wait_for(lambda line: "Watch as an operator" in line, timeout=30)
        ops = BrokerSecrets.load(tmp_path / "secure/render/secrets/op-demo.toml")
        url = ops.url()
        operator = Peer(url.port, ops.username, ops.password, ca=url.ca)
        assert operator.connect()
        operator.subscribe("gym/v1/demo/#")
        operator.received.wait_for(lambda m: m.topic == "gym/v1/demo/lp1/kiosk/status"
                                   and decode(KioskStatus, m.payload).state == "ready", timeout=30)
        operator.sync()
        assert not any("/sensor/" in t for t in operator.topics()), "sensor data left the kiosk's broker"
        operator.close()
    finally:
        demo.send_signal(signal.SIGTERM)
        assert demo.wait(20) == 0
    assert any("rendered site demo" in line for line in lines.items)
