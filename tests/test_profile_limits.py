"""What retained profiles can do to a kiosk is bounded: rev, unknown fields, cache size, over a real broker."""

import json
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from kiosk.core.profiles import MAX_MEMBERS, MAX_REV_JUMP
from kiosk.devbroker import publish

R = "gym/v1/testgym/lp1"
PROFILES = "gym/v1/testgym/members"
SETTINGS = {"backrest_notch": 3, "max_depth_mm": 300, "target_depth_mm": 260, "top_mm": 40}


def _defences(broker, collect) -> dict:
    replies = collect(f"{R}/kiosk/res/diagnostics")
    transaction = f"d{time.monotonic_ns()}"
    publish(broker, f"{R}/kiosk/cmd/diagnostics", json.dumps({"transaction": transaction}))
    return json.loads(replies.wait_for(lambda m: transaction.encode() in m.payload).payload)["data"]["telemetry"][
        "defences"]


def _profile(member: str, rev: int, **extra: object) -> bytes:
    return json.dumps({"member": member, "name": "Sam", "rev": rev, "updated": 1.0,
                       "machines": {"generic-45": SETTINGS}, **extra}).encode()


def _until(what: str, check, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _save_and_get_rev(kiosk, collect, member: str) -> int:
    events = collect(f"{R}/kiosk/event")
    kiosk.scan(kiosk.keyring.code(member))
    events.wait_for(lambda m: b"session_start" in m.payload)
    kiosk.save_settings(kiosk.session.settings.model_copy(update={"backrest_notch": 5}))
    return json.loads(events.wait_for(lambda m: b"profile_saved" in m.payload).payload)["rev"]


def test_a_rev_near_the_json_limit_is_refused_and_the_member_can_still_save(broker, collect, kiosk):
    publish(broker, f"{PROFILES}/m_sam/profile", _profile("m_sam", 2**53 - 2), retain=True)
    _until("the forged rev was not refused", lambda: kiosk.profiles.stats.rev_refused == 1)
    assert _defences(broker, collect)["profiles_rev_refused"] == 1
    assert _save_and_get_rev(kiosk, collect, "m_sam") == 1


def test_a_plausible_rev_is_taken_and_the_next_save_follows_it(broker, collect, kiosk):
    publish(broker, f"{PROFILES}/m_sam/profile", _profile("m_sam", 5), retain=True)
    _until("the profile never arrived", lambda: kiosk.profiles.rev("m_sam") == 5)
    assert _save_and_get_rev(kiosk, collect, "m_sam") == 6
    publish(broker, f"{PROFILES}/m_sam/profile", _profile("m_sam", 6 + MAX_REV_JUMP + 1), retain=True)
    _until("a jump past the cached rev was not refused", lambda: kiosk.profiles.stats.rev_refused == 1)
    assert kiosk.profiles.rev("m_sam") == 6


def test_a_flood_of_profiles_with_big_unknown_fields_keeps_the_cache_bounded(broker, collect, kiosk):
    flood = MAX_MEMBERS + 100
    padded = 60  # 60 KB of unknown fields each: the attack that once grew the cache to 119 MB
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        for i in range(flood):
            extra = {"future": "x" * 60_000} if i < padded else {}
            client.publish(f"{PROFILES}/m_{i:05d}/profile", _profile(f"m_{i:05d}", 1, **extra), qos=1, retain=True)
            if i % 200 == 199:
                # Paced so the broker's queue for the kiosk never overflows: every profile must arrive.
                _until("the kiosk fell behind the flood", lambda sent=i: kiosk.profiles.stats.received > sent - 50)
        _until("the kiosk did not take in the flood", lambda: kiosk.profiles.stats.received >= flood)
    finally:
        client.disconnect()
        client.loop_stop()
    counters = _defences(broker, collect)
    assert counters["profiles_unknown_trimmed"] == padded
    assert counters["profiles_cached"] == MAX_MEMBERS and counters["profiles_evicted"] == flood - MAX_MEMBERS
    on_disk = sum(p.stat().st_size for p in kiosk.profiles.path.parent.glob("profiles.sqlite3*"))
    assert on_disk < 16 * 2**20, f"cache is {on_disk / 2**20:.1f} MB"
    # Least recently seen went first: the newest members are still there, and a new one saves normally.
    assert kiosk.profiles.rev(f"m_{flood - 1:05d}") == 1 and kiosk.profiles.rev("m_00000") == -1
    assert _save_and_get_rev(kiosk, collect, f"m_{flood - 1:05d}") == 2
