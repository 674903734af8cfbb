"""The console's broker login (`console` in the site ACL) on the rendered site's TLS listener, tried with a
real client as a thief with its password would: it reaches what its pages send (its commands, a trainer's
revoke and erase, an operator's config push) and nothing else a kiosk, the profile desk or the recorder
trusts. Each refused publish is shown undelivered to a login that reads every topic (`Peer.sync`).

tests/console/test_console_rendered_site.py checks the same login on the loopback listener with the
console itself; the ACL is one for every listener (`per_listener_settings false`).
"""

from collections.abc import Iterator

import pytest

from kiosk.contract.base import encode
from kiosk.contract.profile import MemberProfile
from kiosk.contract.topics import (
    MachineTopics,
    member_erase,
    member_profile,
    member_profiles_filter,
    site_config_set,
    site_revocations,
)
from kiosk.fleet.broker.acl import CONSOLE_COMMANDS
from tests.support.broker_gym import SITE, Gym

MACHINE = "lp-1"
LP1 = MachineTopics(SITE, MACHINE)


@pytest.fixture(scope="module")
def gym(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gym]:
    g = Gym(tmp_path_factory.mktemp("console-login"), machines=(MACHINE,))
    assert g.render() == 0
    g.start("site")
    yield g
    g.close()


# What a kiosk, the desk or the recorder believes and the console's pages never send.
NOT_ITS_TO_WRITE = [
    LP1.cmd("replay"), LP1.cmd("rebirth"),  # commands its pages do not send
    f"gym/v1/{SITE}/broadcast/cmd/restart", f"gym/v1/{SITE}/broadcast/cmd/message",
    LP1.kiosk_status, LP1.kiosk_info, LP1.kiosk_telemetry, LP1.kiosk_event, LP1.kiosk_sensor, LP1.kiosk_bridge,
    LP1.kiosk_config_state,
    LP1.kiosk_profile,  # a save the profile desk would take as the kiosk's
    LP1.sensor_event, LP1.sensor_depth,
    f"gym/v1/{SITE}/config/other", "gym/v1/elsewhere/config/set", "gym/v1/elsewhere/members/m_alice/profile",
    f"homeassistant/device/legpress_{SITE}_{MACHINE}/config",
    f"{member_profile(SITE, 'm_alice')}/extra",
]


def test_the_console_login_over_tls_sends_what_its_pages_send(gym):
    console = gym.peer("console", "site")
    watcher = gym.peer("op-ops", "site", subscribe=("gym/v1/#", "homeassistant/#"))
    page_sends = [LP1.cmd(name) for name in CONSOLE_COMMANDS] + [
        site_config_set(SITE), LP1.kiosk_config_set, site_revocations(SITE)]
    for topic in page_sends:
        console.publish(topic, b'{"transaction": "t"}')
    console.publish(member_erase(SITE, "m_sam"), b'{"by": "trainer1"}')  # a trainer's erase, asked of the desk
    watcher.sync()
    for topic in page_sends:
        assert watcher.got(topic, b'{"transaction": "t"}'), topic
    assert watcher.got(member_erase(SITE, "m_sam"), b'{"by": "trainer1"}')


def test_the_console_login_over_tls_reaches_nothing_else_a_kiosk_or_the_desk_trusts(gym):
    console = gym.peer("console", "site")
    # The recorder reads every topic but `$SYS` (Home Assistant's included), so nothing delivered is unseen.
    watcher = gym.peer("recorder", "site-local", subscribe=("#",))
    for topic in NOT_ITS_TO_WRITE:
        console.publish(topic, b'{"transaction": "t"}')
        console.publish(topic, b'{"transaction": "t"}', retain=True)
    watcher.sync()
    delivered = [t for t in watcher.topics() if t in NOT_ITS_TO_WRITE]
    assert delivered == [], delivered
    # The same topics from an operator do arrive: the watcher would have seen the console's.
    operator = gym.peer("op-ops", "site")
    for topic in [t for t in NOT_ITS_TO_WRITE if t.startswith(f"gym/v1/{SITE}/")]:
        operator.publish(topic, b"from an operator")
        watcher.wait_for(topic, b"from an operator")


def test_the_console_login_can_neither_write_nor_erase_a_profile_itself(gym):
    """mosquitto's ACL grants a topic, not a payload: the write an erasure (an empty retained profile) needs
    would let the login retain any profile. So it has none: it asks the profile desk (`members/<m>/erase`),
    which erases and names the staff member in the tombstone (tests/fleet/recorder/test_profile_desk.py)."""
    console = gym.peer("console", "site")
    operator = gym.peer("op-ops", "site")
    sam = MemberProfile.model_validate({"member": "m_sam", "name": "Sam", "rev": 3, "updated": 1.0})
    operator.publish(member_profile(SITE, "m_sam"), encode(sam), retain=True)
    watcher = gym.peer("recorder", "site-local", subscribe=(member_profiles_filter(SITE),))
    watcher.wait_for(member_profile(SITE, "m_sam"), encode(sam))  # the retained copy, at subscribe
    forged = MemberProfile.model_validate({"member": "m_alice", "name": "Alice", "rev": 100_000,
                                           "updated": 1.0, "machines": {}})
    console.publish(member_profile(SITE, "m_alice"), encode(forged), retain=True)
    console.publish(member_profile(SITE, "m_sam"), b"", retain=True)
    watcher.sync()
    assert [m.topic for m in watcher.received.items] == [member_profile(SITE, "m_sam")], "only the retained copy"
    watcher.close()
    late = gym.peer("recorder", "site-local", subscribe=(member_profiles_filter(SITE),))
    late.wait_for(member_profile(SITE, "m_sam"), encode(sam))
    late.sync()
    assert not late.got(member_profile(SITE, "m_alice")), "nothing retained for Alice"
    operator.publish(member_profile(SITE, "m_sam"), b"", retain=True)  # not left retained for other tests
