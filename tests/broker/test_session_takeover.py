"""Who can wipe a client's kept session on the rendered brokers (issue 20, item 11: "a clean-start connect with
a stolen login wipes the victim's kept session"), pinned as mosquitto 2.0 with the render's
`use_username_as_clientid true` on every listener behaves:

- another login, even one giving the victim's client id, cannot: its id is replaced by its own username, so
  it lands in a session of its own and the victim's queued messages wait for it;
- the victim's own login, stolen, can, whatever client id it gives: the id *is* the username, so a
  clean-start connect takes the victim's session over, knocks the victim off and throws away what was
  queued for it. mosquitto 2.0 has no option that ties a session to anything but the client id (and
  its dynamic-security plugin's client id binding only narrows which ids one login may use), so the render
  cannot close this: a stolen password is rotated (docs/security.md, "Rotating passwords and keys"). The
  victim learns of it at its next connect (no session present): the recorder then finds the lost events
  as eid gaps and asks the kiosks to replay them; a kiosk resubscribes and republishes its state at every
  connect.

The victims are the two kept sessions the fleet relies on: the recorder's on the site broker, and the
kiosk app's on its kiosk broker (its login is accepted on the sensor listener too, a known gap).
"""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.support.broker_gym import Gym, Peer, machine_root
from tests.support.helpers import eventually

MACHINE = "lp-1"
R = machine_root(MACHINE)


@dataclass(frozen=True)
class Victim:
    """A login with a kept session, where it connects, what it reads, and who may publish that to it."""

    login: str
    listener: str
    reads: str
    publisher: str
    publisher_listener: str
    thief_listener: str  # where a thief with the victim's password connects
    other_login: str
    other_listener: str


VICTIMS = {
    "recorder on the site": Victim("recorder", "site-local", f"{R}/kiosk/event", f"kiosk-{MACHINE}", "site",
                                   "site", "op-ops", "site"),
    "kiosk on its broker": Victim(f"kiosk-{MACHINE}", MACHINE, f"{R}/sensor/event", f"sensor-{MACHINE}",
                                  f"{MACHINE}-sensor", f"{MACHINE}-sensor", f"sensor-{MACHINE}",
                                  f"{MACHINE}-sensor"),
}


@pytest.fixture(scope="module")
def gym(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gym]:
    g = Gym(tmp_path_factory.mktemp("takeover"), machines=(MACHINE,))
    assert g.render() == 0
    g.start("site")
    g.start(MACHINE)
    yield g
    g.close()


def comes_back(gym: Gym, victim: Victim) -> Peer:
    """The victim reconnecting as it does, asking for its kept session, and receiving what was queued."""
    peer = gym.peer(victim.login, victim.listener, client_id=f"{victim.login}-own-id", persistent=True)
    peer.subscribe(victim.reads)
    return peer


def queue_for(gym: Gym, victim: Victim, payload: bytes) -> None:
    """While the victim is away, a message it reads (QoS 1: the broker keeps it in the victim's session).

    The publisher may be a login a bridge also uses (`kiosk-lp-1` is the kiosk broker's bridge to the site):
    one connection per login, so the two knock each other off, and on a loaded machine the bridge came back
    before the sender had published. The sender tries again until the broker has taken the message."""

    def sent() -> bool:
        sender = None
        try:
            sender = gym.peer(victim.publisher, victim.publisher_listener)
            sender.publish(victim.reads, payload)
            return True
        except (RuntimeError, AssertionError):
            return False
        finally:
            if sender is not None:
                sender.close()

    eventually(sent, what=f"{victim.publisher} publishing for {victim.login}")


@pytest.mark.parametrize("who", list(VICTIMS))
def test_only_the_victims_own_login_can_wipe_its_kept_session_whatever_client_id_anyone_gives(gym, who):
    victim = VICTIMS[who]
    comes_back(gym, victim).close()  # the session exists, with its subscription, and is kept while away

    # Another login naming the victim's id, clean start: its id becomes its own username.
    queue_for(gym, victim, b'{"n": 1}')
    other = gym.peer(victim.other_login, victim.other_listener, client_id=victim.login)
    other.close()
    back = comes_back(gym, victim)
    assert back.session_present, "the victim's session survived a clean start under its id by another login"
    back.wait_for(victim.reads, b'{"n": 1}')

    # The victim's own password, another client id, clean start: the session is the login's. A thief
    # connecting while the victim is there knocks it off ...
    thief = gym.peer(victim.login, victim.thief_listener, client_id="not-the-victims-id")
    assert back.disconnected.wait(5), "the thief's connect knocked the victim off its broker"
    thief.close()
    # ... and one connecting while it is away throws away what was queued for it.
    comes_back(gym, victim).close()
    queue_for(gym, victim, b'{"n": 2}')
    gym.peer(victim.login, victim.thief_listener, client_id="not-the-victims-id").close()
    again = comes_back(gym, victim)
    assert not again.session_present, "the victim is told at its next connect that its session is gone"
    again.sync()
    assert not again.got(victim.reads, b'{"n": 2}'), "what was queued for it while it was away is lost"
