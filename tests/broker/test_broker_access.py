"""Every cell of the access matrix, tried with real clients on brokers started from a render.

The contract's rules (shared/spec/mqtt-contract.md, "Access"): anonymous
clients get nothing; a sensor node publishes its own machine's sensor topics
only; a kiosk publishes its own `R/kiosk/#` (its saves on `R/kiosk/profile`
among them), reads its own `R/#`, the site config and broadcast, and reads
member profiles, never writes them; an operator does everything under gym/v1/;
the recorder reads everything and writes nothing but `replay` requests to the
site's kiosks and, as the profile desk, member profiles.

A denied publish is acknowledged and dropped, so every denial is asserted
on delivery: a reader that could see the message syncs (see
`tests/support/broker_gym.py`) and has not received it.

The site broker runs with lp-1's kiosk broker, whose bridge is logged in to
the site as `kiosk-lp-1`; on the site the tests therefore act as kiosk lp-2
(whose broker is not started) and treat lp-1 as "another machine".
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from paho.mqtt.enums import MQTTProtocolVersion

from tests.support.broker_gym import OBSERVER, Gym, machine_root

R1, R2 = machine_root("lp-1"), machine_root("lp-2")
SITE_ROOT = "gym/v1/downtown"
PROFILE = f"{SITE_ROOT}/members/m_7f3a9c/profile"

# What one machine must never be able to do to another: command it, forge its events,
# its sensor data or its status, or push its config.
OTHER_MACHINE_TOPICS = [f"{R1}/kiosk/cmd/restart", f"{R1}/kiosk/event", f"{R1}/sensor/event", f"{R1}/kiosk/status",
                        f"{R1}/kiosk/config/set"]


@pytest.fixture(scope="module")
def gym(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gym]:
    # An operator login marked for Home Assistant beside the ordinary one.
    g = Gym(tmp_path_factory.mktemp("access"), upstream='[[operators]]\nname = "ha"\nhome_assistant = true\n')
    assert g.render() == 0
    g.add_observer("lp-1")
    g.start("site")
    g.start("lp-1")
    yield g
    g.close()


@pytest.fixture
def recorder(gym: Gym) -> Iterator:
    """The recorder on the site's loopback listener, subscribed to everything."""
    r = gym.peer("recorder", "site-local", subscribe=("#",))
    yield r
    r.close()


@pytest.mark.parametrize("protocol", [MQTTProtocolVersion.MQTTv5, MQTTProtocolVersion.MQTTv311])
@pytest.mark.parametrize("listener", ["site", "site-local", "lp-1", "lp-1-sensor"])
def test_anonymous_clients_are_refused_on_every_listener(gym: Gym, listener: str, protocol: MQTTProtocolVersion):
    peer = gym.peer(None, listener, protocol=protocol, expect=False)
    assert not peer.accepted, f"an anonymous client was let in on {listener}"


@pytest.mark.parametrize("user,listener", [("op-ops", "site"), ("recorder", "site-local"), ("kiosk-lp-1", "lp-1"),
                                           ("sensor-lp-1", "lp-1-sensor")])
def test_a_wrong_password_is_refused(gym: Gym, user: str, listener: str):
    assert gym.peer(user, listener, expect=True).accepted
    wrong = gym.peer(user, listener, password=gym.secrets(user).password[:-1] + "?", expect=False)
    assert not wrong.accepted


@pytest.mark.parametrize("user,listener", [("sensor-lp-1", "site"), ("kiosk-lp-2", "lp-1"), ("op-ops", "lp-1"),
                                           ("recorder", "lp-1-sensor"), ("sensor-lp-2", "lp-1-sensor"),
                                           ("nobody", "site")])
def test_a_login_is_refused_on_brokers_it_does_not_belong_to(gym: Gym, user: str, listener: str):
    password = "x" * 32 if user == "nobody" else gym.secrets(user).password
    assert not gym.peer(user, listener, password=password, expect=False).accepted


def test_a_kiosk_cannot_publish_to_another_machines_topics_or_as_the_operators(gym: Gym, recorder):
    kiosk = gym.peer("kiosk-lp-2", "site")
    # Nor its own commands or config: a stolen login would retain a config its kiosk applies at every start.
    forged = [*OTHER_MACHINE_TOPICS, f"{R2}/sensor/event", f"{R2}/sensor/depth", f"{SITE_ROOT}/config/set",
              f"{R2}/kiosk/config/set", f"{R2}/kiosk/cmd/restart",
              f"{SITE_ROOT}/broadcast/cmd/restart", f"{SITE_ROOT}/lp-3/kiosk/status", "gym/v2/downtown/x", "other"]
    for topic in forged:
        kiosk.publish(topic, b"forged")
    kiosk.publish(f"{R2}/kiosk/event", b"genuine")
    recorder.wait_for(f"{R2}/kiosk/event", b"genuine")
    recorder.sync()
    assert [m.topic for m in recorder.received.items if m.payload == b"forged"] == []


def test_a_kiosk_publishes_its_own_topics_and_its_saves_for_the_profile_desk(gym: Gym, recorder):
    kiosk = gym.peer("kiosk-lp-2", "site")
    mine = [f"{R2}/kiosk/status", f"{R2}/kiosk/event", f"{R2}/kiosk/res/restart", f"{R2}/kiosk/config/state",
            f"{R2}/kiosk/profile"]
    for topic in mine:
        kiosk.publish(topic, b"mine")
    for topic in mine:
        recorder.wait_for(topic, b"mine")


def test_a_kiosk_cannot_read_another_machines_topics(gym: Gym):
    ops = gym.peer("op-ops", "site")
    ops.publish(f"{R1}/kiosk/status", b"lp-1 retained", retain=True)
    try:
        kiosk = gym.peer("kiosk-lp-2", "site", subscribe=("#", f"{R1}/#", f"{SITE_ROOT}/+/kiosk/cmd/+"))
        for topic in OTHER_MACHINE_TOPICS:
            ops.publish(topic, b"for lp-1")
        ops.publish(f"{R2}/kiosk/cmd/restart", b"for lp-2")
        kiosk.wait_for(f"{R2}/kiosk/cmd/restart", b"for lp-2")
        kiosk.sync()
        assert [t for t in kiosk.topics() if t.startswith(R1)] == []
    finally:
        ops.publish(f"{R1}/kiosk/status", b"", retain=True)


def test_a_kiosk_reads_its_commands_site_config_broadcasts_and_profiles(gym: Gym):
    kiosk = gym.peer("kiosk-lp-2", "site", subscribe=("#",))
    ops = gym.peer("op-ops", "site")
    wanted = [f"{R2}/kiosk/cmd/diagnostics", f"{R2}/kiosk/config/set", f"{SITE_ROOT}/config/set",
              f"{SITE_ROOT}/broadcast/cmd/message", PROFILE]
    for topic in wanted:
        ops.publish(topic, b"to lp-2")
    for topic in wanted:
        kiosk.wait_for(topic, b"to lp-2")


def test_a_sensor_node_publishes_its_own_sensor_topics_and_nothing_else(gym: Gym):
    observer = gym.peer(OBSERVER, "lp-1", subscribe=("#",))
    sensor = gym.peer("sensor-lp-1", "lp-1-sensor")
    forged = [f"{R1}/kiosk/cmd/restart", f"{R1}/kiosk/status", f"{R1}/kiosk/event", f"{R1}/kiosk/config/set",
              f"{R2}/sensor/event", f"{R2}/sensor/depth", f"{SITE_ROOT}/config/set",
              f"{SITE_ROOT}/broadcast/cmd/restart", PROFILE, "other"]
    for topic in forged:
        sensor.publish(topic, b"forged")
    sensor.publish(f"{R1}/sensor/depth", b"genuine depth", qos=0)
    sensor.publish(f"{R1}/sensor/event", b"genuine event")
    observer.wait_for(f"{R1}/sensor/depth", b"genuine depth")
    observer.wait_for(f"{R1}/sensor/event", b"genuine event")
    observer.sync()
    assert [m.topic for m in observer.received.items if m.payload == b"forged"] == []


@pytest.fixture
def alice(gym: Gym) -> Iterator[bytes]:
    """A member's profile as the profile desk publishes it on the site, bridged down to lp-1's broker."""
    desk = gym.peer("recorder", "site-local")
    body = b'{"member": "m_7f3a9c", "rev": 3}'
    desk.publish(PROFILE, body, retain=True)
    gym.peer(OBSERVER, "lp-1", subscribe=(PROFILE,)).wait_for(PROFILE, body)
    yield body
    gym.peer("op-ops", "site").publish(PROFILE, b"", retain=True)


def test_a_stolen_kiosk_login_can_neither_erase_nor_rewrite_a_member(gym: Gym, alice: bytes):
    on_site = gym.peer("kiosk-lp-2", "site")
    on_its_broker = gym.peer("kiosk-lp-1", "lp-1")
    for thief in (on_site, on_its_broker):
        thief.publish(PROFILE, b"", retain=True)
        thief.publish(PROFILE, b'{"member": "m_7f3a9c", "rev": 100000, "machines": {}}', retain=True)
    later_on_site = gym.peer("op-ops", "site", subscribe=(PROFILE,))
    later_on_lp1 = gym.peer(OBSERVER, "lp-1", subscribe=(PROFILE,))
    assert later_on_site.wait_for(PROFILE).payload == alice
    assert later_on_lp1.wait_for(PROFILE).payload == alice
    later_on_site.sync()
    later_on_lp1.sync()
    assert [m.payload for m in [*later_on_site.received.items, *later_on_lp1.received.items]] == [alice, alice]


def test_a_sensor_node_cannot_erase_a_member_profile(gym: Gym, alice: bytes):
    sensor = gym.peer("sensor-lp-1", "lp-1-sensor")
    sensor.publish(PROFILE, b"", retain=True)
    later = gym.peer(OBSERVER, "lp-1", subscribe=(PROFILE,))
    assert later.wait_for(PROFILE).payload == alice


def test_a_sensor_node_reads_nothing(gym: Gym):
    sensor = gym.peer("sensor-lp-1", "lp-1-sensor", subscribe=("#", f"{R1}/#"))
    kiosk = gym.peer("kiosk-lp-1", "lp-1")
    kiosk.publish(f"{R1}/kiosk/status", b"ready")
    kiosk.publish(PROFILE, b"{}")
    sensor.publish(f"{R1}/sensor/event", b"its own")
    sensor.sync()
    assert sensor.received.items == []


def test_a_kiosk_cannot_impersonate_its_own_sensor_node(gym: Gym):
    kiosk = gym.peer("kiosk-lp-1", "lp-1", subscribe=(f"{R1}/#",))
    for topic in (f"{R1}/sensor/event", f"{R1}/sensor/depth", f"{R1}/sensor/status"):
        kiosk.publish(topic, b"forged")
    kiosk.publish(f"{R1}/kiosk/event", b"genuine")
    kiosk.wait_for(f"{R1}/kiosk/event", b"genuine")
    kiosk.sync()
    assert [m.topic for m in kiosk.received.items if m.payload == b"forged"] == []


def test_a_kiosk_reads_its_sensor_node_on_its_own_broker(gym: Gym):
    kiosk = gym.peer("kiosk-lp-1", "lp-1", subscribe=(f"{R1}/sensor/#",))
    gym.peer("sensor-lp-1", "lp-1-sensor").publish(f"{R1}/sensor/event", b"liftoff")
    kiosk.wait_for(f"{R1}/sensor/event", b"liftoff")


@pytest.mark.parametrize("victim,victim_listener,attackers", [
    ("kiosk-lp-1", "lp-1", [("sensor-lp-1", "lp-1-sensor"), (OBSERVER, "lp-1")]),
    ("op-ops", "site", [("recorder", "site-local"), ("kiosk-lp-2", "site")]),
])
def test_no_client_can_take_over_another_clients_connection(gym: Gym, victim: str, victim_listener: str,
                                                            attackers: list[tuple[str, str]]):
    # The ids a real client of that login uses, and the login itself.
    ids = ["kiosk-downtown-lp-1", victim] if victim.startswith("kiosk") else ["legpress-fleet-1", victim]
    target = gym.peer(victim, victim_listener, client_id=ids[0])
    for user, listener in attackers:
        for client_id in ids:
            gym.peer(user, listener, client_id=client_id)
    # Any takeover happens before the attacker's CONNACK; a dropped victim cannot complete a round trip.
    target.sync()
    assert not target.disconnected.is_set()


def test_a_second_connection_with_the_same_login_replaces_the_first(gym: Gym):
    # The flip side of tying client ids to usernames: one live connection per login.
    first = gym.peer("op-ops", "site")
    gym.peer("op-ops", "site", client_id="another-id")
    assert first.disconnected.wait(5)


def test_an_operator_can_do_everything_under_gym_v1(gym: Gym, recorder):
    ops = gym.peer("op-ops", "site", subscribe=("gym/v1/#",))
    topics = [f"{R1}/kiosk/cmd/restart", f"{R2}/kiosk/config/set", f"{R1}/sensor/event", f"{R2}/kiosk/status",
              f"{SITE_ROOT}/config/set", f"{SITE_ROOT}/broadcast/cmd/end_session", PROFILE, "gym/v1/othergym/lp-9/x"]
    for topic in topics:
        ops.publish(topic, b"ops")
    for topic in topics:
        ops.wait_for(topic, b"ops")
        recorder.wait_for(topic, b"ops")


def test_an_operator_cannot_write_outside_gym_v1_nor_read_the_broker_internals(gym: Gym, recorder):
    ops = gym.peer("op-ops", "site", subscribe=("$SYS/#",))
    ops.publish("gym/v2/downtown/x", b"outside")
    ops.publish("homeassistant/status", b"outside")
    ops.publish(f"{R1}/kiosk/event", b"inside")
    recorder.wait_for(f"{R1}/kiosk/event", b"inside")
    recorder.sync()
    ops.sync()
    assert not any(m.payload == b"outside" for m in recorder.received.items)
    assert ops.received.items == []


def test_the_recorder_reads_everything_and_writes_nothing_but_replay_requests_and_profiles(gym: Gym, recorder):
    ops = gym.peer("op-ops", "site", subscribe=("gym/v1/#",))
    ops.publish(f"{R1}/kiosk/cmd/rebirth", b"from ops")
    recorder.wait_for(f"{R1}/kiosk/cmd/rebirth", b"from ops")
    forbidden = [f"{R1}/kiosk/cmd/restart", f"{R1}/kiosk/cmd/replay/x", f"{R1}/kiosk/res/replay",
                 f"{SITE_ROOT}/broadcast/cmd/replay", f"{SITE_ROOT}/config/set", f"{R2}/kiosk/event",
                 f"{R2}/kiosk/profile", "gym/v1/othergym/lp-1/kiosk/cmd/replay", "gym/v1/othergym/members/m/profile",
                 "other"]
    for topic in forbidden:
        recorder.publish(topic, b"from recorder")
    # As the profile desk it publishes members' profiles (after checking a kiosk's save).
    recorder.publish(PROFILE, b'{"member": "m_7f3a9c", "rev": 5}', retain=True)
    ops.wait_for(PROFILE, b'{"member": "m_7f3a9c", "rev": 5}')
    ops.sync()
    assert not any(m.payload == b"from recorder" for m in ops.received.items)
    ops.publish(PROFILE, b"", retain=True)


def test_the_recorders_replay_request_reaches_the_kiosk(gym: Gym, recorder):
    kiosk = gym.peer("kiosk-lp-2", "site", subscribe=(f"{R2}/kiosk/cmd/+",))
    recorder.publish(f"{R2}/kiosk/cmd/replay", b"from recorder")
    assert kiosk.wait_for(f"{R2}/kiosk/cmd/replay").payload == b"from recorder"


def test_the_recorder_does_not_read_the_broker_internals(gym: Gym):
    recorder = gym.peer("recorder", "site-local", subscribe=("$SYS/#",))
    recorder.sync()
    assert recorder.received.items == []


def test_every_file_of_the_render_is_private_to_its_owner(gym: Gym):
    for path in [gym.out, *gym.out.rglob("*")]:
        if path.name == "mosquitto.log" or path.suffix == ".db":
            continue
        mode = path.stat().st_mode & 0o777
        assert mode & 0o077 == 0, f"{Path(path).relative_to(gym.out)} is {oct(mode)}"


def test_a_message_over_the_contracts_64_kib_disconnects_its_sender_and_goes_nowhere(gym: Gym, recorder):
    topic = f"{R2}/kiosk/config/set"
    sender = gym.peer("op-ops", "site")
    sender.send(topic, b"x" * (70 * 1024))
    assert sender.disconnected.wait(5)
    gym.peer("op-ops", "site").publish(topic, b"y" * 65536)
    assert len(recorder.wait_for(topic).payload) == 65536



def test_on_its_own_broker_a_kiosk_cannot_publish_another_machines_topics_either(gym: Gym):
    observer = gym.peer(OBSERVER, "lp-1", subscribe=("#",))
    kiosk = gym.peer("kiosk-lp-1", "lp-1")
    for topic in (f"{R2}/kiosk/cmd/restart", f"{R2}/kiosk/event", f"{R2}/sensor/event", f"{R2}/kiosk/status",
                  f"{SITE_ROOT}/config/set", f"{SITE_ROOT}/broadcast/cmd/restart"):
        kiosk.publish(topic, b"forged")
    kiosk.publish(f"{R1}/kiosk/event", b"genuine")
    observer.wait_for(f"{R1}/kiosk/event", b"genuine")
    observer.sync()
    assert [m.topic for m in observer.received.items if m.payload == b"forged"] == []


def test_on_the_site_only_the_recorder_publishes_home_assistant_devices(gym: Gym, recorder):
    from kiosk.contract.discovery import config_topic

    kiosk = gym.peer("kiosk-lp-2", "site")
    kiosk.publish(config_topic("downtown", "lp-1"), b"forged")
    kiosk.publish(config_topic("downtown", "lp-2"), b"forged")  # its own too: a button could point anywhere
    kiosk.publish("homeassistant/status", b"forged")
    recorder.publish(config_topic("downtown", "lp-2"), b"built by the recorder")
    recorder.wait_for(config_topic("downtown", "lp-2"), b"built by the recorder")
    recorder.sync()
    assert [m.topic for m in recorder.received.items if m.payload == b"forged"] == []
    recorder.publish(config_topic("downtown", "lp-2"), b"", retain=True)


def test_a_kiosk_app_keeps_its_own_home_assistant_device_on_its_own_broker(gym: Gym):
    from kiosk.contract.discovery import config_topic

    observer = gym.peer(OBSERVER, "lp-1", subscribe=("homeassistant/#",))
    kiosk = gym.peer("kiosk-lp-1", "lp-1")
    kiosk.publish(config_topic("downtown", "lp-2"), b"forged")
    kiosk.publish(config_topic("downtown", "lp-1"), b"mine")
    observer.wait_for(config_topic("downtown", "lp-1"), b"mine")
    observer.sync()
    assert not observer.got(config_topic("downtown", "lp-2"))


def test_home_assistants_login_reads_status_and_telemetry_and_presses_only_its_buttons(gym: Gym, recorder):
    ha = gym.peer("op-ha", "site", subscribe=("#",))
    kiosk = gym.peer("kiosk-lp-2", "site")
    kiosk.publish(f"{R2}/kiosk/status", b"status for ha")
    kiosk.publish(f"{R2}/kiosk/telemetry", b"telemetry for ha")
    kiosk.publish(f"{R2}/kiosk/event", b"not for ha")
    kiosk.publish(f"{R2}/kiosk/res/diagnostics", b"not for ha")
    ha.wait_for(f"{R2}/kiosk/status", b"status for ha")
    ha.wait_for(f"{R2}/kiosk/telemetry", b"telemetry for ha")
    pushed = [f"{SITE_ROOT}/config/set", f"{R2}/kiosk/config/set", f"{SITE_ROOT}/config/revocations", PROFILE,
              f"{R2}/kiosk/cmd/restart", f"{R2}/kiosk/cmd/diagnostics", f"{SITE_ROOT}/broadcast/cmd/restart"]
    for topic in pushed:
        ha.publish(topic, b"from ha")
    ha.publish(f"{R2}/kiosk/cmd/out_of_order", b"button")
    ha.publish(f"{R1}/kiosk/cmd/in_service", b"button")
    recorder.wait_for(f"{R2}/kiosk/cmd/out_of_order", b"button")
    recorder.wait_for(f"{R1}/kiosk/cmd/in_service", b"button")
    recorder.sync()
    ha.sync()
    assert [m.topic for m in recorder.received.items if m.payload == b"from ha"] == []
    assert not any(m.payload == b"not for ha" for m in ha.received.items)
