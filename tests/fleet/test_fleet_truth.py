"""What operators see is what is true, on a rendered gym with real kiosk processes (issue 23).

A power cut takes a kiosk's broker and app down; only the broker comes
back. Nothing says goodbye (the Will died with the broker, and the bridge is
up again), so the kiosk's retained `ready` alone must no longer be believed.
"""

import json
import os
from collections.abc import Iterator

import pytest

from kiosk.contract.kiosk import KioskStatus
from tests.support.broker_gym import Gym, fleet, machine_root
from tests.support.helpers import eventually
from tests.support.home_assistant import HomeAssistantView
from tests.support.kiosk_process import kiosk_env, start_kiosk

R1 = machine_root("lp-1")
HEARTBEAT_S = 1  # the kiosks' telemetry interval here, so 2.5 heartbeats pass in 2.5 s


@pytest.fixture
def gym(tmp_path, monkeypatch) -> Iterator[Gym]:
    for key in [k for k in os.environ if k.startswith("LEGPRESS_")]:
        monkeypatch.delenv(key)
    g = Gym(tmp_path, machines=("lp-1",))
    assert g.render() == 0
    g.start("site")
    g.start("lp-1")
    yield g
    g.close()


def start_lp1(gym: Gym, tmp_path):
    secrets = gym.secrets("kiosk-lp-1")
    env = kiosk_env(f"mqtt://{secrets.username}:{secrets.password}@127.0.0.1:{gym.port('lp-1')}",
                    tmp_path / "data-lp-1", LEGPRESS_SITE="downtown", LEGPRESS_MACHINE="lp-1",
                    LEGPRESS_TUNING__TELEMETRY_INTERVAL_S=str(HEARTBEAT_S), LEGPRESS_TUNING__HOME_ASSISTANT="true")
    return start_kiosk(env, tmp_path / "lp-1.log")


def kiosk_cell(gym: Gym, capsys) -> str:
    assert fleet("status", "--site", "downtown", "--broker-secrets", str(gym.out / "secrets" / "op-ops.toml"),
                 "--wait", "0.3", "--json") == 0
    return json.loads(capsys.readouterr().out)[0]["kiosk"]


def test_a_kiosk_whose_app_died_while_its_broker_came_back_is_shown_stale_and_unavailable(gym, tmp_path, capsys):
    # Home Assistant watches with the recorder's login (it reads every topic): one login is one client.
    home_assistant = HomeAssistantView(gym.secrets("recorder"), gym.port("site-local"), "downtown", "lp-1")
    kiosk = start_lp1(gym, tmp_path)
    try:
        # Behind a bridge, the bridge notification is an availability topic as well as the status.
        eventually(lambda: home_assistant.discovery and len(home_assistant.discovery.availability) == 2,
                   timeout=30, what="discovery listing the status and the bridge")
        eventually(lambda: home_assistant.entity_available("mode"), timeout=15, what="the kiosk available")
        assert kiosk_cell(gym, capsys) == "ready"
    finally:
        # The power cut: the broker first, so the app's Will dies with it, then the app; nothing says goodbye.
        gym.brokers["lp-1"].kill()
        kiosk.kill()
        kiosk.wait(5)
        kiosk.stdin.close()
    eventually(lambda: not home_assistant.available(), timeout=15, what="the bridge's loss seen")
    gym.start("lp-1")  # the broker comes back; the app does not
    eventually(lambda: home_assistant.payloads(f"{R1}/kiosk/bridge")[-1] == b"1", timeout=20, what="the bridge back")
    # The site still holds the kiosk's `ready`, and the bridge says 1: only the heartbeat tells.
    assert KioskStatus.model_validate_json(home_assistant.payloads(f"{R1}/kiosk/status")[-1]).state == "ready"
    assert home_assistant.available()
    eventually(lambda: kiosk_cell(gym, capsys) == "stale", timeout=2.5 * HEARTBEAT_S + 1, what="status: stale")
    eventually(lambda: not home_assistant.entity_available("mode"), timeout=3 * HEARTBEAT_S + 1,
               what="Home Assistant's mode entity unavailable")
    home_assistant.close()


def test_a_live_kiosk_refreshes_its_ready_status_every_heartbeat(gym, tmp_path, capsys):
    kiosk = start_lp1(gym, tmp_path)
    # Home Assistant watches with the recorder's login (it reads every topic): one login is one client.
    home_assistant = HomeAssistantView(gym.secrets("recorder"), gym.port("site-local"), "downtown", "lp-1")
    try:
        statuses = f"{R1}/kiosk/status"
        eventually(lambda: len(home_assistant.payloads(statuses)) >= 4, timeout=30, what="four statuses")
        readies = [KioskStatus.model_validate_json(p) for p in home_assistant.payloads(statuses)]
        assert all(s.state == "ready" and s.heartbeat_s == HEARTBEAT_S for s in readies[-3:])
        assert readies[-1].ts > readies[-2].ts > readies[-3].ts
        assert kiosk_cell(gym, capsys) == "ready" and home_assistant.entity_available("mode")
    finally:
        kiosk.terminate()
        kiosk.wait(10)
        kiosk.stdin.close()
        home_assistant.close()
