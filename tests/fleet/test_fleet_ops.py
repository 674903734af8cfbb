"""`legpress-fleet status`, `watch`, `command` and `config` against a real mosquitto and real kiosks."""

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Annotated

import pytest
from pydantic import Field

from kiosk.contract.base import encode
from kiosk.contract.commands import CommandReply, OutOfOrder
from kiosk.contract.config import KioskConfig
from kiosk.contract.events import CueRaised
from kiosk.contract.kiosk import KioskStatus
from kiosk.contract.sensor import SensorStatus
from kiosk.dev.broker import Recording, publish
from kiosk.sim.node import SensorNode
from kiosk.sim.traces import generate
from tests.fleet.test_fleet_cli import fleet
from tests.support.helpers import eventually
from tests.support.kiosk_harness import make_kiosk, wait_announced
from tests.support.kiosk_process import kiosk_env, start_kiosk
from tests.support.nothing_sent import all_before_a_marker
from tests.support.sled import a_member_mid_set

SITE = "gym/v1/testgym"
FLEET_SCRIPT = Path(sys.executable).parent / "legpress-fleet"


def on_site(broker) -> list[str]:
    return ["--site", "testgym", "--broker", broker.url]


def row_of(table: str, machine: str) -> str:
    return next(line for line in table.splitlines() if line.startswith(f"{machine} "))


def retain_status(broker, machine: str, state: str) -> None:
    status = KioskStatus(state=state, mode="idle", ts=time.time() - 600, version="0.1.0", boot=4)
    publish(broker, f"{SITE}/{machine}/kiosk/status", encode(status), retain=True)


@pytest.fixture
def second_kiosk(broker, kiosk, tmp_path):
    """Kiosk `lp2` beside the `kiosk` fixture's `lp1`, sending telemetry every second."""
    k, _ = make_kiosk(broker.url, tmp_path / "data-lp2", kiosk.keyring, machine="lp2",
                      tuning={"telemetry_interval_s": 1})
    k.start()
    assert k.link.wait_connected(10)
    wait_announced(broker, k)
    yield k
    k.stop()


def test_status_lists_each_kiosk_with_its_mode_sensor_and_a_killed_one_as_lost(
        broker, kiosk, second_kiosk, collect, tmp_path, capsys):
    statuses = collect(f"{SITE}/lp3/kiosk/status")
    killed = start_kiosk(kiosk_env(broker.url, tmp_path / "data-lp3", LEGPRESS_MACHINE="lp3"), tmp_path / "lp3.log")
    try:
        statuses.wait_for(lambda m: m.decode(KioskStatus).state == "ready", timeout=15)
    finally:
        killed.kill()
        killed.wait(5)
        killed.stdin.close()
    statuses.wait_for(lambda m: m.decode(KioskStatus).state == "lost")
    kiosk.scan(kiosk.keyring.code("t_alex", role="staff"))
    collect(f"{SITE}/lp1/kiosk/status").wait_for(lambda m: m.decode(KioskStatus).mode == "maintenance")
    sensor = SensorStatus(state="ready", ts=time.time(), fw="fw-2", rate_hz=50)
    publish(broker, f"{SITE}/lp1/sensor/status", encode(sensor), retain=True)

    assert fleet("status", *on_site(broker), "--wait", "1.5") == 0
    table = capsys.readouterr().out
    lp1, lp2, lp3 = (row_of(table, m).split() for m in ("lp1", "lp2", "lp3"))
    assert lp1[1:3] == ["ready", "maintenance"] and lp1[5:7] == ["generic-45", "default"]
    assert lp1[7:10] == ["ready", "50", "Hz"]
    assert lp2[1:3] == ["ready", "idle"] and "0 invalid, 0 dropped" in row_of(table, "lp2")
    assert lp3[1] == "lost"
    assert table.splitlines()[0].split()[:3] == ["MACHINE", "KIOSK", "MODE"]


def test_status_shows_malformed_retained_messages_as_bad_payload_and_carries_on(broker, kiosk, capsys):
    publish(broker, f"{SITE}/lp9/kiosk/status", b"{not json", retain=True)
    publish(broker, f"{SITE}/lp9/kiosk/info", b'{"version": 3}', retain=True)
    publish(broker, f"{SITE}/lp9/sensor/status", b'{"state": "sleepy", "ts": 1}', retain=True)

    assert fleet("status", *on_site(broker), "--wait", "0.5") == 0
    table = capsys.readouterr().out
    assert row_of(table, "lp9").count("bad payload") == 4 + 2 + 1
    assert row_of(table, "lp1").split()[1:3] == ["ready", "idle"]

    assert fleet("status", *on_site(broker), "--wait", "0.5", "--json") == 0
    machines = {m["machine"]: m for m in json.loads(capsys.readouterr().out)}
    assert set(machines) == {"lp1", "lp9"}
    assert "bad_payload" in machines["lp9"]["status"] and "bad_payload" in machines["lp9"]["sensor"]
    assert machines["lp9"]["telemetry"] is None and machines["lp9"]["last_seen_s"] is None
    assert machines["lp1"]["status"]["state"] == "ready" and machines["lp1"]["info"]["machine"] == "lp1"


def test_watch_prints_a_line_per_event_and_warns_of_bad_payloads_until_sigterm(broker, kiosk):
    watch = subprocess.Popen([str(FLEET_SCRIPT), "watch", *on_site(broker)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = Recording("legpress-fleet watch")
    reader = threading.Thread(target=lambda: [lines.add(line.rstrip("\n")) for line in watch.stdout], daemon=True)
    reader.start()
    try:
        lines.wait_for(lambda line: "lp1  kiosk ready, mode idle" in line, timeout=15)
        kiosk.scan(kiosk.keyring.code("m_sam"))
        lines.wait_for(lambda line: line.endswith("lp1  session started for m_sam (member)"))
        node = SensorNode(broker.url, "testgym", "lp1")
        node.start()
        try:
            node.play(generate("good", 1, start_ts=time.time()), realtime=False)  # a node keeps the time
        finally:
            node.close()
        rep = lines.wait_for(lambda line: "lp1  rep 1: " in line)
        assert " mm, down " in rep and " s, up " in rep
        publish(broker, f"{SITE}/lp1/kiosk/event", b'{"type": "teleport", "ts": 1}')
        lines.wait_for(lambda line: line.startswith(f"warning: bad payload on {SITE}/lp1/kiosk/event"))
    finally:
        watch.send_signal(signal.SIGTERM)
        # Not communicate(): the reader thread owns stdout until it ends at EOF.
        watch.wait(10)
    reader.join(5)
    err = watch.stderr.read()
    assert watch.returncode == 0
    assert "1 bad payloads" in err
    assert lines.items[0].endswith("lp1  kiosk ready, mode idle (version 0.1.0, boot 1)")


def test_command_out_of_order_gets_an_ok_reply_by_response_topic_and_takes_the_kiosk_out(
        broker, kiosk, collect, capsys):
    requests = collect(f"{SITE}/lp1/kiosk/cmd/out_of_order")
    replies = collect(f"{SITE}/lp1/kiosk/res/out_of_order")

    assert fleet("command", "out_of_order", "--machine", "lp1", "--arg", "reason=cable frayed", *on_site(broker)) == 0
    out = capsys.readouterr().out
    assert out.startswith("lp1: ok\n") and json.loads(out.removeprefix("lp1: ok\n")) == {
        "mode": "out_of_order", "ended_session": None, "mid_set": False}
    assert kiosk.mode == "out_of_order" and kiosk.out_of_order_reason == "cable frayed"
    request = requests.wait_for(lambda m: True)  # its collector may hear it after the CLI is done
    transaction = request.decode(OutOfOrder).transaction
    assert request.properties.ResponseTopic == f"{SITE}/lp1/kiosk/res/out_of_order"
    assert request.properties.CorrelationData == transaction.encode()
    reply = replies.wait_for(lambda m: True)
    assert reply.properties.CorrelationData == transaction.encode()
    assert reply.decode(CommandReply).transaction == transaction


def test_out_of_order_says_on_its_first_line_that_a_member_was_mid_set(broker, kiosk, capsys):
    a_member_mid_set(broker, kiosk)
    assert fleet("command", "out_of_order", "--machine", "lp1", "--arg", "reason=cable frayed", *on_site(broker)) == 0
    first, *details = capsys.readouterr().out.splitlines()
    assert first == "lp1: ok (a member was mid-set: their session ended; check on them)"
    assert json.loads("\n".join(details))["mid_set"] is True


@pytest.mark.parametrize("argv,complaint", [
    (["message", "--arg", "text=Closing soon", "--arg", "seconds=-5"], "seconds: Input should be greater than 0"),
    (["out_of_order"], "reason: Field required"),
    (["in_service", "--arg", "colour=red"], "colour: Extra inputs are not permitted"),
    (["message", "--arg", "text"], "'text' is not KEY=VALUE"),
    (["reboot"], "invalid choice: 'reboot'"),
])
def test_a_bad_command_or_argument_exits_2_without_sending_anything(broker, collect, capsys, argv, complaint):
    sent = collect(f"{SITE}/#")
    assert fleet("command", *argv, "--machine", "lp1", *on_site(broker)) == 2
    err = capsys.readouterr().err
    assert complaint in err and err.count("\n") == 1
    assert all_before_a_marker(broker, sent, f"{SITE}/test/marker") == []


def test_command_to_all_collects_each_kiosks_reply_and_names_the_offline_one(broker, kiosk, second_kiosk, capsys):
    retain_status(broker, "lp3", "lost")
    started = time.monotonic()
    assert fleet("command", "diagnostics", "--all", *on_site(broker)) == 0
    assert time.monotonic() - started < 4, "returns once every online kiosk has answered, before the timeout"
    out, err = capsys.readouterr()
    # The verdict first (no sensor node here, so not ok), a line per check after it.
    assert "lp1: not ok: no sensor data" in out and "lp2: not ok: no sensor data" in out and "lp3" not in out
    assert "model generic-45" in out
    assert err == "lp3: no reply (its status: lost)\n"


def test_command_to_a_kiosk_that_does_not_answer_exits_1_naming_its_status(broker, capsys):
    retain_status(broker, "lp3", "lost")
    assert fleet("command", "in_service", "--machine", "lp3", "--timeout", "0.5", *on_site(broker)) == 1
    assert capsys.readouterr().err == ("legpress-fleet: lp3 did not reply to in_service within 0.5 s "
                                       "(its status: lost)\n")


def test_command_with_no_broker_to_reach_exits_1_in_one_line(capsys):
    assert fleet("command", "in_service", "--all", "--timeout", "0.5", "--site", "testgym",
                 "--broker", "mqtt://127.0.0.1:9") == 1
    err = capsys.readouterr().err
    assert err.startswith("legpress-fleet: could not connect to mqtt://127.0.0.1:9: connection refused")
    assert err.count("\n") == 1

def test_config_pushed_site_wide_is_applied_by_every_kiosk_and_shown(broker, kiosk, second_kiosk, tmp_path, capsys):
    pushed = tmp_path / "site.json"
    pushed.write_text(json.dumps({"version": "site-7", "idle_timeout_s": 120, "cues": {"descent_fast_s": 1.5}}))
    assert fleet("config", "push", "--site-wide", str(pushed), *on_site(broker)) == 0
    out = capsys.readouterr().out
    assert "lp1: applied, config version site-7" in out and "lp2: applied, config version site-7" in out
    assert kiosk.config.idle_timeout_s == 120 and second_kiosk.config.cues.descent_fast_s == 1.5

    assert fleet("config", "show", "--machine", "lp2", *on_site(broker)) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("lp2: ok, config version site-7\n")
    assert json.loads(shown.split("\n", 1)[1])["idle_timeout_s"] == 120


def test_config_clear_withdraws_a_machines_push(broker, kiosk, tmp_path, capsys):
    (tmp_path / "lp1.json").write_text('{"version": "lp1-quiet", "sound": false}')
    assert fleet("config", "push", "--machine", "lp1", str(tmp_path / "lp1.json"), *on_site(broker)) == 0
    assert kiosk.config.sound is False
    assert fleet("config", "clear", "--machine", "lp1", *on_site(broker)) == 0
    assert "lp1: applied, config version default" in capsys.readouterr().out
    assert kiosk.config.sound is True


def test_config_unset_returns_one_field_to_the_layer_below_and_keeps_the_rest(broker, kiosk, tmp_path, capsys):
    (tmp_path / "lp1.json").write_text('{"version": "lp1-quiet", "sound": false, "idle_timeout_s": 120}')
    assert fleet("config", "push", "--machine", "lp1", str(tmp_path / "lp1.json"), *on_site(broker)) == 0
    assert kiosk.config.sound is False
    capsys.readouterr()
    assert fleet("config", "unset", "--machine", "lp1", "sound", *on_site(broker)) == 0
    out = capsys.readouterr().out
    assert "  sound: false -> (not set)" in out and "lp1: applied, config version lp1-quiet" in out
    assert kiosk.config.sound is True and kiosk.config.idle_timeout_s == 120
    # What the layer does not set: one line, exit 2, nothing sent.
    assert fleet("config", "unset", "--machine", "lp1", "cues.sensor_lost_s", *on_site(broker)) == 2
    err = capsys.readouterr().err
    assert "cues.sensor_lost_s is not set in this layer" in err and err.count("\n") == 1
    assert kiosk.config.idle_timeout_s == 120


class _OlderReleaseConfig(KioskConfig):
    """The config model of a kiosk release that allowed at most 5 idle minutes."""

    idle_timeout_s: Annotated[float, Field(gt=0, le=300)] = 90.0


def test_config_the_kiosk_refuses_is_reported_with_its_error_and_the_old_config_stays(
        broker, kiosk, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("kiosk.core.site.remote_config.KioskConfig", _OlderReleaseConfig)
    (tmp_path / "long.json").write_text('{"version": "long-idle", "idle_timeout_s": 1200}')
    assert fleet("config", "push", "--machine", "lp1", str(tmp_path / "long.json"), *on_site(broker)) == 1
    out = capsys.readouterr().out
    assert ("lp1: refused: kiosk config refused, previous config kept: "
            "idle_timeout_s: Input should be less than or equal to 300") in out
    assert kiosk.config.version == "default"


@pytest.mark.parametrize("content,complaint", [
    ('{"idle_timeout_s": -1}', "idle_timeout_s: Input should be greater than 0"),
    ('{"volume": 11}', "volume: Extra inputs are not permitted"),
    ('{"member_id_pattern": ".*"}', "member_id_pattern matches an empty scan"),
    ('{"cues": {"lumbar_liftoffs_to_stop": 10}}',
     "cues.lumbar_liftoffs_to_stop: Input should be less than or equal to 2"),
    ("[1, 2]", "payload must be a JSON object"),
    ("{nope", "not JSON"),
])
def test_a_config_file_that_is_not_a_valid_config_is_refused_before_sending(
        broker, collect, tmp_path, capsys, content, complaint):
    sent = collect(f"{SITE}/#")
    (tmp_path / "bad.json").write_text(content)
    assert fleet("config", "push", "--site-wide", str(tmp_path / "bad.json"), *on_site(broker)) == 2
    err = capsys.readouterr().err
    assert complaint in err and err.count("\n") == 1
    assert all_before_a_marker(broker, sent, f"{SITE}/test/marker") == []



def _watching(broker, *options: str) -> tuple[subprocess.Popen, Recording]:
    watch = subprocess.Popen([str(FLEET_SCRIPT), "watch", *on_site(broker), *options],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: Recording[str] = Recording(f"watch {' '.join(options)}")
    threading.Thread(target=lambda: [lines.add(line.rstrip("\n")) for line in watch.stdout], daemon=True).start()
    return watch, lines


def test_watch_keeps_the_types_and_severities_asked_for_and_tells_the_out_of_order_reason(broker, kiosk):
    by_type, typed = _watching(broker, "--type", "pain_report,status")
    by_severity, urgent = _watching(broker, "--min-severity", "stop")
    try:
        typed.wait_for(lambda line: "lp1  kiosk ready, mode idle" in line, timeout=15)
        # The severe watch prints nothing of a quiet site: a stop on lp3, sent until it shows, says it listens.
        sentinel = encode(CueRaised(ts=time.time(), session="s-3", cue="pain_stop", severity="stop"))
        eventually(lambda: publish(broker, f"{SITE}/lp3/kiosk/event", sentinel) or any(
            "lp3  [STOP] " in line for line in urgent.items), what="the severe watch listening")
        kiosk.scan(kiosk.keyring.code("m_sam"))
        kiosk.press_pain()
        kiosk.report_pain("radiating")
        assert "pain reported (radiating)" in typed.wait_for(lambda line: "lp1  pain reported" in line)
        urgent.wait_for(lambda line: "lp1  [STOP] " in line)
        urgent.wait_for(lambda line: "lp1  pain reported (radiating)" in line)
        assert fleet("command", "out_of_order", "--machine", "lp1", "--arg", "reason=cable frayed",
                     *on_site(broker)) == 0
        typed.wait_for(lambda line: "lp1  kiosk ready, mode out_of_order: cable frayed (version " in line)
        # A stop from elsewhere on the site: once the severe watch has it, it has had all before it.
        publish(broker, f"{SITE}/lp2/kiosk/event", encode(CueRaised(ts=time.time(), session="s-2",
                                                                    cue="pain_stop", severity="stop")))
        urgent.wait_for(lambda line: "lp2  [STOP] " in line)
        typed.wait_for(lambda line: "lp1  kiosk ready, mode idle" in line and "out_of_order" not in line)
    finally:
        for watch in (by_type, by_severity):
            watch.send_signal(signal.SIGTERM)
            watch.wait(10)
    assert not [line for line in typed.items if "session started" in line or "[STOP]" in line], typed.items
    assert all("[STOP]" in line or "pain reported" in line for line in urgent.items), urgent.items


def test_watch_refuses_a_type_it_does_not_know_in_one_line(broker, capsys):
    assert fleet("watch", *on_site(broker), "--type", "pain,stop") == 2
    err = capsys.readouterr().err
    assert "pain, stop is not a kind of line; choose from session_start, rep, cue" in err


def test_status_json_into_a_reader_that_stops_early_ends_quietly(broker, kiosk):
    status = subprocess.Popen([str(FLEET_SCRIPT), "status", "--json", "--wait", "0.3", *on_site(broker)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    status.stdout.close()  # like `| head -0`: the reader is gone before the first line
    assert status.wait(20) == 141
    assert status.stderr.read() == b""
