"""The recorder finds the events it missed by their `eid`, asks the kiosk to replay them, and records what is gone.

Against a real mosquitto and a real kiosk core (its journal answers `replay`), on
SQLite and on a real PostgreSQL. The recorder's session expires after a second
here, so stopping it for longer loses what the broker would otherwise have kept
for it: only `replay` can bring those events back.
"""

import itertools
import json
import logging
import math
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.contract.commands import MAX_HELD
from kiosk.contract.events import RepDone
from kiosk.contract.kiosk import JournalHealth, KioskTelemetry, LinkHealth, SensorHealth
from kiosk.contract.replies import EidRange, Replayed
from kiosk.core.kiosk import Kiosk
from kiosk.core.settings import load_settings
from kiosk.dev.broker import Broker, publish
from kiosk.fleet.recorder.intake import EventRow, LostRange
from kiosk.fleet.recorder.replay import GapWatch, ReplayAnswer
from kiosk.fleet.recorder.service import Recorder
from kiosk.fleet.recorder.store import Gap, Store
from kiosk.fleet.recorder.store_url import open_store
from tests.fleet.recorder.kiosks import SITE, FakeKiosk, eventually
from tests.support.kiosk_harness import Keyring

FLEET = Path(sys.executable).parent / "legpress-fleet"
CLIENT_ID = "recorder-replay"
SESSION_EXPIRY_S = 1


def make_recorder(store: Store, broker: Broker, **options: Any) -> Recorder:
    settings: dict[str, Any] = dict(client_id=CLIENT_ID, session_expiry_s=SESSION_EXPIRY_S, log_every_s=3600,
                                    replay_grace_s=0.5, replay_check_every_s=0.1, replay_timeout_s=1.0)
    settings.update(options)
    recorder = Recorder(store, broker.url, SITE, **settings)
    recorder.start()
    assert recorder.wait_connected(10)
    return recorder


def past_the_grace(recorder: Recorder) -> None:
    """Wait until the recorder's gap watch has run enough checks, from now, that any gap open now is past
    its grace and was asked for (or would have been): checks at least `check_every_s` apart, one more for
    the check that asks. Counted on the recorder, so a loaded machine waits longer instead of failing."""
    gaps = recorder.gaps
    needed = gaps.checks + math.ceil(gaps.grace_s / gaps.check_every_s) + 2
    eventually(lambda: gaps.checks >= needed, timeout=20, what=f"{needed} gap checks")


@pytest.fixture
def kiosk(broker: Broker, tmp_path: Path) -> Iterator[Kiosk]:
    keyring = Keyring(tmp_path)
    settings = load_settings(site=SITE, machine="lp1", broker=broker.url, data_dir=tmp_path / "data",
                             trusted_keys=keyring.trusted)
    k = Kiosk(settings)
    k.start()
    assert k.link.wait_connected(10)
    yield k
    k.stop()


_SCANS = itertools.count()


def emit(kiosk: Kiosk, n: int) -> None:
    """`n` events from the kiosk (each refused scan is a `scan_rejected` event), journaled and published."""
    for _ in range(n):
        # Each text differs: the kiosk's repeat filter takes the same text read twice for one scan.
        kiosk.scan(f"not a code {next(_SCANS)}")
    kiosk.inbox.call(lambda: None)


def last_eid(kiosk: Kiosk) -> int:
    eid = kiosk.events.health.last_eid
    assert eid is not None
    return eid


def stored(store_url: str, machine: str = "lp1") -> list[int]:
    reader = open_store(store_url)
    try:
        return sorted(int(e) for (e,) in reader.read(
            "SELECT eid FROM events WHERE machine = ? AND eid IS NOT NULL", (machine,)))
    finally:
        reader.close()


def lost(where: str | Store) -> list[tuple[str, int, int]]:
    if not isinstance(where, str):
        return where.lost(SITE)
    reader = open_store(where)
    try:
        return reader.lost(SITE)
    finally:
        reader.close()


def outage(recorder: Recorder) -> None:
    """Stop the recorder and stay away past its session expiry: the broker forgets it and keeps nothing."""
    recorder.stop()
    time.sleep(SESSION_EXPIRY_S + 1.0)


def test_gaps_are_computed_by_the_store_around_events_and_lost_ranges(store: Store):
    def event(machine: str, eid: int) -> EventRow:
        return EventRow(SITE, machine, "scan_rejected", 1000.0 + eid, None, eid, False, 2000.0, "{}")

    store.add([event("lp1", e) for e in (1, 2, 5, 6, 10, 11, 20)] + [event("lp2", e) for e in (3, 4)])
    store.add([LostRange(SITE, "lp1", 7, 8, 3000.0), LostRange(SITE, "lp1", 12, 15, 3000.0),
               LostRange(SITE, "lp1", 13, 14, 3000.0)])
    spans = store.gaps(SITE)
    assert spans["lp1"].gaps == [Gap("lp1", 3, 4), Gap("lp1", 9, 9), Gap("lp1", 16, 19)]
    assert (spans["lp1"].lowest, spans["lp1"].highest) == (1, 20)
    assert spans["lp2"].gaps == [] and (spans["lp2"].lowest, spans["lp2"].highest) == (3, 4)
    # From a floor, only what lies above it.
    assert store.gaps(SITE, {"lp1": 10})["lp1"].gaps == [Gap("lp1", 16, 19)]
    assert store.gaps(SITE, {"lp1": 13})["lp1"].gaps == [Gap("lp1", 16, 19)]


def test_an_event_reusing_a_stored_eid_is_kept_by_its_content(store: Store, caplog: pytest.LogCaptureFixture):
    first = EventRow(SITE, "lp1", "scan_rejected", 1000.0, None, 1, False, 2000.0, "{}")
    store.add([first])
    again = store.add([first, EventRow(SITE, "lp1", "scan_rejected", 1000.0, None, 1, True, 2001.0, "{}")])
    assert (again.events, again.duplicates, again.reused_eids) == (0, 2, 0)
    with caplog.at_level(logging.ERROR):
        wiped = store.add([EventRow(SITE, "lp1", "session_start", 5000.0, "s9", 1, False, 5001.0, "{}")])
    assert (wiped.events, wiped.reused_eids) == (1, 1)
    assert "eid series started again" in caplog.text
    assert store.count("events") == 2


def test_a_gap_wider_than_a_kiosk_holds_is_lost_below_its_reach_and_a_gone_chunk_asks_for_the_next_at_once(
        store: Store):
    sent: list[tuple[str, dict[str, Any]]] = []
    watch = GapWatch(store, SITE, lambda topic, payload, _props: sent.append((topic, json.loads(payload))),
                     grace_s=5.0, check_every_s=0.0, clock=lambda: now)
    now = 100.0
    top = 1_000_000
    store.add([EventRow(SITE, "lp1", "scan_rejected", float(e), None, e, False, 1.0, "{}") for e in (1, top)])
    watch.tick(connected=True)
    assert lost(store) == [("lp1", 2, top - MAX_HELD - 1)], "beyond the journal's reach: lost without asking"
    assert sent == [], "the rest waits for the grace period"
    now += 5.0
    watch.tick(connected=True)
    (topic, request), = sent
    assert topic == f"gym/v1/{SITE}/lp1/kiosk/cmd/replay"
    assert (request["from_eid"], request["to_eid"]) == (top - MAX_HELD, top - MAX_HELD + 999)
    watch.tick(connected=True)
    assert len(sent) == 1, "one request in flight per kiosk"
    # The kiosk holds none of it: recorded lost, and the next chunk is asked for without another grace period.
    answer = ReplayAnswer("lp1", request["transaction"], Replayed(sent=0, missing=[
        EidRange(from_eid=1, to_eid=top)]))  # wider than asked: clipped to the request
    rows = watch.lost_rows([answer])
    store.add(rows)
    watch.stored(rows, [answer])
    watch.tick(connected=True)
    assert lost(store)[-1] == ("lp1", top - MAX_HELD, top - MAX_HELD + 999)
    assert (sent[-1][1]["from_eid"], sent[-1][1]["to_eid"]) == (top - MAX_HELD + 1000, top - MAX_HELD + 1999)
    # An answer to a transaction this recorder never sent records nothing.
    assert watch.lost_rows([ReplayAnswer("lp1", "someone-else", Replayed(sent=0, missing=[
        EidRange(from_eid=5, to_eid=9)]))]) == []
    # Nor does one from another machine than the one asked.
    assert watch.lost_rows([ReplayAnswer("lp2", sent[-1][1]["transaction"], Replayed(sent=0, missing=[
        EidRange(from_eid=1, to_eid=top)]))]) == []


def test_a_recorder_away_past_its_session_expiry_asks_for_what_it_missed_and_stores_each_event_once(
        broker, store, store_url, kiosk, caplog):
    caplog.set_level(logging.INFO, logger="kiosk.fleet.recorder")
    recorder = make_recorder(store, broker)
    try:
        emit(kiosk, 10)
        eventually(lambda: len(stored(store_url)) == last_eid(kiosk), what="the first events stored")
        outage(recorder)
        emit(kiosk, 30)  # nobody keeps these for the recorder
        missed = last_eid(kiosk)
        eventually(lambda: kiosk.events.health.undelivered == 0, what="the broker acknowledged them")
        recorder = make_recorder(store, broker)
        assert len(stored(store_url)) < missed, "the broker kept nothing for an expired session"
        emit(kiosk, 5)  # the next member's events show the gap
        sent = last_eid(kiosk)
        eventually(lambda: stored(store_url) == list(range(1, sent + 1)), timeout=20, what="every eid stored")
        past_the_grace(recorder)  # a second request, or a copy stored twice, would show by then
        assert stored(store_url) == list(range(1, sent + 1))
        assert store.count("events") == sent, "each event stored exactly once"
        assert lost(store_url) == []
        assert recorder.gaps.requests == 1 and recorder.gaps.answers == 1
        assert f"kiosk lp1: events 11..{missed} missing" in caplog.text
        assert f"kiosk lp1 replayed {missed - 10} events of 11..{missed}" in caplog.text
    finally:
        recorder.stop()


def start_recorder(broker: Broker, store_url: str, log: Path) -> subprocess.Popen[bytes]:
    """`legpress-fleet record` as an operator runs it, with a session the broker forgets after about a second."""
    before = log.read_text().count("subscribed") if log.exists() else 0
    with log.open("ab") as out:
        proc = subprocess.Popen([str(FLEET), "record", "--store", store_url, "--site", SITE, "--broker", broker.url,
                                 "--client-id", CLIENT_ID, "--session-expiry", "0.0003", "--replay-grace", "0.5"],
                                stdout=out, stderr=subprocess.STDOUT)
    eventually(lambda: log.read_text().count("subscribed") > before or proc.poll() is not None, 20,
               "the recorder subscribing")
    assert proc.poll() is None, log.read_text()
    return proc


def test_the_recorder_service_stopped_past_its_session_expiry_replays_what_it_missed(
        broker, store_url, kiosk, tmp_path):
    log = tmp_path / "recorder.log"
    proc = start_recorder(broker, store_url, log)
    try:
        emit(kiosk, 8)
        eventually(lambda: len(stored(store_url)) == last_eid(kiosk), what="the first events stored")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0, log.read_text()
        time.sleep(2.5)  # past the session expiry (0.0003 h, one second)
        emit(kiosk, 40)
        missed = last_eid(kiosk)
        eventually(lambda: kiosk.events.health.undelivered == 0, what="the broker acknowledged them")
        proc = start_recorder(broker, store_url, log)
        assert "new session" in log.read_text().splitlines()[-1], "the broker forgot the recorder"
        emit(kiosk, 2)
        sent = last_eid(kiosk)
        eventually(lambda: stored(store_url) == list(range(1, sent + 1)), timeout=30, what="every eid stored")
        time.sleep(1.0)
        assert stored(store_url) == list(range(1, sent + 1)) and lost(store_url) == []
        text = log.read_text()
        assert f"kiosk lp1: events 9..{missed} missing" in text
        assert f"kiosk lp1 replayed {missed - 8} events of 9..{missed}" in text
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)


def test_events_the_kiosk_no_longer_holds_are_recorded_as_lost_and_never_asked_for_again(
        broker, store, store_url, kiosk, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="kiosk.fleet.recorder")
    recorder = make_recorder(store, broker)
    try:
        emit(kiosk, 5)
        eventually(lambda: len(stored(store_url)) == 5, what="the first events stored")
        outage(recorder)
        emit(kiosk, 20)  # eids 6..25
        eventually(lambda: kiosk.events.health.undelivered == 0, what="the broker acknowledged them")
        # The kiosk's journal loses 6..12 (pruned, as past its 7 days): only 13..25 can come back.
        journal = sqlite3.connect(tmp_path / "data" / "journal.sqlite3")
        with journal:
            journal.execute("DELETE FROM events WHERE eid BETWEEN 6 AND 12")
        journal.close()
        recorder = make_recorder(store, broker)
        emit(kiosk, 3)  # 26..28
        sent = last_eid(kiosk)
        eventually(lambda: lost(store_url) == [("lp1", 6, 12)], timeout=20, what="6..12 recorded as lost")
        kept = [*range(1, 6), *range(13, sent + 1)]
        eventually(lambda: stored(store_url) == kept, what="the rest stored")
        asked = recorder.gaps.requests
        past_the_grace(recorder)  # a gap still open would be asked for again
        assert recorder.gaps.requests == asked == 1
        assert store.count("events") == len(kept) == sent - 7
        assert "kiosk lp1 no longer holds events 6..12 (7 events): recorded as lost" in caplog.text
        recorder.stop()
        # Restarted, the recorder reads the lost range from the store and does not ask again either.
        recorder = make_recorder(store, broker)
        past_the_grace(recorder)
        assert recorder.gaps.requests == 0
    finally:
        recorder.stop()


def test_a_kiosk_that_never_answers_is_asked_a_few_times_then_given_up(broker, store, store_url, collect, caplog):
    caplog.set_level(logging.INFO, logger="kiosk.fleet.recorder")
    requests = collect(f"gym/v1/{SITE}/lp7/kiosk/cmd/replay")
    recorder = make_recorder(store, broker, replay_timeout_s=0.3, replay_tries=3)
    fake = FakeKiosk(broker, "lp7")  # publishes events, answers no command
    try:
        for eid in (1, 2, 3, 7, 8, 9, 10):  # 4..6 never published
            fake.publish(fake.topics.kiosk_event, rep(eid))
        fake.flush()
        eventually(lambda: "giving up on them" in caplog.text, timeout=20, what="the recorder giving up")
        assert recorder.gaps.requests == 3 and recorder.gaps.gave_up == 1
        asked = [json.loads(m.payload) for m in requests.items]
        assert [(a["from_eid"], a["to_eid"]) for a in asked] == [(4, 6)] * 3
        past_the_grace(recorder)
        assert recorder.gaps.requests == 3, "parked, not asked again"
        assert lost(store_url) == [], "no answer is no proof the events are gone"
        assert stored(store_url, "lp7") == [1, 2, 3, 7, 8, 9, 10]
    finally:
        recorder.stop()
        fake.close()


def rep(eid: int) -> dict[str, Any]:
    fields = RepDone(ts=1000.0 + eid, session="s1", rep=eid, depth_mm=250.0, eccentric_s=2.0,
                     concentric_s=1.0).model_dump(mode="json", by_alias=True)
    return {**fields, "eid": eid}


def test_a_gap_at_the_end_shows_in_the_kiosks_telemetry_and_an_eid_going_back_is_logged(
        broker, store, collect, caplog):
    caplog.set_level(logging.INFO, logger="kiosk.fleet.recorder")
    requests = collect(f"gym/v1/{SITE}/lp8/kiosk/cmd/replay")
    recorder = make_recorder(store, broker)
    fake = FakeKiosk(broker, "lp8")
    try:
        for eid in (1, 2, 3):
            fake.publish(fake.topics.kiosk_event, rep(eid))

        def telemetry(ts: float, last: int) -> None:
            sample = KioskTelemetry(ts=ts, uptime_s=5, sensor=SensorHealth(), broker=LinkHealth(connected=True),
                                    journal=JournalHealth(last_eid=last))
            fake.publish(fake.topics.kiosk_telemetry, sample.model_dump(mode="json"))

        telemetry(2000.0, 6)  # 4..6 were never delivered: no later event would show them
        fake.flush()
        request = json.loads(requests.wait_for(lambda m: True, 10).payload)
        assert (request["from_eid"], request["to_eid"]) == (4, 6)
        telemetry(2030.0, 2)
        fake.flush()
        eventually(lambda: "last eid went back from 6 to 2" in caplog.text, what="the eid going back logged")
    finally:
        recorder.stop()
        fake.close()


def test_a_malformed_or_foreign_replay_reply_is_counted_and_ignored(broker, store, store_url, kiosk):
    recorder = make_recorder(store, broker)
    try:
        topic = f"gym/v1/{SITE}/lp1/kiosk/res/replay"
        for payload in (b"not json", b'{"transaction": "x", "status": "ok", "data": {"sent": -1, "missing": []}}',
                        b'{"transaction": "x", "status": "ok", "data": {"sent": 1, '
                        b'"missing": [{"from_eid": 9, "to_eid": 2}]}}', b"\xff\xfe", b""):
            publish(broker, topic, payload, qos=1)
        # Well formed, but not asked by this recorder (an operator's own replay): ignored, nothing recorded lost.
        publish(broker, topic, b'{"transaction": "op-1", "status": "ok", "data": {"sent": 0, '
                               b'"missing": [{"from_eid": 1, "to_eid": 100}]}}', qos=1)
        eventually(lambda: recorder.total.received >= 6, what="the replies received")
        # Counted as refused on the writer thread, a moment after the network thread counted them received.
        eventually(lambda: recorder.total.refused["replay_reply_invalid"] >= 5, what="the bad replies refused")
        time.sleep(0.2)
        assert recorder.total.refused["replay_reply_invalid"] == 5
        emit(kiosk, 3)
        eventually(lambda: stored(store_url) == [1, 2, 3], what="the kiosk's events still stored")
        assert lost(store_url) == []
    finally:
        recorder.stop()
