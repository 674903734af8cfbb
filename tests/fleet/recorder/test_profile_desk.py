"""The profile desk: a kiosk's save becomes a member's profile only for a member it had a session of.

A real mosquitto, the recorder as the desk, kiosks publishing as a kiosk does; both store engines.
"""

import json

import pytest

from kiosk.contract.events import SessionStart
from kiosk.contract.kiosk import KioskInfo
from kiosk.contract.profile import MachineSettings, MemberProfile
from kiosk.contract.topics import member_profile
from kiosk.dev.broker import Broker, Collector
from kiosk.fleet.profile_erasure import ask_erase, erase_member
from kiosk.fleet.recorder.service import Recorder
from kiosk.fleet.recorder.store import Store
from kiosk.fleet.recorder.store_url import open_store
from tests.fleet.recorder.kiosks import SITE, FakeKiosk, eventually

MODEL = "hammer-45"


def settings(max_depth: float, notch: int = 4) -> MachineSettings:
    return MachineSettings(backrest_notch=notch, target_depth_mm=max_depth - 20, max_depth_mm=max_depth, top_mm=20)


def save(kiosk: FakeKiosk, member: str, rev: int, updated: float, machines: dict[str, MachineSettings]) -> None:
    profile = MemberProfile(member=member, name="Sam", rev=rev, updated=updated, machines=machines)
    kiosk.publish(kiosk.topics.kiosk_profile, profile.model_dump(mode="json"))
    kiosk.flush()


@pytest.fixture
def reader(store_url: str):
    """The store as another reader sees it (the recorder's own connection is its writer thread's)."""
    r = open_store(store_url)
    yield r
    r.close()


@pytest.fixture
def desk(broker: Broker, store: Store):
    r = Recorder(store, broker.url, SITE, client_id="desk-under-test", log_every_s=3600)
    r.start()
    assert r.wait_connected(10)
    yield r
    r.stop()


@pytest.fixture
def lp1(broker: Broker):
    k = FakeKiosk(broker, "lp1")
    k.publish(k.topics.kiosk_info, info(k.machine), retain=True)
    yield k
    k.close()


@pytest.fixture
def lp3(broker: Broker):
    k = FakeKiosk(broker, "lp3")
    k.publish(k.topics.kiosk_info, info(k.machine), retain=True)
    yield k
    k.close()


def info(machine: str) -> dict[str, str]:
    return KioskInfo(version="1.0", machine_model=MODEL, config_version="c1", contract_version="gym/v1",
                     site=SITE, machine=machine).model_dump(mode="json")


def stored_revs(store: Store, member: str) -> list[int]:
    return [int(r) for (r,) in store.read("SELECT rev FROM profiles WHERE member = ? ORDER BY rev", (member,))]


def test_a_save_for_the_member_in_session_is_published_as_the_next_rev_stamped_when_received(desk, lp1, reader,
                                                                                              broker):
    lp1.event(SessionStart(ts=1000.0, session="s1", member="m_alice", role="member"))
    # The kiosk's rev and clock are not believed: the desk numbers it and stamps the time it came in.
    save(lp1, "m_alice", rev=99_000, updated=1.0, machines={MODEL: settings(200)})
    eventually(lambda: stored_revs(reader, "m_alice") == [1], what="rev 1 stored")
    other_kiosk = Collector(broker, member_profile(SITE, "m_alice"))  # retained: what every kiosk gets
    try:
        retained = MemberProfile.model_validate_json(other_kiosk.wait_for(lambda m: m.retain).payload)
    finally:
        other_kiosk.close()
    assert retained.rev == 1 and retained.machines[MODEL].max_depth_mm == 200
    (updated, received) = reader.read("SELECT updated, received_at FROM profiles WHERE member = 'm_alice'")[0]
    assert updated == pytest.approx(received, abs=5) and updated > 1_000_000
    save(lp1, "m_alice", rev=1, updated=2.0, machines={MODEL: settings(210)})
    eventually(lambda: stored_revs(reader, "m_alice") == [1, 2], what="rev 2 stored: every revision kept")


def test_a_save_sent_again_after_a_kiosk_restart_makes_no_new_revision(desk, lp1, reader, broker):
    lp1.event(SessionStart(ts=1000.0, session="s1", member="m_alice", role="member"))
    save(lp1, "m_alice", rev=4, updated=1.0, machines={MODEL: settings(200)})
    eventually(lambda: stored_revs(reader, "m_alice") == [1], what="rev 1 stored")
    # Killed before the broker's acknowledgement: the held save goes out again, then a real change.
    save(lp1, "m_alice", rev=4, updated=1.0, machines={MODEL: settings(200)})
    save(lp1, "m_alice", rev=4, updated=2.0, machines={MODEL: settings(190)})
    eventually(lambda: stored_revs(reader, "m_alice") == [1, 2], what="only the change made a revision")
    (machines,) = reader.read("SELECT machines FROM profiles WHERE member = 'm_alice' AND rev = 2")[0]
    assert json.loads(machines)[MODEL]["max_depth_mm"] == 190


def test_a_stolen_kiosk_cannot_rewrite_a_member_it_never_had_at_its_machine(desk, lp1, lp3, reader):
    lp1.event(SessionStart(ts=1000.0, session="s1", member="m_alice", role="member"))
    save(lp1, "m_alice", rev=1, updated=1000.0, machines={MODEL: settings(199.5)})
    eventually(lambda: stored_revs(reader, "m_alice") == [1], what="Alice's own save")
    lp3.event(SessionStart(ts=1000.0, session="s9", member="m_bob", role="member"))
    save(lp3, "m_alice", rev=2, updated=9e9, machines={MODEL: settings(400)})
    eventually(lambda: desk.total.refused["save_without_session"] == 1, what="lp3's forged save refused")
    assert stored_revs(reader, "m_alice") == [1]
    assert json.loads(reader.read("SELECT machines FROM profiles WHERE member = 'm_alice'")[0][0])[MODEL][
        "max_depth_mm"] == 199.5


def test_a_save_changes_only_the_kiosks_own_machine_model(desk, lp1, reader):
    lp1.event(SessionStart(ts=1000.0, session="s1", member="m_alice", role="member"))
    save(lp1, "m_alice", rev=1, updated=1000.0, machines={MODEL: settings(200)})
    eventually(lambda: stored_revs(reader, "m_alice") == [1], what="rev 1")
    # Settings for another machine model ride along: ignored, never published from this kiosk.
    save(lp1, "m_alice", rev=2, updated=1000.0, machines={MODEL: settings(205), "sled-90": settings(400)})
    eventually(lambda: stored_revs(reader, "m_alice") == [1, 2], what="rev 2")
    machines = json.loads(reader.read("SELECT machines FROM profiles WHERE member = 'm_alice' AND rev = 2")[0][0])
    assert set(machines) == {MODEL} and machines[MODEL]["max_depth_mm"] == 205


def test_with_the_inventory_the_model_is_the_inventorys_whatever_a_stolen_kiosk_claims(broker, store, reader):
    """A stolen lp1 login says its machine is a sled-90 (in its own `info`) to rewrite members' sled-90
    settings: with the site's inventory the desk takes lp1's model from there, and lp9, in no inventory, gets
    nothing published."""
    inventory_models = {"lp1": MODEL}
    r = Recorder(store, broker.url, SITE, client_id="desk-with-inventory", log_every_s=3600,
                 machine_models=inventory_models)
    r.start()
    assert r.wait_connected(10)
    lp1, lp9 = FakeKiosk(broker, "lp1"), FakeKiosk(broker, "lp9")
    try:
        claimed = KioskInfo(version="1.0", machine_model="sled-90", config_version="c1", contract_version="gym/v1",
                            site=SITE, machine="lp1").model_dump(mode="json")
        lp1.publish(lp1.topics.kiosk_info, claimed, retain=True)
        lp9.publish(lp9.topics.kiosk_info, info("lp9"), retain=True)
        eventually(lambda: reader.machine_model(SITE, "lp1") == "sled-90", what="lp1's claim recorded")
        lp1.event(SessionStart(ts=1000.0, session="s1", member="m_alice", role="member"))
        save(lp1, "m_alice", rev=1, updated=1000.0, machines={MODEL: settings(200), "sled-90": settings(400)})
        eventually(lambda: stored_revs(reader, "m_alice") == [1], what="the save, as the inventory's model")
        machines = json.loads(reader.read("SELECT machines FROM profiles WHERE member = 'm_alice'")[0][0])
        assert set(machines) == {MODEL} and machines[MODEL]["max_depth_mm"] == 200
        # Only sled-90 settings from lp1: nothing for its real model, refused as for any other wrong model.
        save(lp1, "m_alice", rev=2, updated=1000.0, machines={"sled-90": settings(400)})
        eventually(lambda: r.total.refused["save_wrong_model"] == 1, what="the sled-90-only save refused")
        lp9.event(SessionStart(ts=1000.0, session="s9", member="m_bob", role="member"))
        save(lp9, "m_bob", rev=1, updated=1000.0, machines={MODEL: settings(200)})
        eventually(lambda: r.total.refused["save_unknown_machine"] == 1, what="lp9's save refused")
        assert stored_revs(reader, "m_alice") == [1] and stored_revs(reader, "m_bob") == []
    finally:
        lp1.close()
        lp9.close()
        r.stop()


def test_an_erasure_is_a_tombstone_with_who_and_the_member_stays_erased_until_they_train_again(
        desk, lp1, reader, broker):
    lp1.event(SessionStart(ts=1000.0, session="s1", member="m_alice", role="member"))
    save(lp1, "m_alice", rev=1, updated=1000.0, machines={MODEL: settings(200)})
    eventually(lambda: stored_revs(reader, "m_alice") == [1], what="rev 1")
    erase_member(broker.url, SITE, "m_alice")
    eventually(lambda: reader.read("SELECT erased_by FROM profile_erasures WHERE member = 'm_alice'"),
               what="the tombstone")
    # The dev broker's URL carries no username: the tombstone says an unnamed operator, never nothing.
    assert reader.read("SELECT erased_by FROM profile_erasures")[0][0] == "an operator (unnamed)"
    # A save held from before the erasure (the same old session) is refused: she stays erased.
    save(lp1, "m_alice", rev=2, updated=1000.0, machines={MODEL: settings(210)})
    eventually(lambda: desk.total.refused["save_without_session"] == 1, what="the stale save refused")
    assert stored_revs(reader, "m_alice") == [1], "the revision before the erasure is still there for recovery"
    # Training again is a new session: her save goes out with a rev never used before.
    lp1.event(SessionStart(ts=2000.0, session="s2", member="m_alice", role="member"))
    save(lp1, "m_alice", rev=1, updated=2000.0, machines={MODEL: settings(215)})
    eventually(lambda: stored_revs(reader, "m_alice") == [1, 2], what="rev 2 after the erasure")


def test_the_console_erases_by_asking_the_desk_which_names_the_staff_member_in_the_tombstone(
        desk, lp1, reader, broker):
    lp1.event(SessionStart(ts=1000.0, session="s1", member="m_alice", role="member"))
    save(lp1, "m_alice", rev=1, updated=1000.0, machines={MODEL: settings(200)})
    eventually(lambda: stored_revs(reader, "m_alice") == [1], what="rev 1")
    # Returns once the retained profile is gone (it waits for the desk's clearing).
    assert ask_erase(broker.url, SITE, "m_alice", "trainer1") == member_profile(SITE, "m_alice")
    eventually(lambda: reader.read("SELECT erased_by FROM profile_erasures WHERE member = 'm_alice'"),
               what="the tombstone")
    assert reader.read("SELECT erased_by FROM profile_erasures")[0][0] == "console.trainer1"
    assert stored_revs(reader, "m_alice") == [1], "the revision stays for recovery"
    # Asked for a member the record has no profile of, or in a shape that is not a request: nothing erased.
    lp1.publish(f"gym/v1/{SITE}/members/m_nobody/erase", {"by": "trainer1"})
    lp1.publish(f"gym/v1/{SITE}/members/m_alice/erase", b'{"by": "Robert; DROP"}')
    lp1.flush()
    eventually(lambda: desk.total.refused["erase_unknown_member"] == 1 and desk.total.refused["invalid"] == 1,
               what="both refused")
    assert len(reader.read("SELECT erased_by FROM profile_erasures")) == 1


def test_the_console_gets_a_bounded_number_of_erasures_an_hour(desk, lp1, reader, broker, monkeypatch):
    from kiosk.fleet.recorder import desk as desk_module
    from kiosk.mqtt.connection import CommandFailed

    # A stolen console login must not empty the site of every member's settings in a minute.
    monkeypatch.setattr(desk_module, "MAX_CONSOLE_ERASES_PER_HOUR", 1)
    for i, member in enumerate(["m_alice", "m_bob"]):
        lp1.event(SessionStart(ts=1000.0 + i, session=f"s{i}", member=member, role="member"))
        save(lp1, member, rev=1, updated=1000.0, machines={MODEL: settings(200)})
    eventually(lambda: stored_revs(reader, "m_alice") == [1] and stored_revs(reader, "m_bob") == [1],
               what="both profiles stored")
    ask_erase(broker.url, SITE, "m_alice", "trainer1")
    with pytest.raises(CommandFailed, match="did not erase"):
        ask_erase(broker.url, SITE, "m_bob", "trainer1", timeout=2.0)
    eventually(lambda: desk.total.refused["erase_over_rate"] == 1, what="the second erasure refused")
    assert [row[0] for row in reader.read("SELECT member FROM profile_erasures")] == ["m_alice"]
    bob = Collector(broker, member_profile(SITE, "m_bob"))  # retained: what every kiosk gets
    try:
        assert MemberProfile.model_validate_json(bob.wait_for(lambda m: m.retain).payload).member == "m_bob"
    finally:
        bob.close()


def test_a_retained_erase_request_acts_once_and_never_again_at_a_new_session_of_the_recorder(
        desk, lp1, reader, broker, store):
    lp1.event(SessionStart(ts=1000.0, session="s1", member="m_alice", role="member"))
    save(lp1, "m_alice", rev=1, updated=1000.0, machines={MODEL: settings(200)})
    eventually(lambda: stored_revs(reader, "m_alice") == [1], what="rev 1")
    # Left retained (a stolen console login could): the live delivery erases, as a request sent live does.
    lp1.publish(f"gym/v1/{SITE}/members/m_alice/erase", {"by": "trainer1"}, retain=True)
    lp1.flush()
    eventually(lambda: len(reader.read("SELECT erased_by FROM profile_erasures")) == 1, what="the erasure")
    # She trains again; then a recorder with a new session gets the retained request: it must not erase her again.
    lp1.event(SessionStart(ts=2000.0, session="s2", member="m_alice", role="member"))
    save(lp1, "m_alice", rev=1, updated=2000.0, machines={MODEL: settings(205)})
    eventually(lambda: stored_revs(reader, "m_alice") == [1, 2], what="rev 2")
    desk.stop()
    fresh = Recorder(store, broker.url, SITE, client_id="desk-new-session", log_every_s=3600)
    fresh.start()
    try:
        assert fresh.wait_connected(10)
        eventually(lambda: fresh.total.refused["erase_retained"] == 1, what="the retained request ignored")
    finally:
        fresh.stop()
    assert len(reader.read("SELECT erased_by FROM profile_erasures")) == 1
    alice = Collector(broker, member_profile(SITE, "m_alice"))
    try:
        assert MemberProfile.model_validate_json(alice.wait_for(lambda m: m.retain).payload).rev == 2
    finally:
        alice.close()


def test_a_save_that_is_not_a_profile_is_refused_and_counted(desk, lp1, reader):
    lp1.event(SessionStart(ts=1000.0, session="s1", member="m_alice", role="member"))
    lp1.publish(lp1.topics.kiosk_profile, b'{"member": "m_alice", "rev": 1}')
    lp1.publish(lp1.topics.kiosk_profile, b"x" * (17 * 1024))
    lp1.flush()
    eventually(lambda: desk.total.refused["invalid"] == 1 and desk.total.refused["too_large"] == 1,
               what="both refused")
    assert stored_revs(reader, "m_alice") == []


def test_a_kiosk_flooding_saves_gets_a_bounded_number_published_an_hour(desk, lp1, reader, monkeypatch):
    from kiosk.fleet.recorder import desk as desk_module

    monkeypatch.setattr(desk_module, "MAX_SAVES_PER_MACHINE_HOUR", 2)
    for i in range(4):
        member = f"m_{i}"
        lp1.event(SessionStart(ts=1000.0 + i, session=f"s{i}", member=member, role="member"))
        save(lp1, member, rev=1, updated=1000.0, machines={MODEL: settings(200)})
    eventually(lambda: desk.total.refused["save_over_rate"] == 2, what="the saves past the rate refused")
    # The published ones come back through the broker as the members' profiles.
    eventually(lambda: reader.read("SELECT COUNT(DISTINCT member) FROM profiles")[0][0] == 2, what="two published")
    assert desk.total.added.profiles == 2


def test_an_event_past_what_the_record_keeps_is_refused_and_counted(desk, lp1, reader):
    from kiosk.fleet.recorder.intake import MAX_STORED_BYTES

    padded = {"type": "sensor_fault", "ts": 5, "fault": "stale", "detail": "x", "pad": "y" * MAX_STORED_BYTES}
    lp1.publish(lp1.topics.kiosk_event, padded)
    lp1.event(SessionStart(ts=6.0, session="s1", member="m_alice", role="member"))
    lp1.flush()
    eventually(lambda: desk.total.refused["too_large"] == 1 and desk.total.added.events == 1,
               what="the big one refused, the next one kept")
    assert reader.read("SELECT type FROM events") == [("session_start",)]


def _config_state(home_assistant: bool) -> dict[str, object]:
    return {"status": "ok", "error": None, "config": {"home_assistant": home_assistant}, "version": "c1"}


def test_the_recorder_publishes_each_kiosks_home_assistant_device_from_its_info_and_removes_it(desk, lp1, broker):
    from kiosk.contract.discovery import DeviceDiscovery, config_topic

    device = Collector(broker, config_topic(SITE, "lp1"))
    try:
        lp1.publish(lp1.topics.kiosk_config_state, _config_state(True), retain=True)
        published = device.wait_for(lambda m: bool(m.payload))
        document = DeviceDiscovery.model_validate_json(published.payload)
        # Every button commands this machine: the document is built by the recorder, not taken from a kiosk.
        buttons = [c.command_topic for c in document.components.values() if c.platform == "button"]
        assert buttons and all(t.startswith(lp1.topics.root + "/kiosk/cmd/") for t in buttons)
        assert published.retain is False and document.device.model == MODEL
        lp1.publish(lp1.topics.kiosk_config_state, _config_state(False), retain=True)
        device.wait_for(lambda m: m.payload == b"")
    finally:
        device.close()
