"""Operator text reaches the screen and the log as sent; replies stay on the kiosk's own tree; files are private."""

import json
import os
import stat

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kiosk.contract.commands import CommandReply
from kiosk.core.settings import SettingsError, load_settings
from kiosk.core.snapshot import OperatorNotice
from kiosk.dev.broker import publish
from tests.support.kiosk_harness import Keyring, make_kiosk

R = "gym/v1/testgym/lp1"


def _command(broker, collect, name: str, body: dict, properties: Properties | None = None) -> dict:
    replies = collect(f"{R}/kiosk/res/{name}")
    publish(broker, f"{R}/kiosk/cmd/{name}", json.dumps({"transaction": "t1", **body}), properties=properties)
    return json.loads(replies.wait_for(lambda m: b'"t1"' in m.payload).payload)


@pytest.mark.parametrize("text", ["Closing soon\n2026-12-01 10:00:00 INFO kiosk: maintenance opened by staff",
                                  "Closing\rsoon", "\x1b[2J\x1b[HHacked", "Tap here \u202egnp.exe", "tab\there"])
def test_a_message_with_control_characters_is_refused_and_never_shown(broker, collect, kiosk, text):
    reply = _command(broker, collect, "message", {"text": text, "seconds": 60})
    assert reply["status"] == "error" and "control or formatting character" in reply["error"]
    assert not any(isinstance(s, OperatorNotice) for s in kiosk.screen.seen)
    ok = _command(broker, collect, "message", {"text": "Closing in 10 minutes, café open", "seconds": 60})
    assert ok["status"] == "ok"
    kiosk.screen.wait_for(lambda s: isinstance(s, OperatorNotice) and s.text == "Closing in 10 minutes, café open")


def test_an_out_of_order_reason_with_a_newline_is_refused(broker, collect, kiosk):
    reply = _command(broker, collect, "out_of_order", {"reason": "cable\nINFO all fine"})
    assert reply["status"] == "error" and kiosk.mode == "idle"


@pytest.mark.parametrize("response_topic", ["gym/v1/othergym/lp1/kiosk/res/diagnostics",
                                            "gym/v1/testgym/lp2/kiosk/res/diagnostics", "ops/replies"])
def test_a_reply_outside_the_kiosks_own_res_tree_goes_home_and_is_counted(broker, collect, kiosk, response_topic):
    elsewhere = collect(response_topic)
    props = Properties(PacketTypes.PUBLISH)
    props.ResponseTopic = response_topic
    props.CorrelationData = b"ops-7-req-1"
    replies = collect(f"{R}/kiosk/res/diagnostics")
    publish(broker, f"{R}/kiosk/cmd/diagnostics", json.dumps({"transaction": "t1"}), properties=props)
    message = replies.wait_for(lambda m: True)
    reply = message.decode(CommandReply)
    # The command did what it says: `ok` with no error; why it came here is said beside the payload.
    assert reply.status == "ok" and reply.error is None and reply.transaction == "t1"
    assert message.properties is not None
    assert message.properties.CorrelationData == b"ops-7-req-1"
    assert [k for k, _ in message.properties.UserProperty] == ["response_topic_refused"]
    assert elsewhere.messages == []
    own = f"{R}/kiosk/res/diagnostics/ops-7"
    honest, props.ResponseTopic = collect(own), own
    publish(broker, f"{R}/kiosk/cmd/diagnostics", json.dumps({"transaction": "t2"}), properties=props)
    answer = json.loads(honest.wait_for(lambda m: True).payload)
    assert answer["error"] is None
    assert answer["data"]["telemetry"]["defences"]["replies_redirected"] == 1


def test_the_data_folder_and_its_files_are_private_whatever_the_umask(broker, tmp_path):
    old = os.umask(0o000)
    try:
        data = tmp_path / "data"
        kiosk, _ = make_kiosk(broker.url, data, Keyring(tmp_path))
        kiosk.start()
        assert kiosk.link.wait_connected(10)
        kiosk.stop()
    finally:
        os.umask(old)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    files = [p for p in data.iterdir() if p.is_file()]
    assert {p.name for p in files} >= {"boot_count", "profiles.sqlite3"}
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {p.name: "0o600" for p in files}


def test_a_shared_or_foreign_folder_is_refused_as_the_data_folder_and_left_as_it_was(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    home = tmp_path / "home"
    home.mkdir()
    (home / "notes.txt").write_text("someone's")
    os.chmod(home / "notes.txt", 0o644)
    for folder in (shared, home):
        with pytest.raises(SettingsError) as refused:
            load_settings(site="g", machine="m", data_dir=folder)
        assert "LEGPRESS_DATA_DIR" in str(refused.value) and "a folder of its own" in str(refused.value)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    assert stat.S_IMODE((home / "notes.txt").stat().st_mode) == 0o644


def test_a_data_folder_left_open_by_an_older_kiosk_is_closed_at_start(broker, tmp_path):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    (data / "profiles.sqlite3").touch(mode=0o644)
    os.chmod(data / "profiles.sqlite3", 0o644)
    kiosk, _ = make_kiosk(broker.url, data, Keyring(tmp_path))
    kiosk.start()
    kiosk.stop()
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "profiles.sqlite3").stat().st_mode) == 0o600
