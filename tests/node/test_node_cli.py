"""`legpress-node` as a process: one line and exit 2 for what cannot work; `ready`, `disconnected` and `lost`."""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.contract.base import decode
from kiosk.contract.sensor import SensorStatus
from kiosk.contract.topics import MachineTopics
from kiosk.node.settings import load_node_settings

TOPICS = MachineTopics("testgym", "lp1")


def node_env(broker_url: str = "mqtt://127.0.0.1:1", **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEGPRESS_", "GPIOZERO_"))}
    # gpiozero's mock pins: this machine has no GPIO, and nothing drives them, so the sled rests at 0.
    env.update(LEGPRESS_NODE_SITE="testgym", LEGPRESS_NODE_MACHINE="lp1", LEGPRESS_NODE_BROKER=broker_url,
               GPIOZERO_PIN_FACTORY="mock", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def run_node(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kiosk.node.cli", *args], env=env, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize(("extra", "says"), [
    ({"LEGPRESS_NODE_SLED__PIN_A": "40"}, "sled.pin_a (LEGPRESS_NODE_SLED__PIN_A)"),
    ({"LEGPRESS_NODE_LUMBAR__PIN": "24"}, "lumbar.pin is GPIO24, already used by sled.pin_b"),
    ({"LEGPRESS_NODE_SLED__KIND": "sonar"}, "kind must be 'encoder' or 'tof'"),
    ({"LEGPRESS_NODE_RATE_HZ": "500"}, "rate_hz (LEGPRESS_NODE_RATE_HZ)"),
    ({"LEGPRESS_NODE_MACHINE": "Leg Press 1"}, "machine (LEGPRESS_NODE_MACHINE)"),
    ({"LEGPRESS_NODE_BROKER": "mqtt://10.0.0.5:1883"}, "no credentials"),
])
def test_a_setting_that_cannot_work_is_one_line_and_exit_2(extra, says) -> None:
    result = run_node(node_env(**extra))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], lines


def test_a_missing_time_of_flight_sensor_is_one_line_and_exit_2() -> None:
    # This machine has no I2C bus on a 40-pin header: the node says so rather than measure nothing.
    result = run_node(node_env(LEGPRESS_NODE_SLED__KIND="tof"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("legpress-node: no VL53L1X at I2C address 0x29: no I2C bus"), lines


def test_a_machine_without_gpio_is_one_line_and_exit_2() -> None:
    env = node_env()
    del env["GPIOZERO_PIN_FACTORY"]
    result = run_node(env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no GPIO on this machine" in lines[0], lines


def test_toml_file_with_variables_over_it(tmp_path: Path, monkeypatch) -> None:
    config = tmp_path / "node.toml"
    config.write_text('site = "downtown"\nmachine = "lp-2"\nrate_hz = 80\n\n'
                      '[sled]\ncounts_per_mm = 1.6\npin_a = 5\npin_b = 6\n\n[lumbar]\npin = 16\ndebounce_ms = 40\n')
    monkeypatch.setenv("LEGPRESS_NODE_RATE_HZ", "100")
    settings = load_node_settings(config)
    assert (settings.site, settings.machine, settings.rate_hz) == ("downtown", "lp-2", 100.0)
    assert (settings.sled.kind, settings.sled.pin_a, settings.lumbar.pin, settings.lumbar.debounce_ms) == (
        "encoder", 5, 16, 40)
    assert settings.link_client_id == "sensor-lp-2"


def test_check_opens_the_parts_and_says_what_it_found() -> None:
    result = run_node(node_env(), "--check")
    assert result.returncode == 0, result.stderr
    assert "sled travel 0.0 mm; pads: lumbar lifted, pelvis lifted" in result.stdout


def status_is(state: str):
    return lambda m: decode(SensorStatus, m.payload).state == state


def test_node_says_ready_with_its_rate_then_disconnected_on_sigterm(broker, collect) -> None:
    status = collect(TOPICS.sensor_status)
    proc = subprocess.Popen([sys.executable, "-m", "kiosk.node.cli"],
                            env=node_env(broker.url, LEGPRESS_NODE_RATE_HZ="40"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ready = decode(SensorStatus, status.wait_for(status_is("ready"), timeout=20).payload)
        assert 36 <= ready.rate_hz <= 44 and ready.fw.startswith("legpress-node")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    status.wait_for(status_is("disconnected"))
    assert not any(status_is("lost")(m) for m in status.messages)


def test_killed_node_leaves_lost(broker, collect) -> None:
    status = collect(TOPICS.sensor_status)
    proc = subprocess.Popen([sys.executable, "-m", "kiosk.node.cli"], env=node_env(broker.url),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        status.wait_for(status_is("ready"), timeout=20)
    finally:
        proc.kill()
        proc.wait(10)
    assert decode(SensorStatus, status.wait_for(status_is("lost")).payload).fw.startswith("legpress-node")


def test_node_tells_systemd_ready_then_alive_from_its_loop_then_stopping(broker, tmp_path) -> None:
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = tmp_path / "notify"
    notify.bind(str(path))
    notify.settimeout(15)
    proc = subprocess.Popen([sys.executable, "-m", "kiosk.node.cli"], env=node_env(broker.url, NOTIFY_SOCKET=str(path)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        said = [notify.recv(256).decode() for _ in range(3)]
        assert said == ["READY=1", "WATCHDOG=1", "WATCHDOG=1"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        rest = []
        while "STOPPING=1" not in rest:
            rest.append(notify.recv(256).decode())
    finally:
        notify.close()
        if proc.poll() is None:
            proc.kill()
