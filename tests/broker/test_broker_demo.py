"""`deploy/demo.sh --secure`: the demo on the real topology, seen from the site as an operator would."""

import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import requests

from kiosk.contract.base import decode
from kiosk.contract.kiosk import KioskStatus
from kiosk.dev.broker import Recording
from kiosk.mqtt.broker_url import BrokerSecrets
from tests.support.broker_gym import Peer
from tests.support.helpers import eventually


def _get(session: requests.Session, url: str, ca: str) -> requests.Response | None:
    try:
        answer = session.get(url, verify=ca, timeout=2)
    except requests.ConnectionError:
        return None
    return answer if answer.status_code == 200 else None


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
        # The console it printed serves HTTPS with the site certificate, and the printed login signs in.
        url = re.search(r"front-desk console on (\S+)", lines.wait_for(lambda line: "front-desk console" in line))
        login = re.search(r'User "(\w+)", Password "([^"]+)"', lines.wait_for(lambda line: "Password" in line))
        assert url is not None and url[1].startswith("https://localhost:") and login is not None
        ca = str(tmp_path / "secure/render/certs/ca.crt")
        web = requests.Session()
        web.trust_env = False
        form = eventually(lambda: _get(web, f"{url[1]}login", ca), timeout=30, what="the console answering")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert token is not None
        signed_in = web.post(f"{url[1]}login", data={"user": login[1], "password": login[2], "csrf": token[1]},
                             verify=ca)
        assert signed_in.status_code == 200 and "demo (operator)" in signed_in.text
    finally:
        demo.send_signal(signal.SIGTERM)
        assert demo.wait(20) == 0
    assert any("rendered site demo" in line for line in lines.items)
