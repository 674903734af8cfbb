"""The kiosk, the simulator and `legpress-fleet` log in with a render's secrets, over TLS where the broker wants it."""

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from kiosk.app import main as kiosk_main
from kiosk.contract.base import decode
from kiosk.contract.kiosk import KioskStatus
from kiosk.core.kiosk import Kiosk
from kiosk.core.settings import SettingsError, load_settings
from kiosk.fleet.broker.certs import new_ca
from kiosk.mqtt.broker_url import BrokerSettingError, BrokerUrl, resolve_broker
from kiosk.mqtt.link import MqttLink
from tests.support.broker_gym import Gym, fleet, machine_root
from tests.support.helpers import eventually

R1 = machine_root("lp-1")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("LEGPRESS_"):
            monkeypatch.delenv(key)


@pytest.fixture(scope="module")
def gym(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gym]:
    g = Gym(tmp_path_factory.mktemp("clients"), machines=("lp-1",))
    assert g.render() == 0
    g.start("site")
    g.start("lp-1")
    yield g
    g.close()


def secrets_file(gym: Gym, user: str) -> Path:
    return gym.out / "secrets" / f"{user}.toml"


def test_a_secrets_file_gives_login_broker_and_ca(gym: Gym):
    url = resolve_broker(None, secrets=secrets_file(gym, "op-ops"))
    assert (url.host, url.port, url.tls, url.username, url.ca) == ("localhost", gym.site_tls, True, "op-ops", gym.ca)
    assert url.password == gym.secrets("op-ops").password and url.password not in str(url)


def test_a_broker_url_moves_a_secrets_file_to_another_address_and_its_own_login_wins(gym: Gym):
    moved = resolve_broker("mqtts://127.0.0.1:9999", secrets=secrets_file(gym, "op-ops"))
    assert (moved.host, moved.port, moved.username, moved.ca) == ("127.0.0.1", 9999, "op-ops", gym.ca)
    own = resolve_broker("mqtt://someone:pw@127.0.0.1:1", secrets=secrets_file(gym, "op-ops"))
    assert (own.username, own.password, own.ca) == ("someone", "pw", None)


@pytest.mark.parametrize("url,ca,secrets,setting,why", [
    ("mqtt://127.0.0.1:1883", "certs/ca.crt", None, "broker_ca", "not mqtts://"),
    ("mqtts://127.0.0.1:8883", "certs/nope.crt", None, "broker_ca", "does not exist"),
    ("mqtts://127.0.0.1:8883", "site/acl", None, "broker_ca", "no PEM certificate"),
    (None, None, "secrets/nope.toml", "broker_secrets", "cannot read"),
    (None, None, "site/acl", "broker_secrets", "not valid TOML"),
])
def test_broker_settings_that_cannot_work_name_the_setting(gym: Gym, url, ca, secrets, setting, why):
    with pytest.raises(BrokerSettingError) as err:
        resolve_broker(url, ca=gym.out / ca if ca else None, secrets=gym.out / secrets if secrets else None)
    assert err.value.setting == setting and why in str(err.value)


def test_a_secrets_file_with_unknown_or_hostile_fields_is_refused(tmp_path: Path):
    bad = tmp_path / "s.toml"
    bad.write_text('username = "a"\npassword = "b"\nbroker = "mqtt://127.0.0.1:1"\nextra = 1\n')
    with pytest.raises(BrokerSettingError, match="extra"):
        resolve_broker(None, secrets=bad)
    bad.write_text('username = "a\\nb"\npassword = "b"\nbroker = "mqtt://127.0.0.1:1"\n')
    with pytest.raises(BrokerSettingError, match="control characters"):
        resolve_broker(None, secrets=bad)


def test_the_kiosk_takes_its_login_from_the_secrets_setting(gym: Gym, monkeypatch, tmp_path: Path):
    monkeypatch.setenv("LEGPRESS_BROKER_SECRETS", str(secrets_file(gym, "kiosk-lp-1")))
    settings = load_settings(site="downtown", machine="lp-1", data_dir=tmp_path)
    url = settings.broker_url
    assert (url.host, url.port, url.username) == ("127.0.0.1", gym.port("lp-1"), "kiosk-lp-1")


@pytest.mark.parametrize("broker", ["mqtt://10.0.0.5:1883", "mqtts://site-broker.local:8883", "mqtt://[fe80::1]:1883"])
def test_the_kiosk_refuses_a_broker_off_this_host_without_credentials(monkeypatch, tmp_path: Path, broker: str):
    with pytest.raises(SettingsError) as err:
        load_settings(site="downtown", machine="lp-1", data_dir=tmp_path, broker=broker)
    message = str(err.value)
    assert "LEGPRESS_BROKER" in message and "no credentials" in message and "\n" not in message


@pytest.mark.parametrize("broker", ["mqtt://127.0.0.1:1883", "mqtt://localhost:1883", "mqtt://[::1]:1883",
                                    "mqtt://k:pw@10.0.0.5:1883"])
def test_the_kiosk_accepts_loopback_or_a_login(tmp_path: Path, broker: str):
    load_settings(site="downtown", machine="lp-1", data_dir=tmp_path, broker=broker)


def test_legpress_kiosk_exits_2_with_one_line_against_an_open_remote_broker(monkeypatch, tmp_path: Path, capsys):
    for key, value in {"LEGPRESS_SITE": "downtown", "LEGPRESS_MACHINE": "lp-1", "LEGPRESS_DATA_DIR": str(tmp_path),
                       "LEGPRESS_BROKER": "mqtt://192.168.1.20:1883"}.items():
        monkeypatch.setenv(key, value)
    assert kiosk_main(["--headless"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("legpress-kiosk: setting broker (LEGPRESS_BROKER)") and err.count("\n") == 1


def test_a_kiosk_on_its_rendered_broker_is_seen_at_the_site_and_answers_an_operator(gym: Gym, tmp_path: Path,
                                                                                   capsys):
    recorder = gym.peer("recorder", "site-local", subscribe=(f"{R1}/kiosk/status",))
    settings = load_settings(site="downtown", machine="lp-1", data_dir=tmp_path / "data",
                             broker_secrets=secrets_file(gym, "kiosk-lp-1"))
    kiosk = Kiosk(settings)
    kiosk.start()
    try:
        assert kiosk.link.wait_connected(10)
        recorder.received.wait_for(
            lambda m: m.topic == f"{R1}/kiosk/status" and decode(KioskStatus, m.payload).state == "ready", 15)
        # Request and reply cross the bridge both ways, MQTT v5 Response Topic and Correlation Data included.
        assert fleet("command", "rebirth", "--machine", "lp-1", "--site", "downtown",
                     "--broker-secrets", str(secrets_file(gym, "op-ops")), "--timeout", "15") == 0
        assert "lp-1" in capsys.readouterr().out
    finally:
        kiosk.stop()
    recorder.received.wait_for(
        lambda m: m.topic == f"{R1}/kiosk/status" and decode(KioskStatus, m.payload).state == "disconnected", 15)


def test_the_simulator_plays_to_the_sensor_listener_with_its_own_login(gym: Gym):
    kiosk = gym.peer("kiosk-lp-1", "lp-1", subscribe=(f"{R1}/sensor/#",))
    result = subprocess.run(
        [sys.executable, "-m", "kiosk.sim.cli", "--broker-secrets", str(secrets_file(gym, "sensor-lp-1")),
         "--site", "downtown", "--machine", "lp-1", "--scenario", "good", "--fast"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    kiosk.wait_for(f"{R1}/sensor/depth")
    kiosk.wait_for(f"{R1}/sensor/status")


def test_fleet_status_reaches_the_site_over_tls_with_an_operators_secrets(gym: Gym, capsys):
    gym.peer("kiosk-lp-1", "lp-1").publish(f"{R1}/kiosk/status", KioskStatus(
        state="ready", mode="idle", ts=1.0, version="test", boot=3).model_dump_json().encode(), retain=True)
    gym.peer("recorder", "site-local", subscribe=(f"{R1}/kiosk/status",)).wait_for(f"{R1}/kiosk/status", timeout=15)
    assert fleet("status", "--site", "downtown", "--broker-secrets", str(secrets_file(gym, "op-ops")),
                 "--wait", "0.5", "--json") == 0
    out = capsys.readouterr().out
    assert '"machine": "lp-1"' in out and '"boot": 3' in out


def test_fleet_without_a_broker_says_how_to_give_one(capsys):
    assert fleet("status", "--site", "downtown") == 2
    assert "--broker-secrets" in capsys.readouterr().err


def test_tls_checks_the_certificate_against_the_given_ca(gym: Gym, tmp_path: Path):
    other_ca = tmp_path / "other-ca.crt"
    other_ca.write_bytes(new_ca("elsewhere").cert_pem)
    good = resolve_broker(None, secrets=secrets_file(gym, "op-ops"))
    for url, connects in ((replace(good, ca=other_ca), False), (replace(good, ca=None), False), (good, True)):
        link = MqttLink("tls-check", url, reconnect_max_s=1)
        link.start()
        try:
            assert link.wait_connected(3 if connects else 1.5) is connects, url
        finally:
            link.stop()


def test_a_broker_url_never_shows_its_password():
    url = BrokerUrl("localhost", 8883, "op-ops", "s3cret", tls=True)
    assert "s3cret" not in str(url) and "s3cret" not in url.address and str(url) == "mqtts://op-ops:***@localhost:8883"


@pytest.mark.parametrize("env,named", [
    ({"LEGPRESS_BROKER_SECRETS": "/nonexistent/kiosk-lp-1.toml"}, "LEGPRESS_BROKER_SECRETS"),
    ({"LEGPRESS_BROKER": "mqtt://127.0.0.1:1883", "LEGPRESS_BROKER_CA": "/etc/hostname"}, "LEGPRESS_BROKER_CA"),
])
def test_a_broker_setting_the_kiosk_cannot_use_is_named_in_one_line(monkeypatch, tmp_path: Path, env, named):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError) as err:
        load_settings(site="downtown", machine="lp-1", data_dir=tmp_path)
    assert named in str(err.value) and "\n" not in str(err.value)


def test_fleet_says_when_the_brokers_certificate_is_not_from_the_given_ca(gym: Gym, tmp_path: Path, capsys):
    other_ca = tmp_path / "other-ca.crt"
    other_ca.write_bytes(new_ca("elsewhere").cert_pem)
    assert fleet("command", "rebirth", "--machine", "lp-1", "--site", "downtown", "--timeout", "1",
                 "--broker-secrets", str(secrets_file(gym, "op-ops")), "--broker-ca", str(other_ca)) == 1
    err = capsys.readouterr().err
    assert "could not connect" in err and "TLS: unable to get local issuer certificate" in err, err


def test_a_wrong_password_is_told_once_at_once(gym: Gym, capsys):
    start = time.monotonic()
    assert fleet("status", "--site", "downtown", "--broker-secrets", str(secrets_file(gym, "op-ops")),
                 "--broker", f"mqtts://op-ops:not-the-password@localhost:{gym.site_tls}") == 1
    took = time.monotonic() - start
    err = capsys.readouterr().err
    assert err == (f"legpress-fleet: mqtts://op-ops:***@localhost:{gym.site_tls} refused the login of op-ops: "
                   "Not authorized; check the user and password (--broker-secrets)\n"), err
    assert "not-the-password" not in err
    assert took < 5, f"a refusal does not wait for the connect timeout ({took:.1f} s)"


def test_plain_mqtt_against_the_tls_port_says_to_use_mqtts_at_once(gym: Gym, capsys):
    start = time.monotonic()
    assert fleet("status", "--site", "downtown", "--broker", f"mqtt://localhost:{gym.site_tls}") == 1
    took = time.monotonic() - start
    err = capsys.readouterr().err
    assert err == (f"legpress-fleet: could not connect to mqtt://localhost:{gym.site_tls}: localhost port "
                   f"{gym.site_tls} speaks TLS and this is plain MQTT: use mqtts://localhost:{gym.site_tls} "
                   "(with --broker-ca for a render's CA)\n"), err
    assert took < 5, f"told before the connect timeout ({took:.1f} s)"


def test_a_kiosk_refused_by_its_broker_logs_it_once_however_often_paho_retries(gym: Gym, caplog):
    url = BrokerUrl.parse(f"mqtt://kiosk-lp-1:wrong@127.0.0.1:{gym.port('lp-1')}")
    link = MqttLink("refused-kiosk", url, reconnect_min_s=1, reconnect_max_s=1)
    with caplog.at_level("ERROR", logger="kiosk.mqtt.link"):
        link.start()
        try:
            eventually(lambda: link.stats.refused >= 3, what="three refused connects")
        finally:
            link.stop()
    said = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(said) == 1 and said[0].endswith("(retrying quietly)"), said
    assert link.refusal is not None and not link.connected
