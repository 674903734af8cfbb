"""The live tools as an operator found them on the demo, each fix pinned: status, watch, connecting, erasing.

Real mosquitto, real recorder store; messages published with the contract models.
"""

import json
import logging
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from kiosk.contract.base import encode
from kiosk.contract.config import ConfigState
from kiosk.contract.events import Alert, RepDone
from kiosk.contract.kiosk import KioskInfo, KioskStatus, KioskTelemetry, LinkHealth, SensorHealth
from kiosk.contract.sensor import SensorStatus
from kiosk.contract.topics import MachineTopics, member_profile
from kiosk.dev.broker import Recording, free_port, publish
from kiosk.fleet.cli import main
from kiosk.fleet.recorder.intake import to_row
from kiosk.fleet.recorder.store_url import open_store
from kiosk.fleet.watch import follow
from kiosk.mqtt.link import MqttLink
from tests.support.helpers import eventually
from tests.support.nothing_sent import all_before_a_marker

SITE = "testgym"
LP5 = MachineTopics(SITE, "lp5")
FLEET = Path(sys.executable).parent / "legpress-fleet"


def fleet(*argv: str) -> int:
    try:
        return main(list(argv))
    except SystemExit as stop:
        return int(stop.code or 0)


def on_site(broker) -> list[str]:
    return ["--site", SITE, "--broker", broker.url]


def row_of(table: str, machine: str) -> str:
    return next(line for line in table.splitlines() if line.startswith(f"{machine} "))


def retain_ready(broker, mode: str = "session", age_s: float = 600.0) -> None:
    status = KioskStatus(state="ready", mode=mode, ts=time.time() - age_s, version="0.1.0", boot=2)
    publish(broker, LP5.kiosk_status, encode(status), retain=True)
    info = KioskInfo(version="0.1.0", machine_model="hammer-45", config_version="v1", contract_version="gym/v1",
                     site=SITE, machine="lp5")
    publish(broker, LP5.kiosk_info, encode(info), retain=True)


def telemetry(ts: float, invalid: int = 2) -> KioskTelemetry:
    return KioskTelemetry(ts=ts, uptime_s=100, sensor=SensorHealth(rate_hz=50, invalid=invalid, dropped=1),
                          broker=LinkHealth(connected=True))


def later(seconds: float, action) -> threading.Thread:
    thread = threading.Thread(target=lambda: (time.sleep(seconds), action()))
    thread.start()
    return thread


def test_status_last_seen_is_the_last_activity_not_the_last_status_publish(broker, capsys):
    retain_ready(broker, age_s=70)  # the session started 70 s ago; reps are coming in
    rep = RepDone(ts=time.time(), session="s1", rep=3, depth_mm=250, eccentric_s=2, concentric_s=1)
    during = later(0.5, lambda: publish(broker, LP5.kiosk_event, encode(rep)))
    assert fleet("status", *on_site(broker), "--wait", "1.5") == 0
    during.join()
    assert row_of(capsys.readouterr().out, "lp5").endswith(("0 s ago", "1 s ago", "2 s ago"))
    assert fleet("status", *on_site(broker), "--wait", "0.5") == 0  # nothing happening now: the status again
    assert row_of(capsys.readouterr().out, "lp5").endswith(("72 s ago", "73 s ago", "74 s ago"))


def test_status_sensor_health_comes_from_live_telemetry(broker, capsys):
    retain_ready(broker)
    during = later(0.5, lambda: publish(broker, LP5.kiosk_telemetry, encode(telemetry(time.time())), qos=0))
    assert fleet("status", *on_site(broker), "--wait", "1.5") == 0
    during.join()
    out = capsys.readouterr().out
    assert "50 Hz, 2 invalid, 1 dropped" in row_of(out, "lp5")
    assert "no telemetry" not in out


def test_status_sensor_health_comes_from_the_recorders_store_when_none_is_heard(broker, tmp_path, capsys):
    retain_ready(broker)
    store_url = f"sqlite:{tmp_path / 'record.sqlite'}"
    store = open_store(store_url)
    store.migrate()
    store.add([to_row(LP5.kiosk_telemetry, encode(telemetry(time.time() - 90, invalid=7)), time.time())])
    store.close()
    assert fleet("status", *on_site(broker), "--wait", "0.5", "--store", store_url) == 0
    # The recorded telemetry is also the kiosk's last sign of life.
    row = row_of(capsys.readouterr().out, "lp5")
    assert re.search(r"50 Hz, 7 invalid, 1 dropped \(9[0-2] s ago\)\s+9[0-2] s ago$", row)


def test_status_without_telemetry_says_why_sensor_health_is_missing(broker, capsys):
    retain_ready(broker)
    assert fleet("status", *on_site(broker), "--wait", "0.5") == 0
    out = capsys.readouterr().out
    assert ("no telemetry from lp5 in 0.5 s: it sends it every 30 s; listen longer (--wait 31) "
            "or read the recorder's (--store) for SENSOR HEALTH") in out


def test_status_shows_a_refused_config_push(broker, capsys):
    retain_ready(broker)
    refused = ConfigState(status="error", error="idle_timeout_s: Input should be greater than 0", config={},
                          version="v1")
    publish(broker, LP5.kiosk_config_state, encode(refused), retain=True)
    assert fleet("status", *on_site(broker), "--wait", "0.5") == 0
    out = capsys.readouterr().out
    assert "v1 (push refused)" in row_of(out, "lp5")
    assert ("lp5: the last config push was refused: idle_timeout_s: Input should be greater than 0 "
            "(still running config v1)") in out


def watching(broker, machine: str | None = None):
    lines, said = Recording("watch lines"), Recording("watch notices")
    stop = threading.Event()
    thread = threading.Thread(target=follow, args=(broker.url, SITE, machine, stop, lines.add, said.add))
    thread.start()
    return lines, said, stop, thread


def test_watch_stamps_a_line_with_when_it_arrived_not_the_time_inside_a_will(broker):
    retain_ready(broker)
    lines, _said, stop, thread = watching(broker)
    try:
        lines.wait_for(lambda line: "lp5  kiosk ready" in line, timeout=20)  # watching: the retained status is in
        # A sensor's Will carries the time it connected, ten minutes ago.
        will = SensorStatus(state="lost", ts=time.time() - 600, fw="fw-2", rate_hz=0)
        publish(broker, LP5.sensor_status, encode(will), retain=True)
        line = lines.wait_for(lambda line: "sensor lost" in line)
        now = time.time()
        assert line.split()[0] in {time.strftime("%H:%M:%S", time.localtime(now - d)) for d in (0, 1, 2)}
        late = RepDone(ts=now - 900, session="s1", rep=1, depth_mm=250, eccentric_s=2, concentric_s=1)
        publish(broker, LP5.kiosk_event, encode(late))
        held = lines.wait_for(lambda line: "rep 1" in line)
        assert held.endswith(f"(happened {time.strftime('%H:%M:%S', time.localtime(now - 900))})")
    finally:
        stop.set()
        thread.join(10)


def test_watch_shows_an_alert_about_a_stop_nobody_acknowledged(broker):
    lines, _said, stop, thread = watching(broker)
    try:
        # A retained status first: once its line is out, watch is subscribed and sees what follows.
        publish(broker, LP5.sensor_status, encode(SensorStatus(state="ready", ts=time.time(), fw="fw-2")), retain=True)
        lines.wait_for(lambda line: "lp5" in line and "sensor" in line)
        alert = Alert(ts=time.time(), session="s1", reason="stop_unacknowledged", member="m_sam", cue="liftoff_lumbar",
                      waited_s=30.2, repeat=1)
        publish(broker, LP5.kiosk_event, encode(alert))
        line = lines.wait_for(lambda line: "ALERT" in line)
        assert "lp5" in line and "m_sam" in line and "30 s" in line and "under the weight" in line
    finally:
        stop.set()
        thread.join(10)


def test_watch_says_in_words_when_the_broker_dies_and_when_it_is_back(broker):
    retain_ready(broker)
    watch = subprocess.Popen([str(FLEET), "watch", *on_site(broker)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    notices, lines = Recording("watch stderr"), Recording("watch stdout")
    readers = [threading.Thread(target=lambda: [notices.add(line.rstrip("\n")) for line in watch.stderr], daemon=True),
               threading.Thread(target=lambda: [lines.add(line.rstrip("\n")) for line in watch.stdout], daemon=True)]
    for reader in readers:
        reader.start()
    try:
        lines.wait_for(lambda line: "lp5  kiosk ready" in line, timeout=20)  # watching: the retained status is in
        broker.stop()
        lost = notices.wait_for(lambda line: "lost the broker" in line)
        assert lost.endswith(f"lost the broker {broker.url}: check that it is running and reachable from here; "
                             "retrying until it is back (Ctrl-C to stop)")
        broker.start()
        notices.wait_for(lambda line: f"reconnected to {broker.url}" in line, timeout=40)
    finally:
        watch.terminate()
        watch.wait(10)
    for reader in readers:
        reader.join(5)
    assert not any("Unspecified error" in line for line in notices.items), notices.items


def test_connecting_to_a_closed_port_says_connection_refused_at_once(capsys):
    closed = free_port()
    started = time.monotonic()
    assert fleet("status", "--site", SITE, "--broker", f"mqtt://127.0.0.1:{closed}") == 1
    assert time.monotonic() - started < 3
    err = capsys.readouterr().err
    assert err == (f"legpress-fleet: could not connect to mqtt://127.0.0.1:{closed}: connection refused: nothing "
                   f"listens on 127.0.0.1 port {closed}; is the broker running, and is that its port?\n")


def test_connecting_to_a_port_that_never_answers_still_says_no_answer(capsys):
    # A listening socket that never speaks MQTT: the broker's host is there, the broker is not.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        assert fleet("command", "in_service", "--machine", "lp5", "--timeout", "1", "--site", SITE,
                     "--broker", f"mqtt://127.0.0.1:{port}") == 1
    err = capsys.readouterr().err
    assert err == f"legpress-fleet: could not connect to mqtt://127.0.0.1:{port} within 1 s (no answer)\n"


def test_erasing_a_member_with_no_saved_profile_says_so_and_sends_nothing(broker, collect, capsys):
    topic = member_profile(SITE, "m_unknown")
    watcher = collect(topic)
    assert fleet("members", "erase", "--member", "m_unknown", *on_site(broker)) == 1
    assert capsys.readouterr().err == ("legpress-fleet: no saved profile of member m_unknown on site testgym: "
                                       "nothing to erase (check the member id)\n")
    assert all_before_a_marker(broker, watcher, topic) == []


def test_a_link_that_cannot_reach_its_broker_logs_it_once_per_outage(caplog):
    caplog.set_level(logging.WARNING, logger="kiosk.mqtt.link")
    link = MqttLink("kiosk-lp5", f"mqtt://127.0.0.1:{free_port()}", reconnect_min_s=1, reconnect_max_s=1)
    link.start()
    try:
        eventually(lambda: link.stats.unreachable >= 3, timeout=20, what="three attempts without a broker")
    finally:
        link.stop()
    warnings = [r.getMessage() for r in caplog.records if "cannot reach broker" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].startswith("cannot reach broker mqtt://127.0.0.1:") and "as kiosk-lp5" in warnings[0]
    assert link.stats.last_error == "cannot reach the broker"


def test_status_shows_the_sensor_node_its_kiosk_relays_and_marks_it_last_heard_once_the_kiosk_is_lost(broker, capsys):
    retain_ready(broker)
    node = SensorStatus(state="ready", ts=time.time(), fw="2.1", rate_hz=50.0)
    publish(broker, LP5.kiosk_sensor, encode(node), retain=True)  # all a site broker holds of the node
    assert fleet("status", *on_site(broker), "--wait", "0.3") == 0
    assert "ready 50 Hz" in row_of(capsys.readouterr().out, "lp5")
    publish(broker, LP5.kiosk_bridge, b"0", retain=True)  # the site lost the kiosk's broker
    assert fleet("status", *on_site(broker), "--wait", "0.3") == 0
    row = row_of(capsys.readouterr().out, "lp5")
    assert row.split()[1] == "lost" and "ready 50 Hz (last heard)" in row


def test_a_bridge_state_that_is_not_0_or_1_is_shown_as_a_bad_payload_not_taken_for_lost(broker, capsys):
    retain_ready(broker)
    publish(broker, LP5.kiosk_bridge, b'{"state": "lost"}', retain=True)  # a kiosk login can write its own
    assert fleet("status", *on_site(broker), "--wait", "0.3", "--json") == 0
    record = next(r for r in json.loads(capsys.readouterr().out) if r["machine"] == "lp5")
    assert "0 or 1" in record["bridge"]["bad_payload"] and record["status"]["state"] == "ready"


def test_the_view_follows_a_bounded_number_of_machines_and_counts_the_rest(broker, monkeypatch):
    from kiosk.fleet import view as view_module

    # A login that may publish under `+` (Home Assistant's `out_of_order`) could make up machine ids for ever.
    monkeypatch.setattr(view_module, "MAX_MACHINES", 2)
    view = view_module.FleetView(SITE, {"status": view_module.KIOSK_STATUS})
    link = MqttLink("t-view-bound", broker.url)
    view.listen(link)
    link.start()
    try:
        assert link.wait_connected(10)
        for machine in ("lp1", "lp2", "lp3", "lp1"):
            status = KioskStatus(state="ready", ts=1_700_000_000.0, mode="idle", version="1.0.0", boot=1)
            publish(broker, MachineTopics(SITE, machine).kiosk_status, encode(status))
        eventually(lambda: view.machines_ignored == 1 and view.latest("lp1", "status") is not None, what="lp3 ignored")
        assert view.machines() == ["lp1", "lp2"]
    finally:
        link.stop()
