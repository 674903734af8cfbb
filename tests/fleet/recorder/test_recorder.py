"""`legpress-fleet record` against a real mosquitto, on SQLite and on a real PostgreSQL (every test, both engines)."""

import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kiosk.contract.events import CueRaised, RepDone, SessionStart
from kiosk.contract.kiosk import KioskTelemetry, LinkHealth, SensorHealth
from kiosk.contract.profile import MachineSettings, MemberProfile
from kiosk.contract.topics import member_profile
from kiosk.dev.broker import publish
from kiosk.dev.postgres import PostgresServer
from kiosk.fleet.recorder import store as store_module
from kiosk.fleet.recorder.schema import LATEST, MIGRATIONS
from kiosk.fleet.recorder.service import Recorder
from kiosk.fleet.recorder.store import Store
from kiosk.fleet.recorder.store_url import open_store
from tests.fleet.recorder.kiosks import SITE, FakeKiosk, eventually

FLEET = Path(sys.executable).parent / "legpress-fleet"


def rows(store_url: str, table: str) -> int:
    """Rows as another reader sees them: its own connection, as a report would."""
    reader = open_store(store_url)
    try:
        return reader.count(table)
    finally:
        reader.close()


def stored_eids(store_url: str) -> list[tuple[str, int]]:
    reader = open_store(store_url)
    try:
        return sorted((m, int(e)) for m, e in reader.read("SELECT machine, eid FROM events WHERE eid IS NOT NULL"))
    finally:
        reader.close()


@pytest.fixture
def recorder(broker, store):
    r = Recorder(store, broker.url, SITE, client_id="recorder-under-test", log_every_s=3600)
    r.start()
    assert r.wait_connected(10)
    yield r
    r.stop()


@pytest.fixture
def lp1(broker):
    k = FakeKiosk(broker, "lp1")
    yield k
    k.close()


def start_recorder(broker, store_url: str, log: Path, *extra: str) -> subprocess.Popen:
    """The recorder as an operator runs it; returns once it has (re)subscribed."""
    before = log.read_text().count("subscribed") if log.exists() else 0
    with log.open("ab") as out:
        proc = subprocess.Popen([str(FLEET), "record", "--store", store_url, "--site", SITE, "--broker", broker.url,
                                 *extra], stdout=out, stderr=subprocess.STDOUT)
    eventually(lambda: log.read_text().count("subscribed") > before or proc.poll() is not None, 20,
               "the recorder subscribing")
    assert proc.poll() is None, log.read_text()
    return proc


def test_recorder_stopped_and_restarted_while_kiosks_publish_loses_no_event_and_stores_none_twice(
        broker, store_url, tmp_path):
    log = tmp_path / "recorder.log"
    proc = start_recorder(broker, store_url, log)
    kiosks = [FakeKiosk(broker, f"lp{i}") for i in (1, 2, 3)]
    per_kiosk = 250
    # The kiosks publish only as many events as the test allows at each step: free-running, on a loaded
    # machine they could finish while the recorder was still restarting, and "events published while it
    # was down, then while it was back" would not be what the test tested.
    allowed = threading.Semaphore(0)

    def sent() -> int:
        return sum(len(k.sent) for k in kiosks)

    def publish_workout(kiosk: FakeKiosk) -> None:
        allowed.acquire()
        kiosk.event(SessionStart(ts=time.time(), session=f"s-{kiosk.machine}", member="m1", role="member"))
        for rep in range(1, per_kiosk):
            allowed.acquire()
            kiosk.event(RepDone(ts=time.time(), session=f"s-{kiosk.machine}", rep=rep, depth_mm=250.0,
                                eccentric_s=2.0, concentric_s=1.0))

    def publish(n: int, wait: bool = True) -> None:
        target = sent() + n
        allowed.release(n)
        if wait:
            eventually(lambda: sent() >= target, 30, f"{n} more events sent")

    threads = [threading.Thread(target=publish_workout, args=(k,)) for k in kiosks]
    for t in threads:
        t.start()
    try:
        publish(150)  # the recorder up
        proc.send_signal(signal.SIGTERM)
        publish(150)  # while it stops, and once it is down: the broker keeps them for its session
        assert proc.wait(15) == 0, log.read_text()
        assert "in the last" in log.read_text()  # its goodbye line says what it stored
        proc = start_recorder(broker, store_url, log)
        publish(200)  # the recorder back
        publish(3 * per_kiosk - 500, wait=False)
        proc.kill()  # a crash while they publish: stored rows whose acknowledgement never left come again
        proc.wait(10)
        proc = start_recorder(broker, store_url, log)
        assert "session resumed" in log.read_text().splitlines()[-1]
    finally:
        allowed.release(3 * per_kiosk)  # whatever happened, no publisher waits for ever
        for t in threads:
            t.join(60)
        for k in kiosks:
            k.close()
    expected = sorted((k.machine, e["eid"]) for k in kiosks for e in k.sent)
    assert len(expected) == 3 * per_kiosk
    eventually(lambda: rows(store_url, "events") >= len(expected), 30, "every event stored")
    # One more event, from a kiosk that sent nothing yet: the broker hands it to the recorder after every
    # redelivery of its session, and the recorder stores in arrival order, so once it is stored any copy
    # still under way has been stored (or skipped) too.
    last = FakeKiosk(broker, "lp9")
    try:
        last.event(SessionStart(ts=time.time(), session="s-lp9", member="m1", role="member"))
        last.flush()
        eventually(lambda: ("lp9", 1) in stored_eids(store_url), 30, "the last kiosk's event stored")
    finally:
        last.close()
    assert rows(store_url, "events") == len(expected) + 1
    assert stored_eids(store_url) == sorted([*expected, ("lp9", 1)])
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0


def test_a_redelivered_or_replayed_event_is_stored_once_with_or_without_eid(broker, recorder, store_url, lp1):
    first = lp1.event(RepDone(ts=1000.0, session="s1", rep=1, depth_mm=250.0, eccentric_s=2, concentric_s=1))
    lp1.publish(lp1.topics.kiosk_event, first)  # the same event again, as after a lost PUBACK
    lp1.publish(lp1.topics.kiosk_event, {**first, "replayed": True})  # and replayed by the kiosk
    no_eid = CueRaised(ts=1001.0, session="s1", cue="liftoff_lumbar", severity="warn", rep=1)
    lp1.event(no_eid, eid=False)
    lp1.event(no_eid, eid=False)  # an older kiosk's event: identified by session, type and ts
    lp1.event(CueRaised(ts=1002.0, session="s1", cue="liftoff_lumbar", severity="warn", rep=1), eid=False)
    lp1.flush()
    eventually(lambda: recorder.total.received == 6, what="six deliveries")
    eventually(lambda: recorder.total.added.duplicates == 3, what="three duplicates")
    # The sixth delivery may be stored in a batch after the fifth (the third duplicate): wait for it too.
    eventually(lambda: recorder.total.added.events + recorder.total.added.duplicates == 6, what="all six stored")
    assert rows(store_url, "events") == 3
    assert recorder.total.added.events == 3


def test_statuses_telemetry_info_and_profiles_are_kept_and_a_retained_status_once(broker, store, store_url, lp1):
    lp1.status("idle", ts=2000.0)
    telemetry = KioskTelemetry(ts=2001.0, uptime_s=5, sensor=SensorHealth(), broker=LinkHealth(connected=True))
    lp1.publish(lp1.topics.kiosk_telemetry, telemetry.model_dump(mode="json"))
    settings = MachineSettings(backrest_notch=4, target_depth_mm=250, max_depth_mm=300, top_mm=20)
    profile = MemberProfile(member="m1", name="Sam", rev=3, updated=1999.0, machines={"hammer-45": settings})
    lp1.publish(member_profile(SITE, "m1"), profile.model_dump(mode="json"), retain=True)
    lp1.flush()
    for attempt in range(2):  # the second recorder is a new session: the retained messages come again
        r = Recorder(store, broker.url, SITE, client_id=f"recorder-{attempt}")
        r.start()
        assert r.wait_connected(10)
        if attempt == 0:
            lp1.publish(lp1.topics.kiosk_telemetry, telemetry.model_dump(mode="json"))
            lp1.flush()
            eventually(lambda: rows(store_url, "telemetry") == 1, what="telemetry stored")
        expected = 3 if attempt == 0 else 2  # the first also heard the live telemetry
        eventually(lambda r=r, n=expected: r.total.received >= n, what="retained messages")
        r.stop()
    assert rows(store_url, "statuses") == 1
    assert rows(store_url, "profiles") == 1
    publish(broker, member_profile(SITE, "m1"), b"", retain=True)  # the operator erases the member
    r = Recorder(store, broker.url, SITE, client_id="recorder-0")
    r.start()
    eventually(lambda: r.total.added.profile_erasures == 1, what="the erase recorded")
    r.stop()
    # A tombstone, and every revision kept: a wrong erasure (or a stolen operator login's) can be undone.
    assert rows(store_url, "profiles") == 1 and rows(store_url, "profile_erasures") == 1


HOSTILE = [
    (b"not json", "not_json"),
    (b"[1, 2]", "not_object"),
    (b"\xff\xfe{}", "not_utf8"),
    (b'{"type": "rep", "ts": 5}', "invalid"),
    (b'{"type": "rep", "ts": -5, "rep": 1, "depth_mm": 1, "eccentric_s": 1, "concentric_s": 1}', "invalid"),
    (b'{"type": "pain_report", "ts": 5, "member": "m1", "kind": "sharp", "eid": "seven"}', "invalid"),
    (b'{"type": "pain_report", "ts": 5, "member": "m1", "kind": "sharp", "session": "a\\u0000b"}', "invalid"),
    (b'{"type": "DROP TABLE events", "ts": 5}', "invalid"),
    (b'{"a": ' * 12000 + b"1" + b"}" * 12000, "too_large"),  # under the broker's own packet limit
    (b'{"x": "' + b"a" * 70000 + b'"}', "too_large"),
    (b'{"a":' * 5000 + b"1" + b"}" * 5000, "too_large"),  # past what the record keeps of one message
    (b'{"a":' * 2000 + b"1" + b"}" * 2000, "not_json"),  # within it, nested past what the parser takes
]


def test_a_malformed_message_is_counted_and_skipped_and_recording_goes_on(broker, recorder, store_url, lp1):
    for payload, _reason in HOSTILE:
        lp1.publish(lp1.topics.kiosk_event, payload)
    lp1.publish(lp1.topics.kiosk_status, {"state": "weird", "ts": 5})
    lp1.publish(lp1.topics.kiosk_telemetry, {"ts": "soon"})
    lp1.publish(f"gym/v1/{SITE}/Not An Id/kiosk/event", b"{}")
    lp1.event(SessionStart(ts=3000.0, session="s9", member="m9", role="member"))
    lp1.publish(lp1.topics.kiosk_event, {"type": "new_kind_from_a_newer_kiosk", "ts": 3001.0, "eid": 99})
    lp1.flush()
    eventually(lambda: recorder.total.added.events == 2, what="the good events stored")
    refused = dict(recorder.total.refused)
    assert sum(refused.values()) == len(HOSTILE) + 3, refused
    expected: dict[str, int] = {}
    for _payload, reason in HOSTILE:
        expected[reason] = expected.get(reason, 0) + 1
    expected["invalid"] += 2
    expected["foreign_topic"] = 1
    assert refused == expected
    assert rows(store_url, "events") == 2  # the unknown type is kept for the record; reports ignore it


def test_the_recorder_logs_what_it_stored_once_per_interval(broker, store, lp1, caplog):
    caplog.set_level(logging.INFO, logger="kiosk.fleet.recorder")
    r = Recorder(store, broker.url, SITE, client_id="recorder-logging", log_every_s=0.5)
    r.start()
    try:
        assert r.wait_connected(10)
        lp1.event(SessionStart(ts=4000.0, session="s4", member="m4", role="member"))
        lp1.event(RepDone(ts=4003.0, session="s4", rep=1, depth_mm=250.0, eccentric_s=2, concentric_s=1))
        lp1.publish(lp1.topics.kiosk_event, b"garbage")
        lp1.flush()
        line = eventually(lambda: next((m for m in caplog.messages if "stored 2 events" in m), None),
                          what="the periodic log line")
        assert "3 messages" in line and "1 refused (not_json 1)" in line
    finally:
        r.stop()


def test_the_recorder_rides_out_a_broker_restart(broker, recorder, store_url, lp1, caplog):
    caplog.set_level(logging.INFO, logger="kiosk.fleet.recorder")
    broker.stop()
    eventually(lambda: not recorder.connected, what="the recorder noticing")
    broker.start()
    eventually(lambda: recorder.connected, 30, "the recorder reconnecting")
    lp1.event(SessionStart(ts=5000.0, session="s5", member="m5", role="member"))
    lp1.flush()
    eventually(lambda: rows(store_url, "events") == 1, what="the event after the restart")
    assert any("lost the broker" in m for m in caplog.messages)
    assert recorder.connects == 2


def test_a_recorder_with_no_broker_says_so_once_and_connects_when_it_comes(broker, store, caplog):
    caplog.set_level(logging.INFO, logger="kiosk.fleet.recorder")
    broker.stop()
    r = Recorder(store, broker.url, SITE, client_id="recorder-early")
    r.start()
    try:
        eventually(lambda: any("cannot reach the broker" in m for m in caplog.messages), what="the error")
        time.sleep(2.5)  # paho retries every second or so; the operator reads one line
        assert sum("cannot reach the broker" in m for m in caplog.messages) == 1
        broker.start()
        assert r.wait_connected(40)
    finally:
        r.stop()


def test_migrations_are_numbered_recorded_and_an_old_store_keeps_its_rows(store_url, monkeypatch):
    old = open_store(store_url)
    monkeypatch.setattr(store_module, "MIGRATIONS", MIGRATIONS[:1])
    assert old.migrate() == 1
    old.add([])
    assert old.read("SELECT version FROM schema_version") == [(1,)]
    monkeypatch.undo()
    # As the recorder of version 1 wrote it: its columns only.
    payload = '{"type": "rep", "ts": 7, "rep": 1, "depth_mm": 250, "eccentric_s": 2, "concentric_s": 1, "eid": 1}'
    with old._transaction() as cursor:
        cursor.execute(old._sql(
            "INSERT INTO events (site, machine, type, ts, session, eid, replayed, received_at, member, cue, rep, "
            "depth_mm, payload) VALUES (?, 'lp1', 'rep', 7, NULL, 1, FALSE, 8, NULL, NULL, 1, 250, ?)"),
            (SITE, payload))
    old.close()
    again = open_store(store_url)
    try:
        assert again.migrate() == LATEST == 6
        assert again.migrate() == LATEST  # a second run changes nothing
        assert [v for (v,) in again.read("SELECT version FROM schema_version ORDER BY version")] == [1, 2, 3, 4, 5, 6]
        assert again.count("events") == 1 and again.count("profiles") == 0
    finally:
        again.close()


def test_one_store_takes_two_recorders_of_different_sites(broker, store_url):
    stores: list[Store] = [open_store(store_url), open_store(store_url)]
    recorders = [Recorder(s, broker.url, site, client_id=f"recorder-{site}")
                 for s, site in zip(stores, ("gym-a", "gym-b"), strict=True)]
    for r in recorders:
        r.start()
        assert r.wait_connected(10)
    kiosks = [FakeKiosk(broker, "lp1", site="gym-a"), FakeKiosk(broker, "lp1", site="gym-b")]
    try:
        for k in kiosks:
            k.event(SessionStart(ts=6000.0, session="s6", member="m6", role="member"))
            k.flush()
        eventually(lambda: rows(store_url, "events") == 2, what="both sites' events")
        reader = open_store(store_url)
        assert sorted(reader.read("SELECT site FROM events")) == [("gym-a",), ("gym-b",)]
        reader.close()
    finally:
        for k in kiosks:
            k.close()
        for r, s in zip(recorders, stores, strict=True):
            r.stop()
            s.close()


def test_a_store_url_that_is_neither_engine_is_refused_in_one_line(tmp_path):
    result = subprocess.run([str(FLEET), "record", "--store", "mysql://x", "--site", SITE,
                             "--broker", "mqtt://127.0.0.1:1"], check=False, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert result.stderr.strip() == ("legpress-fleet: error: store 'mysql://x' must be sqlite:PATH or "
                                     "postgresql://user:pass@host:port/db")


def test_an_inventory_of_another_site_is_refused_in_one_line_before_anything_starts(tmp_path):
    inventory = tmp_path / "inventory.toml"
    inventory.write_text('[site]\nid = "uptown"\nbroker_host = "b.local"\n\n'
                         '[[machines]]\nid = "lp1"\nmodel = "hammer-45"\n')
    result = subprocess.run([str(FLEET), "record", "--store", f"sqlite:{tmp_path / 'r.sqlite'}", "--site", SITE,
                             "--broker", "mqtt://127.0.0.1:1", "--inventory", str(inventory)],
                            check=False, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert result.stderr.strip() == (f"legpress-fleet: error: {inventory}: site.id is 'uptown', not the recorder's "
                                     f"site {SITE!r}")
    assert not (tmp_path / "r.sqlite").exists(), "nothing was started"


def test_while_postgresql_is_away_the_recorder_holds_its_messages_and_stores_them_when_it_is_back(broker, caplog):
    caplog.set_level(logging.WARNING, logger="kiosk.fleet.recorder")
    server = PostgresServer().start()  # its own server: this test stops it
    try:
        url = server.new_database()
        store = open_store(url)
        r = Recorder(store, broker.url, SITE, client_id="recorder-pg-away")
        r.start()
        assert r.wait_connected(10)
        kiosk = FakeKiosk(broker, "lp1")
        kiosk.event(SessionStart(ts=7000.0, session="s7", member="m7", role="member"))
        kiosk.flush()
        eventually(lambda: r.total.added.events == 1, what="the first event stored")
        server.stop()
        for rep in (1, 2, 3):
            kiosk.event(RepDone(ts=7000.0 + rep, session="s7", rep=rep, depth_mm=250, eccentric_s=2, concentric_s=1))
        kiosk.flush()
        eventually(lambda: any("store is away" in m for m in caplog.messages), what="the outage noticed")
        server.start()
        eventually(lambda: r.total.added.events == 4, 40, "the held events stored")
        kiosk.close()
        r.stop()
        store.close()
        assert rows(url, "events") == 4
    finally:
        server.close()


@pytest.mark.parametrize("journald", [False, True])
def test_the_recorders_log_lines_carry_their_time_when_run_by_hand_and_leave_it_to_journald(
        broker, tmp_path, journald):
    log = tmp_path / "recorder.log"
    env = {k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"}
    if journald:
        env["JOURNAL_STREAM"] = "8:12345"  # what systemd sets when the journal takes the output
    with log.open("wb") as out:
        proc = subprocess.Popen([str(FLEET), "record", "--store", f"sqlite:{tmp_path / 'record.sqlite'}",
                                 "--site", SITE, "--broker", broker.url], stdout=out, stderr=subprocess.STDOUT,
                                env=env)
    try:
        line = eventually(lambda: next((x for x in log.read_text().splitlines() if "subscribed" in x), None), 20,
                          "the recorder's subscribed line")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0, log.read_text()
    stamped = re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO kiosk\.fleet\.recorder", line)
    assert (stamped is None) == journald, line
