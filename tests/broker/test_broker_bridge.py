"""Kiosk brokers bridged to the site broker over TLS, started from a render, as a gym runs them.

What crosses the bridge, each topic one way only: out, what the kiosk
publishes under its `R/kiosk/` (its saves on `R/kiosk/profile` among them);
in, its commands and config, the site config and broadcasts, and member
profiles. Sensor topics never leave the kiosk's broker. Both ends keep a
persistent session, so what is published while one end is away arrives
when it is back.
"""

import json
import os
import time
from collections.abc import Iterator

import pytest

from kiosk.contract.kiosk import KioskStatus
from tests.support.broker_gym import Gym, Peer, fleet, machine_root
from tests.support.helpers import eventually

R1, R2 = machine_root("lp-1"), machine_root("lp-2")
SITE_ROOT = "gym/v1/downtown"
PROFILE = f"{SITE_ROOT}/members/m_7f3a9c/profile"


@pytest.fixture
def gym(tmp_path) -> Iterator[Gym]:
    g = Gym(tmp_path)
    assert g.render() == 0
    g.start("site")
    g.start("lp-1")
    yield g
    g.close()


def bridged(kiosk: Peer, machine: str, recorder: Peer, tag: str = "probe") -> None:
    """Wait until the machine's bridge is up and subscribed: a message of `kiosk` has crossed it.

    The bridge subscribes on the site before it forwards anything, so once
    a message has come out, what the site sends in reaches the kiosk.
    """
    root = machine_root(machine)
    kiosk.publish(f"{root}/kiosk/info", tag.encode())
    recorder.wait_for(f"{root}/kiosk/info", tag.encode(), timeout=15)


def test_sensor_data_stays_on_the_kiosk_broker_and_kiosk_events_reach_the_site(gym: Gym):
    recorder = gym.peer("recorder", "site-local", subscribe=("#",))
    kiosk = gym.peer("kiosk-lp-1", "lp-1", subscribe=(f"{R1}/sensor/#",))
    sensor = gym.peer("sensor-lp-1", "lp-1-sensor")
    sensor.publish(f"{R1}/sensor/status", b'{"state": "ready"}', retain=True)
    sensor.publish(f"{R1}/sensor/depth", b'{"mm": 120}', qos=0)
    sensor.publish(f"{R1}/sensor/event", b'{"type": "liftoff"}')
    kiosk.wait_for(f"{R1}/sensor/event")
    kiosk.publish(f"{R1}/kiosk/event", b'{"type": "rep"}')
    kiosk.publish(f"{R1}/kiosk/status", b'{"state": "ready"}', retain=True)
    # The bridge forwards in order: had the sensor messages been bridged, they would be here first.
    recorder.wait_for(f"{R1}/kiosk/event", b'{"type": "rep"}', timeout=15)
    recorder.wait_for(f"{R1}/kiosk/status")
    recorder.sync()
    assert [t for t in recorder.topics() if "/sensor/" in t] == []
    assert recorder.topics().count(f"{R1}/kiosk/event") == 1


def test_commands_config_and_profiles_reach_the_kiosk_and_stay_retained_there(gym: Gym):
    recorder = gym.peer("recorder", "site-local", subscribe=("#",))
    kiosk = gym.peer("kiosk-lp-1", "lp-1", subscribe=("#",))
    bridged(kiosk, "lp-1", recorder)
    ops = gym.peer("op-ops", "site")
    sent = {
        f"{R1}/kiosk/cmd/restart": (b'{"transaction": "t1"}', False),
        f"{R1}/kiosk/config/set": (b'{"idle_timeout_s": 60}', True),
        f"{SITE_ROOT}/config/set": (b'{"sound": false}', True),
        f"{SITE_ROOT}/broadcast/cmd/message": (b'{"transaction": "t2", "text": "closing"}', False),
        PROFILE: (b'{"member": "m_7f3a9c", "rev": 1}', True),
    }
    ops.publish(f"{R2}/kiosk/cmd/restart", b"for lp-2")
    for topic, (payload, retain) in sent.items():
        ops.publish(topic, payload, retain=retain)
    for topic, (payload, _) in sent.items():
        kiosk.wait_for(topic, payload, timeout=15)
    kiosk.sync()
    assert f"{R2}/kiosk/cmd/restart" not in kiosk.topics()
    # Each arrived once: the bridge neither loops nor echoes (MQTT v5 No Local on both ends).
    # (Besides the probe, the kiosk's broker keeps its bridge's state, mosquitto's own notification.)
    assert sorted(t for t in kiosk.topics() if t not in (f"{R1}/kiosk/info", f"{R1}/kiosk/bridge")) == sorted(sent)
    # A kiosk starting while the site is away still finds its config and profiles on its own broker.
    later = gym.peer("kiosk-lp-1", "lp-1", subscribe=("#",))
    for topic, (payload, retain) in sent.items():
        if retain:
            assert later.wait_for(topic, payload).retain


def test_a_save_goes_up_to_the_desk_and_the_desks_profile_down_to_every_kiosk_once(gym: Gym):
    gym.start("lp-2")
    recorder = gym.peer("recorder", "site-local", subscribe=("#",))
    saver = gym.peer("kiosk-lp-1", "lp-1")
    other = gym.peer("kiosk-lp-2", "lp-2", subscribe=(PROFILE,))
    bridged(saver, "lp-1", recorder)
    bridged(other, "lp-2", recorder)
    saver.publish(f"{R1}/kiosk/profile", b'{"member": "m_7f3a9c", "rev": 2}')
    recorder.wait_for(f"{R1}/kiosk/profile", timeout=15)
    recorder.publish(PROFILE, b'{"member": "m_7f3a9c", "rev": 2}', retain=True)  # the desk, having checked it
    assert other.wait_for(PROFILE, timeout=15).payload == b'{"member": "m_7f3a9c", "rev": 2}'
    # Had the profile looped back through either bridge, it would be here before these.
    bridged(saver, "lp-1", recorder, "after")
    bridged(other, "lp-2", recorder, "after")
    other.sync()
    recorder.sync()
    assert recorder.topics().count(PROFILE) == 1 and other.topics().count(PROFILE) == 1


def test_an_erased_profile_and_a_cleared_config_stay_gone_after_a_kiosk_broker_returns(gym: Gym):
    recorder = gym.peer("recorder", "site-local", subscribe=(f"{R1}/kiosk/info", PROFILE))
    ops = gym.peer("op-ops", "site")
    kiosk = gym.peer("kiosk-lp-1", "lp-1", subscribe=(PROFILE, f"{R1}/kiosk/config/set", f"{SITE_ROOT}/config/set"))
    bridged(kiosk, "lp-1", recorder)
    recorder.publish(PROFILE, b'{"member": "m_7f3a9c", "rev": 1}', retain=True)
    ops.publish(f"{R1}/kiosk/config/set", b'{"idle_timeout_s": 45}', retain=True)
    ops.publish(f"{SITE_ROOT}/config/set", b'{"sound": false}', retain=True)
    for topic in (PROFILE, f"{R1}/kiosk/config/set", f"{SITE_ROOT}/config/set"):
        kiosk.wait_for(topic, timeout=15)  # now retained on lp-1's broker too
    gym.brokers["lp-1"].stop()
    for topic in (PROFILE, f"{R1}/kiosk/config/set", f"{SITE_ROOT}/config/set"):
        ops.publish(topic, b"", retain=True)  # erased and cleared while lp-1's broker is away
    gym.start("lp-1")
    bridged(gym.peer("kiosk-lp-1", "lp-1"), "lp-1", recorder, "back")
    later = gym.peer("op-ops", "site", subscribe=(PROFILE, f"{R1}/kiosk/config/set", f"{SITE_ROOT}/config/set"))
    later.sync()
    recorder.sync()
    assert later.received.items == [], "a stale retained copy came back to the site"
    assert [m.payload for m in recorder.received.items if m.topic == PROFILE] == [
        b'{"member": "m_7f3a9c", "rev": 1}', b""]


def test_a_live_kiosk_shows_ready_after_its_bridge_reconnects(gym: Gym, capsys, monkeypatch):
    for key in [k for k in os.environ if k.startswith("LEGPRESS_")]:
        monkeypatch.delenv(key)
    recorder = gym.peer("recorder", "site-local", subscribe=(f"{R1}/kiosk/bridge", f"{R1}/kiosk/info"))
    kiosk = gym.peer("kiosk-lp-1", "lp-1")
    bridged(kiosk, "lp-1", recorder)
    kiosk.publish(f"{R1}/kiosk/status", KioskStatus(state="ready", mode="idle", ts=time.time(), version="test",
                                                    boot=4).model_dump_json().encode(), retain=True)
    recorder.wait_for(f"{R1}/kiosk/bridge", b"1", timeout=15)
    gym.brokers["site"].stop()  # the bridge drops; lp-1's broker writes its own `0` locally
    gym.start("site")
    back = gym.peer("recorder", "site-local", subscribe=(f"{R1}/kiosk/bridge", f"{R1}/kiosk/info"))
    bridged(kiosk, "lp-1", back, "reconnected")
    back.sync()
    operator = ("--site", "downtown", "--broker-secrets", str(gym.out / "secrets" / "op-ops.toml"), "--wait", "0.5")
    assert fleet("status", *operator) == 0
    assert _kiosk_cell(capsys.readouterr().out, "lp-1") == "ready"
    assert [m.payload for m in back.received.items if m.topic == f"{R1}/kiosk/bridge"][-1] == b"1"


def test_events_published_while_the_site_is_down_arrive_after_it_comes_back(gym: Gym):
    recorder = gym.peer("recorder", "site-local", subscribe=(f"{R1}/kiosk/event",), persistent=True)
    kiosk = gym.peer("kiosk-lp-1", "lp-1")
    bridged(kiosk, "lp-1", gym.peer("op-ops", "site", subscribe=(f"{R1}/kiosk/info",)))
    gym.brokers["site"].stop()
    assert recorder.disconnected.wait(5)
    events = [f'{{"type": "rep", "rep": {i}}}'.encode() for i in range(1, 6)]
    for payload in events:
        kiosk.publish(f"{R1}/kiosk/event", payload)
    gym.start("site")
    back = gym.peer("recorder", "site-local", persistent=True)
    for payload in events:
        back.wait_for(f"{R1}/kiosk/event", payload, timeout=20)
    assert [m.payload for m in back.received.items] == events


def test_config_pushed_while_a_kiosk_broker_is_away_reaches_it_when_it_is_back(gym: Gym):
    # Retained config and profiles are resent to a returning bridge. Commands are not kept for an
    # absent kiosk (the site end of a v5 bridge keeps no session in mosquitto 2.0): a `restart`
    # hours late would do harm, and the operator's tool reports the missing reply.
    recorder = gym.peer("recorder", "site-local", subscribe=(f"{R1}/kiosk/info",))
    bridged(gym.peer("kiosk-lp-1", "lp-1"), "lp-1", recorder)
    gym.brokers["lp-1"].stop()
    gym.peer("op-ops", "site").publish(f"{R1}/kiosk/config/set", b'{"idle_timeout_s": 45}', retain=True)
    gym.start("lp-1")
    back = gym.peer("kiosk-lp-1", "lp-1", subscribe=(f"{R1}/kiosk/config/set",))
    back.wait_for(f"{R1}/kiosk/config/set", b'{"idle_timeout_s": 45}', timeout=20)


def test_after_rotating_a_kiosk_password_and_a_reload_the_old_one_is_refused(gym: Gym):
    recorder = gym.peer("recorder", "site-local", subscribe=(f"{R1}/kiosk/info",))
    bridged(gym.peer("kiosk-lp-1", "lp-1"), "lp-1", recorder)
    old = gym.secrets("kiosk-lp-1").password
    others = {u: gym.secrets(u).password for u in ("sensor-lp-1", "kiosk-lp-2", "op-ops", "recorder")}
    assert gym.render("--rotate", "kiosk-lp-1") == 0
    new = gym.secrets("kiosk-lp-1").password
    assert new != old
    assert {u: gym.secrets(u).password for u in others} == others

    gym.brokers["site"].reload()
    gym.brokers["lp-1"].reload()
    eventually(lambda: not gym.peer("kiosk-lp-1", "site", password=old, expect=False).accepted,
               what="the site broker refusing the old kiosk password")
    eventually(lambda: not gym.peer("kiosk-lp-1", "lp-1", password=old, expect=False).accepted,
               what="the kiosk broker refusing the old kiosk password")
    # Bridges are not reloaded by SIGHUP: the kiosk broker is restarted to use the new password.
    gym.brokers["lp-1"].stop()
    gym.start("lp-1")
    bridged(gym.peer("kiosk-lp-1", "lp-1", password=new), "lp-1", recorder, "with the new password")


def test_a_kiosk_broker_that_dies_is_shown_lost_at_the_site_and_back_when_it_returns(gym: Gym, capsys,
                                                                                     monkeypatch):
    for key in [k for k in os.environ if k.startswith("LEGPRESS_")]:
        monkeypatch.delenv(key)
    recorder = gym.peer("recorder", "site-local", subscribe=(f"{R1}/kiosk/bridge", f"{R1}/kiosk/status",
                                                          f"{R1}/kiosk/info"))
    kiosk = gym.peer("kiosk-lp-1", "lp-1")
    bridged(kiosk, "lp-1", recorder)
    kiosk.publish(f"{R1}/kiosk/status", KioskStatus(state="ready", mode="idle", ts=time.time(), version="test",
                                                    boot=4).model_dump_json().encode(), retain=True)
    recorder.wait_for(f"{R1}/kiosk/status", timeout=15)
    recorder.wait_for(f"{R1}/kiosk/bridge", b"1", timeout=15)
    operator = ("--site", "downtown", "--broker-secrets", str(gym.out / "secrets" / "op-ops.toml"), "--wait", "0.5")
    assert fleet("status", *operator) == 0
    assert _kiosk_cell(capsys.readouterr().out, "lp-1") == "ready"
    gym.brokers["lp-1"].kill()  # the Pi loses power: nothing it runs says goodbye
    recorder.wait_for(f"{R1}/kiosk/bridge", b"0", timeout=15)
    assert fleet("status", *operator) == 0
    # Its retained status still says ready; the site broker knows better, and so does the operator.
    assert _kiosk_cell(capsys.readouterr().out, "lp-1") == "lost"
    assert fleet("status", *operator, "--json") == 0
    assert json.loads(capsys.readouterr().out)[0]["bridge"] is False
    gym.start("lp-1")
    recorder.wait_for(f"{R1}/kiosk/bridge", b"1", timeout=20)
    assert fleet("status", *operator) == 0
    assert _kiosk_cell(capsys.readouterr().out, "lp-1") == "ready"


def _kiosk_cell(table: str, machine: str) -> str:
    row = next(line.split() for line in table.splitlines() if line.startswith(machine + " "))
    return row[1]
