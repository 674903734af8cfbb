"""Nothing a kiosk emits is lost: every event carries the next `eid`, is journaled before it is published,
and what the broker did not acknowledge (it was down, or the kiosk was killed) arrives later, in order.

A subscriber with a session the broker keeps (as the recorder has) counts what arrives; the broker keeps
sessions across its own restart (persistence on), as the site broker does.
"""

import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kiosk.contract.base import encode
from kiosk.contract.commands import CommandReply
from kiosk.contract.events import KIOSK_EVENT, CueRaised, KioskEvent, SessionEnd, SessionStart
from kiosk.contract.kiosk import KioskStatus
from kiosk.contract.profile import MemberProfile
from kiosk.contract.replies import DiagnosticsReport, Replayed
from kiosk.core.kiosk import Kiosk
from kiosk.core.profiles.sync import PROFILE_SYNC_S
from kiosk.core.settings import load_settings
from kiosk.core.site.event_journal import EID_BLOCK
from kiosk.dev.broker import DEV_CONF, Broker, Collector, publish
from kiosk.sim.traces import TRACE_SETTINGS, generate
from tests.support.helpers import FakeClock, eventually
from tests.support.kiosk_harness import Keyring, make_kiosk
from tests.support.kiosk_process import kiosk_env, start_kiosk

EVENTS = "gym/v1/testgym/+/kiosk/event"
CMD = "gym/v1/testgym/lp1/kiosk/cmd"
RES = "gym/v1/testgym/lp1/kiosk/res/#"
PROFILE = "gym/v1/testgym/members/m_sam/profile"


@pytest.fixture
def keeping_broker(tmp_path: Path) -> Iterator[Broker]:
    """A broker that keeps clients' sessions and queued messages across its own restart."""
    conf = tmp_path / "keeping.conf"
    store = tmp_path / "broker-store"
    store.mkdir()
    text = DEV_CONF.read_text().replace("persistence false", f"persistence true\npersistence_location {store}/")
    conf.write_text(text)
    broker = Broker(conf=conf).start()
    yield broker
    broker.close()


class Subscriber:
    """An MQTT client with a kept session, like the recorder: it misses nothing while it or the broker is away."""

    def __init__(self, broker: Broker, topic_filter: str, client_id: str):
        self.items: list[bytes] = []
        self._cond = threading.Condition()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                   protocol=MQTTProtocolVersion.MQTTv5)
        self._client.on_connect = lambda c, *_: c.subscribe(topic_filter, 1)
        self._client.on_message = lambda _c, _u, msg: self._add(bytes(msg.payload))
        self._client.reconnect_delay_set(0.1, 0.5)
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        self._client.connect(broker.host, broker.port, clean_start=False, properties=props)
        self._client.loop_start()

    def _add(self, payload: bytes) -> None:
        with self._cond:
            self.items.append(payload)
            self._cond.notify_all()

    def events(self) -> list[KioskEvent]:
        with self._cond:
            return [KIOSK_EVENT.validate_json(p) for p in self.items]

    def wait(self, condition, timeout: float = 20.0, what: str = "events"):
        deadline = time.monotonic() + timeout
        with self._cond:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{what}: not seen in {timeout} s; got {len(self.items)} messages")
                self._cond.wait(min(remaining, 0.2))

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def in_process_kiosk(broker: Broker, tmp_path: Path, keyring: Keyring) -> Kiosk:
    # No repeat filter: these tests log a member out by scanning the same code again at once.
    settings = load_settings(site="testgym", machine="lp1", broker=broker.url, data_dir=tmp_path / "data",
                             trusted_keys=keyring.trusted, tuning={"scan_repeat_s": 0})
    return Kiosk(settings)


def originals(events: list[KioskEvent]) -> list[KioskEvent]:
    return [e for e in events if not e.replayed]


def eids(events: list[KioskEvent]) -> list[int]:
    return [e.eid for e in originals(events) if e.eid is not None]


def test_every_event_carries_the_next_eid_and_a_restarted_kiosk_goes_on_from_there(keeping_broker, tmp_path):
    keyring, seen = Keyring(tmp_path), Subscriber(keeping_broker, EVENTS, "counter-1")
    try:
        for visit in range(2):
            kiosk = in_process_kiosk(keeping_broker, tmp_path, keyring)
            kiosk.start()
            assert kiosk.link.wait_connected(10)
            code = keyring.code(f"m_{visit}", "Sam")
            kiosk.scan(code)
            kiosk.scan(code)  # the same code again logs out
            seen.wait(lambda v=visit: sum(isinstance(e, SessionEnd) for e in seen.events()) == v + 1)
            kiosk.stop()
        got = eids(seen.events())
        assert sorted(set(got)) == list(range(1, len(set(got)) + 1)), f"a gap or a reused eid: {got}"
        assert len(got) == len(set(got))
        starts = [e for e in seen.events() if isinstance(e, SessionStart)]
        assert starts[1].eid > starts[0].eid, "the second run never reuses the first run's eids"
    finally:
        seen.close()


def test_events_made_while_the_broker_is_down_arrive_in_order_once_it_is_back(keeping_broker, tmp_path):
    keyring, seen = Keyring(tmp_path), Subscriber(keeping_broker, EVENTS, "counter-2")
    kiosk = in_process_kiosk(keeping_broker, tmp_path, keyring)
    kiosk.start()
    try:
        assert kiosk.link.wait_connected(10)
        kiosk.scan(keyring.code("m_sam", "Sam"))
        seen.wait(lambda: any(isinstance(e, SessionStart) for e in seen.events()))
        for _outage in range(2):  # the broker dies twice during the member's visit
            keeping_broker.stop()
            for _ in range(3):
                kiosk.scan("not a code")  # each refused scan is an event (scan_rejected)
            kiosk.inbox.call(lambda: None)
            assert kiosk.events.health.undelivered >= 3, "the refusals wait in the journal"
            keeping_broker.start()
        kiosk.scan(keyring.code("m_sam", "Sam"))  # logout
        seen.wait(lambda: any(isinstance(e, SessionEnd) for e in seen.events()), what="session end")
        got = eids(seen.events())
        distinct = sorted(set(got))
        assert distinct == list(range(1, 2 + 6 + 1)), f"lost events: {got}"
        assert got == sorted(got), "published again in eid order"
        eventually(lambda: kiosk.events.health.undelivered == 0, what="every event acknowledged")
    finally:
        kiosk.stop()
        seen.close()


def test_a_kiosk_killed_mid_session_delivers_what_it_journaled_and_answers_what_was_sent_meanwhile(
        keeping_broker, tmp_path):
    keyring = Keyring(tmp_path)
    env = kiosk_env(keeping_broker.url, tmp_path / "data", LEGPRESS_TRUSTED_KEYS=str(keyring.trusted))
    seen = Subscriber(keeping_broker, EVENTS, "counter-3")
    replies = Subscriber(keeping_broker, RES, "operator-1")
    proc = start_kiosk(env, tmp_path / "kiosk-1.log")
    try:
        assert proc.stdin is not None
        proc.stdin.write((keyring.code("m_sam", "Sam") + "\n").encode())
        proc.stdin.write(b"garbage one\ngarbage two\n")
        proc.stdin.flush()
        seen.wait(lambda: len(eids(seen.events())) >= 3, what="the session's first events")
        proc.send_signal(signal.SIGKILL)
        proc.wait(5)
        # While the kiosk is dead: an operator's command (QoS 1) waits in its kept session.
        publish(keeping_broker, f"{CMD}/end_session", b'{"transaction": "while-down"}', qos=1)
        proc = start_kiosk(env, tmp_path / "kiosk-2.log")
        replies.wait(lambda: any(b"while-down" in p for p in replies.items), what="the reply to while-down")
        reply = CommandReply.model_validate_json(next(p for p in replies.items if b"while-down" in p))
        assert reply.status == "ok"
        # A command sent now is answered after any copy of while-down still on its way: the broker hands the
        # kiosk its messages in order, and the kiosk answers them in order.
        publish(keeping_broker, f"{CMD}/diagnostics", b'{"transaction": "after-while-down"}', qos=1)
        replies.wait(lambda: any(b"after-while-down" in p for p in replies.items), what="the later command's reply")
        assert sum(b'"while-down"' in p for p in replies.items) == 1, "answered exactly once"
        got = eids(seen.events())
        assert sorted(set(got)) == list(range(1, max(got) + 1)), f"a gap after the kill: {got}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        seen.close()
        replies.close()


def test_replay_sends_the_held_events_again_and_names_the_range_it_does_not_hold(keeping_broker, tmp_path):
    keyring = Keyring(tmp_path)
    seen, replies = Subscriber(keeping_broker, EVENTS, "counter-4"), Subscriber(keeping_broker, RES, "operator-2")
    kiosk = in_process_kiosk(keeping_broker, tmp_path, keyring)
    kiosk.start()
    try:
        assert kiosk.link.wait_connected(10)
        for _ in range(4):
            kiosk.scan("not a code")
        seen.wait(lambda: len(eids(seen.events())) == 4)
        publish(keeping_broker, f"{CMD}/replay", b'{"transaction": "r1", "from_eid": 2, "to_eid": 9}', qos=1)
        replies.wait(lambda: bool(replies.items), what="replay reply")
        reply = CommandReply.model_validate_json(replies.items[0])
        assert reply.status == "ok" and reply.data is not None
        replayed = Replayed.model_validate(reply.data)
        assert replayed.sent == 3
        assert [(r.from_eid, r.to_eid) for r in replayed.missing] == [(5, 9)]
        seen.wait(lambda: sum(bool(e.replayed) for e in seen.events()) == 3, what="replayed copies")
        copies = [e for e in seen.events() if e.replayed]
        assert [e.eid for e in copies] == [2, 3, 4]
        originals_by_eid = {e.eid: e for e in originals(seen.events())}
        assert all(c.model_copy(update={"replayed": None}) == originals_by_eid[c.eid] for c in copies)
        publish(keeping_broker, f"{CMD}/replay", b'{"transaction": "r2", "from_eid": 9, "to_eid": 2}', qos=1)
        replies.wait(lambda: len(replies.items) == 2, what="refusal of a backwards range")
        assert CommandReply.model_validate_json(replies.items[1]).status == "error"
        # The range it did not hold (5-9) was not taken as replayed: once events 5 and 6 exist they are sent
        # at once, not refused as a repeat (asking far past the newest eid must not block what comes next).
        for _ in range(2):
            kiosk.scan("not a code")
        seen.wait(lambda: len(eids(originals(seen.events()))) == 6, what="events 5 and 6")
        publish(keeping_broker, f"{CMD}/replay", b'{"transaction": "r3", "from_eid": 5, "to_eid": 9}', qos=1)
        replies.wait(lambda: len(replies.items) == 3, what="the second replay's reply")
        later = Replayed.model_validate(CommandReply.model_validate_json(replies.items[2]).data)
        assert (later.sent, later.retry_after_s) == (2, None)
    finally:
        kiosk.stop()
        seen.close()
        replies.close()


def test_replay_is_held_back_past_its_rate_and_a_repeated_request_sends_nothing_again(keeping_broker, tmp_path,
                                                                                       monkeypatch):
    from kiosk.core.site import replay_limits

    # A burst of three events, then one every 100 s: small enough to see both limits with four events.
    monkeypatch.setattr(replay_limits, "REQUESTER_BURST", 3.0)
    monkeypatch.setattr(replay_limits, "REQUESTER_EVENTS_PER_S", 0.01)
    keyring = Keyring(tmp_path)
    seen, replies = Subscriber(keeping_broker, EVENTS, "counter-9"), Subscriber(keeping_broker, RES, "operator-9")
    kiosk = in_process_kiosk(keeping_broker, tmp_path, keyring)
    kiosk.start()

    def ask(n: int, from_eid: int, to_eid: int) -> Replayed:
        publish(keeping_broker, f"{CMD}/replay",
                json.dumps({"transaction": f"r{n}", "from_eid": from_eid, "to_eid": to_eid}), qos=1)
        replies.wait(lambda: len(replies.items) == n, what=f"reply {n}")
        reply = CommandReply.model_validate_json(replies.items[n - 1])
        assert reply.status == "ok" and reply.data is not None
        return Replayed.model_validate(reply.data)

    try:
        assert kiosk.link.wait_connected(10)
        for _ in range(4):
            kiosk.scan("not a code")
        seen.wait(lambda: len(eids(seen.events())) == 4)
        first = ask(1, 1, 4)
        assert (first.sent, first.truncated_at, first.retry_after_s) == (3, 3, None)
        seen.wait(lambda: sum(bool(e.replayed) for e in seen.events()) == 3, what="three copies")
        over_rate = ask(2, 4, 4)
        assert over_rate.sent == 0 and over_rate.truncated_at == 3 and over_rate.retry_after_s > 50
        repeated = ask(3, 1, 4)
        assert repeated.sent == 0 and 0 < repeated.retry_after_s <= replay_limits.REPEAT_S
        kiosk.inbox.call(lambda: None)
        assert kiosk.events.health.replays_held_back == 2
        assert kiosk.events.health.replays_refused == {"requester_rate": 1, "repeat": 1}
        # The kiosk sends copies before its reply: had the held-back requests sent any, they would be here.
        assert sum(bool(e.replayed) for e in seen.events()) == 3, "nothing sent past the rate or for the repeat"
    finally:
        kiosk.stop()
        seen.close()
        replies.close()


def test_a_profile_save_stays_held_until_the_broker_has_it(keeping_broker, tmp_path):
    keyring = Keyring(tmp_path)
    clock = FakeClock()
    kiosk, _ = make_kiosk(keeping_broker.url, tmp_path / "data", keyring, clock=clock)
    kiosk.start()
    try:
        assert kiosk.link.wait_connected(10)
        kiosk.scan(keyring.code("m_sam", "Sam"))
        kiosk.inbox.call(lambda: None)
        clock.advance(PROFILE_SYNC_S + 0.2)  # past the profile sync window after connecting
        member = kiosk.fresh_snapshot().member
        keeping_broker.stop()
        settings = member.settings if member else None
        assert settings is not None
        kiosk.save_settings(settings.model_copy(update={"backrest_notch": 3}))
        kiosk.inbox.call(lambda: None)
        assert [h.member for h in kiosk.profiles.book.pending()] == ["m_sam"], "held while the broker is away"
        keeping_broker.start()

        def confirmed() -> bool:
            # A held save goes out a sync window after the kiosk is back: kiosk time moves on while we wait.
            clock.advance(0.2)
            return not kiosk.profiles.book.pending()

        eventually(confirmed, timeout=20, what="the held save confirmed")
        profile = kiosk.profiles.book.get("m_sam")
        assert profile is not None and profile.rev == 1
        assert profile.machines["generic-45"].backrest_notch == 3
    finally:
        kiosk.stop()


def test_the_kiosk_process_starts_with_its_journal_and_stops_cleanly(keeping_broker, tmp_path):
    env = kiosk_env(keeping_broker.url, tmp_path / "data")
    proc = start_kiosk(env, tmp_path / "kiosk.log")
    try:
        eventually(lambda: (tmp_path / "data" / "journal.sqlite3").exists() or proc.poll() is not None,
                   timeout=20, what="the journal created")
        assert proc.poll() is None, (tmp_path / "kiosk.log").read_text()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    assert "Traceback" not in (tmp_path / "kiosk.log").read_text()


def _limit_file_size(limit: int):
    def apply() -> None:
        import resource

        # A file can grow no further than `limit` bytes: writes past it fail as they do on a full disk.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_full_disk_is_reported_and_the_kiosk_keeps_serving(keeping_broker, tmp_path):
    import subprocess
    import sys

    from kiosk.contract.kiosk import KioskTelemetry

    keyring = Keyring(tmp_path)
    env = kiosk_env(keeping_broker.url, tmp_path / "data", LEGPRESS_TRUSTED_KEYS=str(keyring.trusted),
                    LEGPRESS_TUNING__TELEMETRY_INTERVAL_S="1")
    seen = Subscriber(keeping_broker, EVENTS, "counter-disk")
    telemetry = Subscriber(keeping_broker, "gym/v1/testgym/lp1/kiosk/telemetry", "telemetry-disk")
    proc = subprocess.Popen([sys.executable, "-m", "kiosk.app", "--headless"], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=_limit_file_size(96 * 1024))
    try:
        assert proc.stdin is not None
        scans = 1500
        for i in range(scans):
            proc.stdin.write(f"not a code {i}\n".encode())
        proc.stdin.flush()

        def journal_failed() -> bool:
            for payload in telemetry.items:
                journal = KioskTelemetry.model_validate_json(payload).journal
                if journal is not None and journal.write_errors > 0:
                    return True
            return False

        telemetry.wait(journal_failed, timeout=60, what="telemetry showing the journal's write errors")
        seen.wait(lambda: len(seen.events()) >= scans, timeout=60, what="every refusal published")
        assert proc.poll() is None, "the kiosk is still running"
        journaled = [e.eid for e in seen.events() if e.eid is not None]
        assert journaled == list(range(1, len(journaled) + 1)), "what was journaled before the disk filled is whole"
        assert len(journaled) < scans, "the limit was reached"
        proc.stdin.write((keyring.code("m_sam", "Sam") + "\n").encode())
        proc.stdin.flush()
        seen.wait(lambda: any(isinstance(e, SessionStart) for e in seen.events()), what="a member still taps in")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        seen.close()
        telemetry.close()


def diagnostics(broker: Broker, replies: Collector) -> DiagnosticsReport:
    """The kiosk's diagnostics report, asked for now."""
    transaction = f"d{time.monotonic_ns()}"
    publish(broker, f"{CMD}/diagnostics", json.dumps({"transaction": transaction}).encode(), qos=1)
    reply = replies.wait_for(lambda m: transaction.encode() in m.payload).decode(CommandReply)
    return DiagnosticsReport.model_validate(reply.data)


def test_a_limit_a_liftoff_taught_just_before_the_kiosk_is_killed_is_on_the_broker_after_its_restart(
        broker, collect, tmp_path):
    """SIGKILL right after the lumbar lift-off's cue: the lowered max depth was held on disk before the cue
    went out, so whether or not its publish reached the broker, the restarted kiosk makes it so, once."""
    saved = MemberProfile(member="m_sam", name="Sam", rev=3, updated=1.0, machines={"generic-45": TRACE_SETTINGS})
    publish(broker, PROFILE, encode(saved), retain=True)
    keyring = Keyring(tmp_path)
    env = kiosk_env(broker.url, tmp_path / "data", LEGPRESS_TRUSTED_KEYS=str(keyring.trusted))
    # The kiosk's saves, for the site's profile desk (kiosks read the member's topic, never write it).
    events, profiles = collect(EVENTS), collect("gym/v1/testgym/lp1/kiosk/profile")
    replies, status = collect(RES), collect("gym/v1/testgym/lp1/kiosk/status")
    proc = start_kiosk(env, tmp_path / "kiosk-1.log")
    try:
        status.wait_for(lambda m: m.decode(KioskStatus).state == "ready", timeout=20)

        eventually(lambda: diagnostics(broker, replies).profiles.stored >= 1,
                   what="the member's retained profile in the kiosk's cache")
        assert proc.stdin is not None
        proc.stdin.write((keyring.code("m_sam", "Sam") + "\n").encode())
        proc.stdin.flush()
        events.wait_for_event(SessionStart)
        sim = subprocess.Popen([sys.executable, "-m", "kiosk.sim.cli", "--broker", broker.url, "--site", "testgym",
                                "--machine", "lp1", "--scenario", "butt-wink", "--seed", "2", "--speed", "8"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        events.wait_for_event(CueRaised, lambda c: c.cue == "liftoff_lumbar", timeout=30)
        proc.send_signal(signal.SIGKILL)
        proc.wait(5)
        sim.wait(60)
        proc = start_kiosk(env, tmp_path / "kiosk-2.log")

        def learnt() -> MemberProfile | None:
            newest = max((m.decode(MemberProfile) for m in profiles.messages if m.payload), key=lambda p: p.rev,
                         default=None)
            if newest is None or newest.machines["generic-45"].max_depth_mm >= TRACE_SETTINGS.max_depth_mm:
                return None
            return newest

        profile = eventually(learnt, timeout=20, what="the learnt limit sent for the desk")
        truth = generate("butt-wink", 2).truth
        assert profile.machines["generic-45"].max_depth_mm == pytest.approx(truth.learnt_max_depth_mm, abs=6.0)
        # Nothing left held on the restarted kiosk (the save sent again and acknowledged, or found on the broker
        # already): no later copy can come.
        eventually(lambda: diagnostics(broker, replies).profiles.saves_held == 0, timeout=20,
                   what="the restarted kiosk's held save settled")
        # At least once: the save held on disk is sent again after the kill unless the broker's acknowledgement
        # was recorded first (the kiosk no longer reads its own save back: the desk publishes the member's
        # topic). A copy is the same save, which the desk publishes once (tests/fleet/recorder/test_profile_desk.py).
        saves = [m.decode(MemberProfile) for m in profiles.messages if m.payload]
        assert {p.rev for p in saves} == {profile.rev}, f"saves of other revisions: {saves}"
        assert all(p.machines == profile.machines for p in saves), "every copy carries the same settings"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


def test_after_a_power_cut_no_eid_is_used_twice_and_replay_names_what_was_skipped(keeping_broker, tmp_path):
    keyring = Keyring(tmp_path)
    seen, replies = Subscriber(keeping_broker, EVENTS, "counter-7"), Subscriber(keeping_broker, RES, "operator-7")
    kiosk = in_process_kiosk(keeping_broker, tmp_path, keyring)
    kiosk.start()
    try:
        assert kiosk.link.wait_connected(10)
        for n in range(4):
            kiosk.scan(f"not a code {n}")
        seen.wait(lambda: eids(seen.events()) == [1, 2, 3, 4], what="the first four events")
        kiosk.inbox.call(lambda: None)
    finally:
        # The power goes: no clean stop, and the last two commits never reached the disk.
        kiosk.link.stop()
        kiosk.inbox.stop()
    journal = sqlite3.connect(tmp_path / "data" / "journal.sqlite3")
    with journal:
        journal.execute("DELETE FROM events WHERE eid > 2")
        journal.execute("UPDATE sqlite_sequence SET seq = 2 WHERE name = 'events'")
        journal.execute("UPDATE meta SET value = 'the boot before the cut' WHERE key = 'boot_id'")
    journal.close()
    again = in_process_kiosk(keeping_broker, tmp_path, keyring)
    again.start()
    try:
        assert again.link.wait_connected(10)
        again.scan("not a code after the cut")
        seen.wait(lambda: 1 + EID_BLOCK in eids(seen.events()), what="the first event after the cut")
        # (1 and 2 may come again: they were journaled, their acknowledgement was not.)
        assert sorted(set(eids(seen.events()))) == [1, 2, 3, 4, 1 + EID_BLOCK], "3 and 4 went out: never again"
        publish(keeping_broker, f"{CMD}/replay", json.dumps(
            {"transaction": "after-cut", "from_eid": 1, "to_eid": 1 + EID_BLOCK}).encode(), qos=1)
        replies.wait(lambda: bool(replies.items), what="the replay reply")
        replayed = Replayed.model_validate(CommandReply.model_validate_json(replies.items[0]).data)
        assert replayed.sent == 3  # 1, 2 and the new one
        assert [(r.from_eid, r.to_eid) for r in replayed.missing] == [(3, EID_BLOCK)]
        assert [(r.from_eid, r.to_eid) for r in replayed.skipped] == [(3, EID_BLOCK)]
    finally:
        again.stop()
        seen.close()
        replies.close()
    # A clean stop, then a start in another boot (an ordinary reboot): nothing is skipped.
    third = in_process_kiosk(keeping_broker, tmp_path, keyring)
    journal = sqlite3.connect(tmp_path / "data" / "journal.sqlite3")
    with journal:
        journal.execute("UPDATE meta SET value = 'yet another boot' WHERE key = 'boot_id'")
    journal.close()
    third.start()
    try:
        assert third.events.health.last_eid == 1 + EID_BLOCK
    finally:
        third.stop()


def test_a_replay_being_sent_yields_to_a_lift_off_waiting_for_the_core(keeping_broker, tmp_path):
    from kiosk.contract.commands import Replay

    keyring = Keyring(tmp_path)
    seen = Subscriber(keeping_broker, EVENTS, "counter-10")
    kiosk = in_process_kiosk(keeping_broker, tmp_path, keyring)
    kiosk.start()
    ran: list[str] = []
    try:
        assert kiosk.link.wait_connected(10)
        for _ in range(5):
            kiosk.scan("not a code")
        seen.wait(lambda: len(eids(seen.events())) == 5)

        def replay_with_a_lift_off_waiting() -> Replayed:
            # On the core thread, as the command desk runs it; the lift-off comes in meanwhile.
            kiosk.inbox.post(lambda: ran.append("lift-off"), "urgent")
            reply = kiosk.events._replay(Replay(transaction="recorder-1", from_eid=1, to_eid=5))
            ran.append("replay")
            return reply

        replayed = kiosk.inbox.call(replay_with_a_lift_off_waiting)
        kiosk.inbox.call(lambda: None)
        assert ran == ["replay", "lift-off"]
        assert (replayed.sent, replayed.truncated_at, replayed.missing) == (1, 1, []), "cut short after one copy"
        assert kiosk.events.health.replays_refused == {"yielded": 1}
        seen.wait(lambda: sum(bool(e.replayed) for e in seen.events()) == 1, what="the one copy")
        # The requester asks again for the rest (`truncated_at`), and with nothing waiting gets all of it.
        rest = kiosk.inbox.call(lambda: kiosk.events._replay(Replay(transaction="recorder-2", from_eid=2, to_eid=5)))
        assert (rest.sent, rest.truncated_at) == (4, None)
    finally:
        kiosk.stop()
        seen.close()
