"""What retained profiles can do to a kiosk is bounded: rev, unknown fields, cache size, over a real broker."""

import json
import time

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from kiosk.core.profiles.cache import MAX_REV_JUMP
from kiosk.dev.broker import publish
from tests.support.helpers import eventually
from tests.support.kiosk_harness import Keyring, make_kiosk

R = "gym/v1/testgym/lp1"
PROFILES = "gym/v1/testgym/members"
CACHE = 300
SETTINGS = {"backrest_notch": 3, "max_depth_mm": 300, "target_depth_mm": 260, "top_mm": 40}


def _diagnostics(broker, collect) -> dict:
    replies = collect(f"{R}/kiosk/res/diagnostics")
    transaction = f"d{time.monotonic_ns()}"
    publish(broker, f"{R}/kiosk/cmd/diagnostics", json.dumps({"transaction": transaction}))
    return json.loads(replies.wait_for(lambda m: transaction.encode() in m.payload).payload)["data"]


def _defences(broker, collect) -> dict:
    return _diagnostics(broker, collect)["telemetry"]["defences"]


def _received(broker, collect) -> int:
    """Profiles the kiosk has taken in so far, as its diagnostics report them."""
    return _diagnostics(broker, collect)["profiles"]["received"]


def _profile(member: str, rev: int, **extra: object) -> bytes:
    return json.dumps({"member": member, "name": "Sam", "rev": rev, "updated": 1.0,
                       "machines": {"generic-45": SETTINGS}, **extra}).encode()


def _until(what: str, check, timeout: float = 20.0) -> None:
    eventually(check, timeout=timeout, what=what)


def _save_and_get_rev(kiosk, collect, member: str) -> int:
    events = collect(f"{R}/kiosk/event")
    kiosk.scan(kiosk.keyring.code(member))
    events.wait_for(lambda m: b"session_start" in m.payload)
    kiosk.save_settings(kiosk.session.settings.model_copy(update={"backrest_notch": 5}))
    return json.loads(events.wait_for(lambda m: b"profile_saved" in m.payload).payload)["rev"]


def test_a_rev_near_the_json_limit_is_refused_and_the_member_can_still_save(broker, collect, kiosk):
    publish(broker, f"{PROFILES}/m_sam/profile", _profile("m_sam", 2**53 - 2), retain=True)
    _until("the forged rev was not refused", lambda: _defences(broker, collect)["profiles_rev_refused"] == 1)
    assert _save_and_get_rev(kiosk, collect, "m_sam") == 1


def test_a_plausible_rev_is_taken_and_the_next_save_follows_it(broker, collect, kiosk):
    publish(broker, f"{PROFILES}/m_sam/profile", _profile("m_sam", 5), retain=True)
    _until("the profile never arrived", lambda: _received(broker, collect) == 1)
    assert _save_and_get_rev(kiosk, collect, "m_sam") == 6
    publish(broker, f"{PROFILES}/m_sam/profile", _profile("m_sam", 6 + MAX_REV_JUMP + 1), retain=True)
    _until("a jump past the cached rev was not refused",
           lambda: _defences(broker, collect)["profiles_rev_refused"] == 1)
    kiosk.end_session()
    assert _save_and_get_rev(kiosk, collect, "m_sam") == 7, "the next save follows the last real rev"


@pytest.fixture
def small_cache_kiosk(broker, tmp_path):
    """A kiosk that keeps only `CACHE` members, so a flood past it takes seconds, not minutes."""
    keyring = Keyring(tmp_path)
    kiosk, _ = make_kiosk(broker.url, tmp_path / "data", keyring, profile_cache_members=CACHE)
    kiosk.keyring = keyring
    kiosk.start()
    assert kiosk.link.wait_connected(10)
    yield kiosk
    kiosk.stop()


def test_a_flood_of_profiles_with_big_unknown_fields_keeps_the_cache_bounded(broker, collect, small_cache_kiosk):
    kiosk = small_cache_kiosk
    flood, padded = CACHE + 100, 60  # 60 KB of unknown fields each: the attack that grew the cache to 119 MB
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        for i in range(flood):
            extra = {"future": "x" * 60_000} if i < padded else {}
            client.publish(f"{PROFILES}/m_{i:05d}/profile", _profile(f"m_{i:05d}", 1, **extra), qos=1, retain=True)
            if i % 100 == 99:
                # Paced so the broker's queue for the kiosk never overflows: every profile must arrive.
                _until("the kiosk fell behind the flood", lambda sent=i: _received(broker, collect) > sent - 50)
        _until("the kiosk did not take in the flood", lambda: _received(broker, collect) >= flood)
    finally:
        client.disconnect()
        client.loop_stop()
    # `received` counts a profile before it is filed and the oldest evicted: wait for the last one's filing.
    counters = eventually(lambda: (c := _defences(broker, collect))["profiles_evicted"] >= flood - CACHE and c,
                          timeout=20, what="the whole flood filed")
    assert counters["profiles_unknown_trimmed"] == padded
    assert counters["profiles_cached"] == CACHE and counters["profiles_evicted"] == flood - CACHE
    on_disk = sum(p.stat().st_size for p in kiosk.settings.data_dir.glob("profiles.sqlite3*"))
    assert on_disk < 8 * 2**20, f"cache is {on_disk / 2**20:.1f} MB"
    # The newest members are still known: a save follows their rev.
    assert _save_and_get_rev(kiosk, collect, f"m_{flood - 1:05d}") == 2
    kiosk.end_session()


def test_a_forgotten_members_save_waits_for_their_profile_and_never_goes_back_a_rev(broker, collect,
                                                                                     small_cache_kiosk):
    kiosk = small_cache_kiosk
    other_machine = {"backrest_notch": 6, "max_depth_mm": 250, "target_depth_mm": 200, "top_mm": 30}
    body = json.loads(_profile("m_first", 4))
    body["machines"]["other-model"] = other_machine
    publish(broker, f"{PROFILES}/m_first/profile", json.dumps(body), retain=True)
    _until("m_first never arrived", lambda: _received(broker, collect) == 1)
    # Enough newer members to push m_first out of the cache.
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
    client.connect(broker.host, broker.port)
    client.loop_start()
    for i in range(CACHE + 5):
        client.publish(f"{PROFILES}/m_{i:05d}/profile", _profile(f"m_{i:05d}", 1), qos=1, retain=True)
        if i % 100 == 99:
            _until("the kiosk fell behind", lambda sent=i: _received(broker, collect) > sent - 50)
    client.disconnect()
    client.loop_stop()
    _until("m_first was not forgotten", lambda: _defences(broker, collect)["profiles_evicted"] >= 1)
    saved = collect(f"{R}/kiosk/profile")  # the kiosk's save, for the site's profile desk
    events = collect(f"{R}/kiosk/event")
    kiosk.scan(kiosk.keyring.code("m_first"))
    events.wait_for(lambda m: b"session_start" in m.payload)
    published = _diagnostics(broker, collect)["profiles"]["saves_published"]
    kiosk.save_settings(kiosk.session.settings.model_copy(update={"backrest_notch": 5}))
    # A pass over the held saves has seen it and left it waiting: had it been publishable, it was out then.
    _until("the save was never looked at", lambda: _diagnostics(broker, collect)["profiles"]["saves_waiting"] == 1)
    assert _diagnostics(broker, collect)["profiles"]["saves_published"] == published, "held: its rev is not known"
    assert not any(b"profile_saved" in m.payload for m in events.messages)
    # The retained profile coming in again (as on the kiosk's next connection) lets the save go out on top of it.
    publish(broker, f"{PROFILES}/m_first/profile", json.dumps(body), retain=True)
    final = json.loads(saved.wait_for(lambda m: not m.retain and json.loads(m.payload)["rev"] == 5,
                                      timeout=30).payload)
    assert final["machines"]["generic-45"]["backrest_notch"] == 5
    _until("the save still counted as waiting", lambda: _diagnostics(broker, collect)["profiles"]["saves_waiting"] == 0)
    assert final["machines"]["other-model"] == other_machine | {"seat_notch": 1, "foot_height": "mid",
                                                                "foot_width": "shoulder", "toe_angle_deg": 15,
                                                                "notes": ""}


def test_the_profile_intake_holds_a_bounded_number_of_bytes_and_counts_what_it_drops():
    import threading

    from kiosk.core.profiles.sync import INTAKE_MAX_BYTES, ProfileIntake

    release, filed, dropped = threading.Event(), [], []
    intake = ProfileIntake(lambda topic, payload: (release.wait(10), filed.append(topic)),
                           on_dropped=lambda: dropped.append(1))
    intake.start()
    try:
        payload = b"x" * 65536
        sent = INTAKE_MAX_BYTES // len(payload) + 50  # the filer is stuck: the queue fills up
        for n in range(sent):
            intake.put(f"t{n}", payload)
        assert 45 <= len(dropped) <= 51, "past the bound, dropped and counted, not held"
        release.set()
    finally:
        intake.stop()
    assert len(filed) + len(dropped) == sent
