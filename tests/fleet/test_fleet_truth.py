"""What operators see is what is true, on a rendered gym with real kiosk processes (issue 23).

A power cut takes a kiosk's broker and app down; only the broker comes
back. Nothing says goodbye (the Will died with the broker, and the bridge is
up again), so the kiosk's retained `ready` alone must no longer be believed.
"""

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from kiosk.contract.config import ConfigState
from kiosk.contract.kiosk import KioskStatus
from kiosk.dev.broker import Recording, publish
from kiosk.fleet.watch import follow
from tests.support.broker_gym import Gym, fleet, machine_root
from tests.support.helpers import eventually
from tests.support.home_assistant import HomeAssistantView
from tests.support.kiosk_process import kiosk_env, start_kiosk

R1 = machine_root("lp-1")
FLEET = os.path.join(os.path.dirname(sys.executable), "legpress-fleet")
HEARTBEAT_S = 1  # the kiosks' telemetry interval here, so 2.5 heartbeats pass in 2.5 s


@pytest.fixture
def gym(tmp_path, monkeypatch) -> Iterator[Gym]:
    for key in [k for k in os.environ if k.startswith("LEGPRESS_")]:
        monkeypatch.delenv(key)
    g = Gym(tmp_path, machines=("lp-1",), home_assistant=True)
    assert g.render() == 0
    g.start("site")
    g.start("lp-1")
    yield g
    g.close()


@pytest.fixture
def recorder(gym: Gym, tmp_path) -> Iterator[subprocess.Popen[bytes]]:
    """The site's recorder, which publishes each kiosk's Home Assistant device from its info."""
    log = tmp_path / "recorder.log"
    with log.open("ab") as out:
        proc = subprocess.Popen([str(FLEET), "record", "--store", f"sqlite:{tmp_path / 'record.sqlite'}",
                                 "--site", "downtown", "--broker-secrets", str(gym.out / "secrets" / "recorder.toml")],
                                stdout=out, stderr=subprocess.STDOUT)
    eventually(lambda: "subscribed" in log.read_text() or proc.poll() is not None, 20, "the recorder subscribing")
    assert proc.poll() is None, log.read_text()
    yield proc
    proc.terminate()
    proc.wait(10)


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


def test_a_kiosk_whose_app_died_while_its_broker_came_back_is_shown_stale_and_unavailable(gym, recorder, tmp_path,
                                                                                          capsys):
    # Home Assistant with its own login: what discovery needs (status, telemetry, the bridge), no more.
    home_assistant = HomeAssistantView(gym.secrets("op-ha"), gym.port("site-local"), "downtown", "lp-1")
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


def test_a_live_kiosk_refreshes_its_ready_status_every_heartbeat(gym, recorder, tmp_path, capsys):
    kiosk = start_lp1(gym, tmp_path)
    # Home Assistant with its own login: what discovery needs (status, telemetry, the bridge), no more.
    home_assistant = HomeAssistantView(gym.secrets("op-ha"), gym.port("site-local"), "downtown", "lp-1")
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


# -- config that stays put --------------------------------------------------------------------------------

SITE_SET = "gym/v1/testgym/config/set"


def on_testgym(broker) -> list[str]:
    return ["--site", "testgym", "--broker", broker.url]


def test_a_push_every_kiosk_refuses_is_not_sent_and_a_restarted_kiosk_keeps_its_last_good_config(
        broker, collect, tmp_path, capsys):
    states = collect("gym/v1/testgym/lp1/kiosk/config/state")
    env = kiosk_env(broker.url, tmp_path / "data-lp1")
    lp1 = start_kiosk(env, tmp_path / "lp1.log")
    try:
        states.wait_for(lambda m: m.decode(ConfigState).version == "default", timeout=20)
        (tmp_path / "site-1.json").write_text('{"version": "site-1", "idle_timeout_s": 120}')
        assert fleet("config", "push", "--site-wide", str(tmp_path / "site-1.json"), *on_testgym(broker)) == 0
        assert "lp1: applied, config version site-1" in capsys.readouterr().out

        long = {"version": "site-2", "machine_models": {"generic-45": {"travel_mm": 800}}}  # 500 mm on the kiosk
        (tmp_path / "long.json").write_text(json.dumps(long))
        assert fleet("config", "push", "--site-wide", str(tmp_path / "long.json"), *on_testgym(broker)) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "lp1 would refuse it: machine_models.generic-45.travel_mm: 800 mm" in err
        assert "(--force sends it anyway)" in err
        retained = collect(SITE_SET).wait_for(lambda m: m.retain)
        assert json.loads(retained.payload)["version"] == "site-1"  # nothing was sent

        assert fleet("config", "push", "--site-wide", "--force", str(tmp_path / "long.json"),
                     *on_testgym(broker)) == 1
        assert "lp1: refused: site config refused, previous config kept" in capsys.readouterr().out
    finally:
        lp1.terminate()
        lp1.wait(10)
        lp1.stdin.close()
    # Restarted, it finds only the refused push retained: it stays on site-1, not on its file's default.
    restarted = collect("gym/v1/testgym/lp1/kiosk/config/state")
    lp1 = start_kiosk(env, tmp_path / "lp1-again.log")
    try:
        state = restarted.wait_for(lambda m: m.decode(ConfigState).status == "error", timeout=20).decode(ConfigState)
        assert state.version == "site-1" and state.config["idle_timeout_s"] == 120
        assert "site config refused, previous config kept" in state.error
    finally:
        lp1.terminate()
        lp1.wait(10)
        lp1.stdin.close()


def test_a_partial_site_push_keeps_the_rest_of_the_layer_and_replace_replaces_it(broker, kiosk, tmp_path, capsys):
    (tmp_path / "site-3.json").write_text('{"version": "site-3", "idle_timeout_s": 120, "telemetry_interval_s": 15}')
    assert fleet("config", "push", "--site-wide", str(tmp_path / "site-3.json"), *on_testgym(broker)) == 0
    capsys.readouterr()
    (tmp_path / "ha.json").write_text('{"home_assistant": true}')
    assert fleet("config", "push", "--site-wide", str(tmp_path / "ha.json"), *on_testgym(broker)) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == ["pushed config to site testgym (merged into its layer, retained on the broker):",
                       "  home_assistant: (not set) -> true",
                       "lp1: applied, config version site-3"]
    assert (kiosk.config.idle_timeout_s, kiosk.config.telemetry_interval_s, kiosk.config.home_assistant) == (
        120, 15, True)

    assert fleet("config", "push", "--site-wide", "--replace", str(tmp_path / "ha.json"), *on_testgym(broker)) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "pushed config to site testgym (replaced its layer, retained on the broker):"
    assert "  idle_timeout_s: 120 -> (not set)" in out and '  version: "site-3" -> (not set)' in out
    assert out[-1] == "lp1: applied, config version default"
    assert (kiosk.config.idle_timeout_s, kiosk.config.home_assistant) == (90, True)


# -- diagnostics a person can read ------------------------------------------------------------------------

def test_diagnostics_says_what_is_wrong_first_and_gives_the_raw_report_only_with_json(
        broker, collect, tmp_path, capsys):
    lp1 = start_kiosk(kiosk_env(broker.url, tmp_path / "data-lp1"), tmp_path / "lp1.log")
    try:
        collect("gym/v1/testgym/lp1/kiosk/status").wait_for(lambda m: m.decode(KioskStatus).state == "ready", 20)
        assert fleet("command", "diagnostics", "--machine", "lp1", *on_testgym(broker)) == 0
        lines = capsys.readouterr().out.splitlines()
        # No sensor node and no calibration here: the answer, then one line per check.
        assert lines[0].startswith("lp1: not ok: no sensor data, sensor rate low")
        assert lines[0].endswith("not calibrated")
        assert any(line.split()[:2] == ["calibrated", "FAILED"] for line in lines)
        assert any(line.split()[:2] == ["broker", "ok"] for line in lines)
        assert len(lines) < 15 and not any(line.lstrip().startswith("{") for line in lines)

        assert fleet("command", "diagnostics", "--machine", "lp1", "--json", *on_testgym(broker)) == 0
        (reply,) = json.loads(capsys.readouterr().out)
        assert reply["machine"] == "lp1" and reply["status"] == "ok"
        assert reply["data"]["ok"] is False and reply["data"]["checks"]["calibrated"] is False
    finally:
        lp1.terminate()
        lp1.wait(10)
        lp1.stdin.close()


def test_a_command_to_a_machine_the_site_does_not_have_says_so_at_once(broker, kiosk, collect, capsys):
    sent = collect("gym/v1/testgym/lp9/#")
    started = time.monotonic()
    assert fleet("command", "diagnostics", "--machine", "lp9", *on_testgym(broker)) == 2
    assert time.monotonic() - started < 2, "told at once, not after the 5 s timeout"
    assert capsys.readouterr().err == ("legpress-fleet: error: no such machine: lp9 has no status on site "
                                       "testgym's broker (machines there: lp1); nothing sent\n")
    collect("gym/v1/testgym/lp1/kiosk/status").wait_for(lambda m: m.retain)  # a barrier: the broker routed all
    assert sent.messages == []


def test_watch_says_when_a_kiosk_turns_stale_and_when_it_is_heard_again(broker):
    topic = "gym/v1/testgym/lp1/kiosk/status"

    def ready() -> bytes:
        return KioskStatus(state="ready", mode="idle", ts=time.time(), version="0.1.0", boot=3,
                           heartbeat_s=HEARTBEAT_S).model_dump_json().encode()

    publish(broker, topic, ready(), retain=True)
    lines = Recording("watch")
    stop = threading.Event()
    watching = threading.Thread(target=follow, args=(broker.url, "testgym", None, stop, lines.add))
    watching.start()
    try:
        stale = lines.wait_for(lambda line: "lp1  kiosk stale" in line, timeout=2.5 * HEARTBEAT_S + 2)
        assert stale.endswith(f"refreshes it every {HEARTBEAT_S} s; its app is not running (its broker is)")
        publish(broker, topic, ready(), retain=True)  # the heartbeat again
        lines.wait_for(lambda line: line.endswith("lp1  kiosk heard again (ready)"))
    finally:
        stop.set()
        watching.join(5)


def test_a_retained_layer_that_is_not_a_config_is_not_merged_into_and_replace_replaces_it(broker, kiosk, tmp_path,
                                                                                          capsys):
    publish(broker, SITE_SET, b"{not json", retain=True)  # anyone with write access to the topic could leave this
    (tmp_path / "ha.json").write_text('{"home_assistant": true}')
    assert fleet("config", "push", "--site-wide", str(tmp_path / "ha.json"), *on_testgym(broker)) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"legpress-fleet: error: the config retained on {SITE_SET} is not a config (")
    assert err.endswith("--replace replaces it with the file\n") and err.count("\n") == 1
    assert fleet("config", "push", "--site-wide", "--replace", str(tmp_path / "ha.json"), *on_testgym(broker)) == 0
    assert kiosk.config.home_assistant is True
