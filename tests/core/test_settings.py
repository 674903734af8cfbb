"""Settings come from TOML and LEGPRESS_* variables; a wrong one is named in one line."""

import pytest

from kiosk.core.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    import os

    for key in list(os.environ):
        if key.startswith("LEGPRESS_"):
            monkeypatch.delenv(key)


def test_toml_file_and_environment_combine_with_environment_winning(tmp_path, monkeypatch):
    toml = tmp_path / "kiosk.toml"
    toml.write_text('site = "downtown"\nmachine = "lp-2"\nmachine_model = "hammer-45"\n'
                    '[tuning]\nidle_timeout_s = 120\n[tuning.cues]\ndescent_fast_s = 1.5\n')
    monkeypatch.setenv("LEGPRESS_MACHINE", "lp-3")
    monkeypatch.setenv("LEGPRESS_TUNING__SOUND", "false")
    s = load_settings(toml)
    assert (s.site, s.machine, s.machine_model) == ("downtown", "lp-3", "hammer-45")
    assert s.tuning.idle_timeout_s == 120 and s.tuning.cues.descent_fast_s == 1.5 and s.tuning.sound is False


def test_broker_url_carries_credentials_but_never_prints_the_password(monkeypatch):
    monkeypatch.setenv("LEGPRESS_SITE", "g")
    monkeypatch.setenv("LEGPRESS_MACHINE", "m")
    monkeypatch.setenv("LEGPRESS_BROKER", "mqtt://kiosk:s3cret@broker.local:1884")
    url = load_settings().broker_url
    assert (url.host, url.port, url.username, url.password) == ("broker.local", 1884, "kiosk", "s3cret")
    assert "s3cret" not in str(url)


@pytest.mark.parametrize("env,named", [
    ({}, "LEGPRESS_SITE"),
    ({"LEGPRESS_SITE": "Down Town", "LEGPRESS_MACHINE": "m"}, "LEGPRESS_SITE"),
    ({"LEGPRESS_SITE": "g", "LEGPRESS_MACHINE": "m", "LEGPRESS_BROKER": "http://x:1"}, "LEGPRESS_BROKER"),
    ({"LEGPRESS_SITE": "g", "LEGPRESS_MACHINE": "m", "LEGPRESS_CAMERA": "webcam"}, "LEGPRESS_CAMERA"),
    ({"LEGPRESS_SITE": "g", "LEGPRESS_MACHINE": "m", "LEGPRESS_TUNING__IDLE_TIMEOUT_S": "-5"},
     "LEGPRESS_TUNING__IDLE_TIMEOUT_S"),
    ({"LEGPRESS_SITE": "g", "LEGPRESS_MACHINE": "m", "LEGPRESS_MACHINE_MODEL": "Hammer 45"}, "LEGPRESS_MACHINE_MODEL"),
])
def test_a_wrong_setting_is_named_in_one_line(monkeypatch, env, named):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert named in str(err.value) and "\n" not in str(err.value)


def test_unknown_key_in_the_file_is_refused(tmp_path):
    toml = tmp_path / "kiosk.toml"
    toml.write_text('site = "g"\nmachine = "m"\nidle_timout = 3\n')
    with pytest.raises(SettingsError, match="idle_timout"):
        load_settings(toml)


def test_broken_toml_and_missing_file_say_so(tmp_path):
    toml = tmp_path / "kiosk.toml"
    toml.write_text('site = "g\n')
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(toml)
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


@pytest.mark.parametrize("env,named", [
    ({"LEGPRESS_DATA_DIR": "/proc/no-such-place"}, "LEGPRESS_DATA_DIR"),
    ({"LEGPRESS_TRUSTED_KEYS": "/etc/hostname"}, "LEGPRESS_TRUSTED_KEYS"),
    ({"LEGPRESS_TUNING": "{bad"}, "tuning"),
    ({"LEGPRESS_BROKER": "mqtt://broker:0"}, "LEGPRESS_BROKER"),
    ({"LEGPRESS_TUNING__MEMBER_ID_PATTERN": ".+"}, "would let anyone in"),
    ({"LEGPRESS_TUNING__MEMBER_ID_PATTERN": ".*"}, "matches an empty scan"),
    ({"LEGPRESS_TUNING__MEMBER_ID_PATTERN": "M[0-9"}, "not a valid regular expression"),
])
def test_settings_the_disk_or_the_parser_refuses_are_named_too(monkeypatch, tmp_path, env, named):
    monkeypatch.setenv("LEGPRESS_SITE", "g")
    monkeypatch.setenv("LEGPRESS_MACHINE", "m")
    monkeypatch.setenv("LEGPRESS_DATA_DIR", str(tmp_path / "data"))
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert named in str(err.value) and "\n" not in str(err.value)


def test_a_broker_off_this_host_without_a_login_is_refused_in_one_line(monkeypatch, tmp_path):
    for k, v in {"LEGPRESS_SITE": "g", "LEGPRESS_MACHINE": "m", "LEGPRESS_BROKER": "mqtt://10.0.0.5:1883",
                 "LEGPRESS_DATA_DIR": str(tmp_path / "data")}.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert str(err.value).startswith("setting broker (LEGPRESS_BROKER): ") and "not on this host" in str(err.value)
    assert "LEGPRESS_BROKER_SECRETS" in str(err.value) and "\n" not in str(err.value)
    monkeypatch.setenv("LEGPRESS_BROKER", "mqtt://kiosk-m:secret@10.0.0.5:1883")
    assert load_settings().broker_url.username == "kiosk-m"
