"""Members tap in and out; sessions, modes and rejections on a real broker."""

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kiosk.contract.events import CueRaised, PainReport, ScanRejected, SessionEnd, SessionStart
from kiosk.contract.kiosk import KioskStatus
from kiosk.contract.profile import MemberProfile
from kiosk.dev.broker import Broker, Received
from kiosk.fleet.recorder.service import Recorder
from kiosk.fleet.recorder.store_url import open_store
from tests.support.helpers import FakeClock, eventually
from tests.support.kiosk_harness import Keyring, KioskUnderTest, Screen, make_kiosk

Running = Callable[..., tuple[KioskUnderTest, Screen]]


def _mode(m: Received) -> str:
    return m.decode(KioskStatus).mode


def _pain_stops(messages: list[Received]) -> int:
    return sum(isinstance(e := m.event(), CueRaised) and e.cue == "pain_stop" for m in messages)


@pytest.fixture
def keyring(tmp_path: Path) -> Keyring:
    return Keyring(tmp_path)


@pytest.fixture
def running(broker: Broker, tmp_path: Path, keyring: Keyring) -> Iterator[Running]:
    """`running(machine=, data=, clock=, **settings)` starts a kiosk on the test's broker; all are stopped after."""
    made: list[KioskUnderTest] = []

    def start(machine: str = "lp1", data: str = "data", **overrides: object) -> tuple[KioskUnderTest, Screen]:
        kiosk, screen = make_kiosk(broker.url, tmp_path / data, keyring, machine=machine, **overrides)
        kiosk.start()
        assert kiosk.link.wait_connected(10)
        made.append(kiosk)
        return kiosk, screen

    yield start
    for kiosk in made:
        kiosk.stop()


def test_valid_scan_opens_a_session_and_the_same_code_again_closes_it(running, keyring, collect):
    events = collect("gym/v1/testgym/lp1/kiosk/event")
    status = collect("gym/v1/testgym/lp1/kiosk/status")
    kiosk, screen = running()
    code = keyring.code("m_sam", "Sam")
    kiosk.scan(code)
    start = events.wait_for_event(SessionStart)
    assert start.member == "m_sam" and start.role == "member" and start.session
    status.wait_for(lambda m: _mode(m) == "session")
    kiosk.scan(code)
    end = events.wait_for_event(SessionEnd)
    assert end.reason == "logout" and end.session == start.session
    status.wait_for(lambda m: _mode(m) == "idle" and m is not status.messages[0])
    assert kiosk.session is None


def test_another_member_scanning_ends_the_first_session_and_starts_theirs(running, keyring, collect):
    events = collect("gym/v1/testgym/lp1/kiosk/event")
    kiosk, _ = running()
    kiosk.scan(keyring.code("m_sam", "Sam"))
    kiosk.scan(keyring.code("m_ana", "Ana"))
    events.wait_for_event(SessionStart, lambda e: e.member == "m_ana")
    kinds = [(e.type, getattr(e, "member", None)) for e in events.events()]
    assert kinds[:3] == [("session_start", "m_sam"), ("session_end", "m_sam"), ("session_start", "m_ana")]


def test_staff_code_opens_maintenance_mode_instead_of_a_session(running, keyring, collect):
    status = collect("gym/v1/testgym/lp1/kiosk/status")
    kiosk, screen = running()
    staff = keyring.code("t_alex", "Alex", role="staff")
    kiosk.scan(staff)
    status.wait_for(lambda m: _mode(m) == "maintenance")
    assert kiosk.session is None
    kiosk.scan(staff)
    status.wait_for(lambda m: _mode(m) == "idle"
                    and m.decode(KioskStatus) != status.messages[0].decode(KioskStatus))


def test_leaving_maintenance_without_a_staff_scan_returns_to_idle(running, keyring, collect):
    status = collect("gym/v1/testgym/lp1/kiosk/status")
    kiosk, _ = running()
    kiosk.scan(keyring.code("t_alex", "Alex", role="staff"))
    status.wait_for(lambda m: _mode(m) == "maintenance")
    kiosk.leave_maintenance()
    status.wait_for(lambda m: _mode(m) == "idle" and m is not status.messages[0])
    assert kiosk.mode == "idle"


def test_maintenance_left_untouched_times_out_to_idle(running, keyring, collect, clock: FakeClock):
    status = collect("gym/v1/testgym/lp1/kiosk/status")
    kiosk, _ = running(clock=clock)
    forgotten_after = 5 * kiosk.config.idle_timeout_s  # five idle timeouts
    kiosk.scan(keyring.code("t_alex", "Alex", role="staff"))
    opened = status.wait_for(lambda m: _mode(m) == "maintenance").decode(KioskStatus)
    clock.advance(forgotten_after - 1)
    kiosk.ticked()
    assert kiosk.mode == "maintenance", "left before five idle timeouts"
    clock.advance(2)
    closed = status.wait_for(lambda m: _mode(m) == "idle" and m.decode(KioskStatus).ts > opened.ts)
    assert closed.decode(KioskStatus).ts - opened.ts >= forgotten_after
    assert kiosk.mode == "idle"


def test_touches_keep_maintenance_open_past_its_idle_timeout(running, keyring, clock: FakeClock):
    kiosk, _ = running(clock=clock)
    forgotten_after = 5 * kiosk.config.idle_timeout_s
    kiosk.scan(keyring.code("t_alex", "Alex", role="staff"))
    eventually(lambda: kiosk.mode == "maintenance", what="maintenance mode")
    for _ in range(6):  # twice the maintenance timeout, a touch every third of it
        clock.advance(forgotten_after / 3)
        kiosk.touch()
        kiosk.ticked()
    clock.advance(forgotten_after / 3)
    kiosk.ticked()
    assert kiosk.mode == "maintenance"


def test_rejected_scan_publishes_its_reason_and_changes_nothing_else(running, keyring, collect, tmp_path):
    events = collect("gym/v1/testgym/lp1/kiosk/event")
    kiosk, screen = running()
    kiosk.scan(keyring.code("m_sam", "Sam"))
    events.wait_for_event(SessionStart)
    expired = keyring.code("m_ana", "Ana", now=time.time() - 10 * 86400, expires_at=time.time() - 86400)
    kiosk.scan(expired)
    assert events.wait_for_event(ScanRejected).reason == "expired"
    feedback = screen.wait_for(lambda m: getattr(m, "accepted", None) is False)
    assert "expired" in feedback.message.lower()
    assert kiosk.session is not None and kiosk.session.member == "m_sam"
    assert [e.type for e in events.events()] == ["session_start", "scan_rejected"]


def test_idle_session_times_out(running, keyring, collect, clock: FakeClock):
    events = collect("gym/v1/testgym/lp1/kiosk/event")
    kiosk, _ = running(clock=clock)
    kiosk.scan(keyring.code("m_sam", "Sam"))
    start = events.wait_for_event(SessionStart)
    # The event is on the broker before the scan's job has finished (a first-timer's guided setup still
    # starts, touching the session): time moves only once it has.
    kiosk.inbox.call(lambda: None)
    clock.advance(kiosk.config.idle_timeout_s - 1)
    kiosk.ticked()
    assert kiosk.session is not None, "ended before the idle timeout"
    clock.advance(2)
    end = events.wait_for_event(SessionEnd)
    assert end.reason == "timeout" and end.session == start.session


def test_new_member_gets_safe_first_time_defaults_for_an_unknown_model(running, keyring):
    kiosk, screen = running(machine_model="never-heard-of-it")
    kiosk.scan(keyring.code("m_new", "Noor"))
    screen.wait_for(lambda m: isinstance(m, SessionStart))
    session = kiosk.session
    assert session.first_time
    s = session.settings
    assert s.backrest_notch == 1, "first-timers start on the most reclined notch"
    assert (s.foot_height, s.foot_width) == ("mid", "shoulder") and 10 <= s.toe_angle_deg <= 20
    assert 0 < s.top_mm < s.target_depth_mm < s.max_depth_mm < 500


@pytest.fixture
def desk(broker: Broker, tmp_path: Path) -> Iterator[Recorder]:
    """The site's profile desk (the recorder): the one that turns a kiosk's save into the member's profile."""
    store = open_store(f"sqlite:{tmp_path / 'record.sqlite'}")
    recorder = Recorder(store, broker.url, "testgym", client_id="desk", log_every_s=3600)
    recorder.start()
    assert recorder.wait_connected(10)
    yield recorder
    recorder.stop()
    store.close()


def test_profile_saved_on_one_kiosk_is_seen_by_a_second_kiosk(running, keyring, collect, desk):
    first, _ = running(machine="lp1", data="a")
    second, screen2 = running(machine="lp2", data="b")
    first.scan(keyring.code("m_sam", "Sam"))
    eventually(lambda: first.session is not None, what="a session on the first kiosk")
    mine = first.session.settings.model_copy(update={"backrest_notch": 4, "target_depth_mm": 280.0})
    first.save_settings(mine)
    collect("gym/v1/testgym/members/m_sam/profile").wait_for(lambda m: m.decode(MemberProfile).rev == 1)
    retained = collect("gym/v1/testgym/members/m_sam/profile").wait_for(lambda m: m.retain)
    assert retained.decode(MemberProfile).machines["generic-45"].backrest_notch == 4
    eventually(lambda: second.profiles.book.rev("m_sam") == 1, what="rev 1 on the second kiosk")
    second.scan(keyring.code("m_sam", "Sam"))
    eventually(lambda: second.session is not None, what="a session on the second kiosk")
    assert second.session.settings.backrest_notch == 4
    assert second.session.settings.target_depth_mm == 280.0
    assert not second.session.first_time


def test_a_stale_rev_is_ignored(running, broker):
    from kiosk.dev.broker import publish

    kiosk, _ = running()
    topic = "gym/v1/testgym/members/m_sam/profile"

    def profile(rev, notch):
        return json.dumps({"member": "m_sam", "name": "Sam", "rev": rev, "updated": 1.0, "machines": {
            "generic-45": {"backrest_notch": notch, "target_depth_mm": 250, "max_depth_mm": 300, "top_mm": 30}}})

    book = kiosk.profiles.book
    publish(broker, topic, profile(5, 3), retain=True)
    eventually(lambda: book.rev("m_sam") == 5, what="rev 5 in the cache")
    publish(broker, topic, profile(3, 7), retain=True)
    publish(broker, "gym/v1/testgym/members/m_other/profile", profile(9, 1), retain=True)  # names m_sam: refused
    eventually(lambda: book.stats.stale_ignored >= 1 and book.stats.invalid >= 1, what="stale and invalid counted")
    assert book.get("m_sam").machines["generic-45"].backrest_notch == 3
    assert book.get("m_other") is None


def test_cached_member_gets_their_settings_with_the_broker_down(running, keyring, broker):
    kiosk, screen = running()
    kiosk.scan(keyring.code("m_sam", "Sam"))
    eventually(lambda: kiosk.session is not None, what="a session")
    kiosk.save_settings(kiosk.session.settings.model_copy(update={"backrest_notch": 6}))
    eventually(lambda: kiosk.profiles.book.rev("m_sam") == 1, what="rev 1 saved")
    kiosk.scan(keyring.code("m_sam", "Sam"))  # log out
    eventually(lambda: kiosk.session is None, what="logged out")
    broker.stop()
    eventually(lambda: not kiosk.link.connected, what="the link down")
    kiosk.scan(keyring.code("m_sam", "Sam"))
    eventually(lambda: kiosk.session is not None, what="a session with the broker down")
    assert kiosk.session.settings.backrest_notch == 6
    broker.start()


def test_erasing_a_member_removes_them_from_the_kiosk_cache(running, keyring, broker, desk):
    from kiosk.fleet.profile_erasure import erase_member

    kiosk, _ = running()
    kiosk.scan(keyring.code("m_sam", "Sam"))
    eventually(lambda: kiosk.session is not None, what="a session")
    kiosk.save_settings(kiosk.session.settings.model_copy(update={"backrest_notch": 2}))
    eventually(lambda: kiosk.profiles.book.rev("m_sam") == 1, what="rev 1 saved")
    erase_member(broker.url, "testgym", "m_sam")
    eventually(lambda: kiosk.profiles.book.get("m_sam") is None, what="m_sam gone from the cache")


def test_pain_button_alone_tells_staff_and_ends_the_set_before_any_question(running, keyring, collect):
    events = collect("gym/v1/testgym/lp1/kiosk/event")
    kiosk, _ = running()
    kiosk.scan(keyring.code("m_sam", "Sam"))
    events.wait_for_event(SessionStart)
    kiosk.press_pain()
    stop = events.wait_for_event(CueRaised, lambda e: e.cue == "pain_stop")
    assert stop.severity == "stop"
    kiosk.press_pain()
    kiosk.report_pain("radiating")
    report = events.wait_for_event(PainReport)
    assert report.kind == "radiating" and report.member == "m_sam"
    assert _pain_stops(events.messages) == 1
    kiosk.press_pain()  # a new episode after the report
    events.wait_for(lambda m: _pain_stops(events.messages) == 2)


def test_an_old_profile_with_its_target_at_the_max_is_repaired_on_load_and_saved_repaired(running, keyring,
                                                                                           broker, collect):
    from kiosk.core.machine.depth_limits import TARGET_MARGIN_MM
    from kiosk.dev.broker import publish

    kiosk, _ = running()
    topic = "gym/v1/testgym/members/m_old/profile"
    publish(broker, topic, json.dumps({"member": "m_old", "name": "Olu", "rev": 2, "updated": 1.0, "machines": {
        "generic-45": {"backrest_notch": 3, "target_depth_mm": 225, "max_depth_mm": 225, "top_mm": 30}}}),
        retain=True)
    eventually(lambda: kiosk.profiles.book.rev("m_old") == 2)
    code = keyring.code("m_old", "Olu")
    kiosk.scan(code)
    eventually(lambda: kiosk.session is not None)
    assert kiosk.fresh_snapshot().member.settings.target_depth_mm == 225 - TARGET_MARGIN_MM
    saves = collect("gym/v1/testgym/lp1/kiosk/profile")  # the kiosk's save, for the site's profile desk
    kiosk.scan(code)  # log out: the repaired settings are saved
    saved = saves.wait_for(lambda m: json.loads(m.payload)["rev"] == 3)
    machine = json.loads(saved.payload)["machines"]["generic-45"]
    assert machine["max_depth_mm"] - machine["target_depth_mm"] >= TARGET_MARGIN_MM


def test_settings_a_member_saves_keep_the_target_short_of_the_max(running, keyring, collect):
    from kiosk.core.machine.depth_limits import TARGET_MARGIN_MM

    kiosk, _ = running()
    kiosk.scan(keyring.code("m_sam", "Sam"))
    eventually(lambda: kiosk.session is not None)
    s = kiosk.session.settings
    kiosk.save_settings(s.model_copy(update={"target_depth_mm": s.max_depth_mm}))
    saved = collect("gym/v1/testgym/lp1/kiosk/profile").wait_for(lambda m: json.loads(m.payload)["rev"] == 1)
    machine = json.loads(saved.payload)["machines"]["generic-45"]
    assert machine["target_depth_mm"] == s.max_depth_mm - TARGET_MARGIN_MM
    assert kiosk.fresh_snapshot().member.settings.target_depth_mm == s.max_depth_mm - TARGET_MARGIN_MM


def test_logging_out_and_closing_maintenance_say_so_instead_of_welcome(running, keyring):
    from kiosk.core.snapshot import ScanFeedback
    from kiosk.words import wording

    kiosk, screen = running()
    member, staff = keyring.code("m_alex", "Alex"), keyring.code("t_robin", "Robin", role="staff")
    for n, code in enumerate((member, member, staff, staff), start=1):
        kiosk.scan(code)
        eventually(lambda n=n: sum(isinstance(m, ScanFeedback) for m in screen.seen) == n)
    said = [m.message for m in screen.seen if isinstance(m, ScanFeedback)]
    assert said == ["Welcome, Alex!", wording.goodbye("Alex"), "Welcome, Robin!", wording.MAINTENANCE_CLOSED]


def test_a_staff_code_ends_a_members_session_only_when_scanned_again(running, keyring, collect):
    from kiosk.core.snapshot import ScanFeedback
    from kiosk.words import wording

    kiosk, screen = running()
    kiosk.scan(keyring.code("m_sam", "Sam"))
    eventually(lambda: kiosk.session is not None)
    staff = keyring.code("t_robin", "Robin", role="staff")
    kiosk.scan(staff)
    eventually(lambda: any(isinstance(m, ScanFeedback) and m.message == wording.STAFF_DURING_SESSION
                      for m in screen.seen))
    assert kiosk.session is not None and kiosk.mode == "session"
    kiosk.scan(staff)
    eventually(lambda: kiosk.mode == "maintenance")
    assert kiosk.session is None
