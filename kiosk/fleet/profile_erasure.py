"""Taking a member's profile off the site: an operator's erase (an empty retained message, the operator named
for the recorder's tombstone) and the console's request to the profile desk, whose login may not write profiles.

Below members.py (the CLI) and member_data.py (erase everywhere), which both build on it.
"""

import threading

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kiosk.contract.base import encode
from kiosk.contract.profile import ERASED_BY_PROPERTY, EraseRequest
from kiosk.contract.topics import member_erase, member_profile
from kiosk.fleet import CommandFailed
from kiosk.mqtt.broker_url import BrokerUrl
from kiosk.mqtt.connection import connected

# Long enough for a retained message from the site broker, even a busy one.
RETAINED_WAIT_S = 2.0


def erase_member(broker: BrokerUrl | str, site: str, member: str, timeout: float = 10.0) -> str:
    """Delete a member's retained profile (an empty retained message); returns the topic.

    `CommandFailed` when the broker holds no profile of that member: an operator
    who mistyped the id must not be told it was erased.
    """
    topic = member_profile(site, member)
    found = threading.Event()
    with connected(broker, timeout) as link:
        # The broker sends a retained message right after the subscription is acknowledged.
        link.subscribe(topic, lambda _topic, payload, _props: found.set() if payload else None, qos=1)
        if not found.wait(min(RETAINED_WAIT_S, timeout)):
            raise CommandFailed(f"no saved profile of member {member} on site {site}: nothing to erase "
                                "(check the member id)")
        # Who erased, for the recorder's tombstone (the ACL lets only operators write a profile topic).
        said = Properties(PacketTypes.PUBLISH)
        said.UserProperty = (ERASED_BY_PROPERTY, link.broker.username or "")
        if not link.publish_and_wait(topic, b"", qos=1, retain=True, timeout=timeout, properties=said):
            raise CommandFailed(f"{link.broker} did not confirm the erase of {topic} within {timeout:g} s")
    return topic


def ask_erase(broker: BrokerUrl | str, site: str, member: str, by: str, timeout: float = 10.0) -> str:
    """Ask the profile desk (the recorder) to erase a member, and wait until the profile is gone; returns the topic.

    The console's way: its login may not write profiles (docs/security.md). `CommandFailed` when the broker
    holds no profile of that member, or when the desk did not clear it within `timeout` (the recorder
    not running, or it refused: its log says why).
    """
    topic = member_profile(site, member)
    request = EraseRequest(by=by)
    found, cleared = threading.Event(), threading.Event()

    def seen(_topic: str, payload: bytes, _props: object) -> None:
        (found if payload else cleared).set()

    with connected(broker, timeout) as link:
        # The broker sends a retained message right after the subscription is acknowledged.
        link.subscribe(topic, seen, qos=1)
        if not found.wait(min(RETAINED_WAIT_S, timeout)):
            raise CommandFailed(f"no saved profile of member {member} on site {site}: nothing to erase "
                                "(check the member id)")
        if not link.publish_and_wait(member_erase(site, member), encode(request), qos=1, timeout=timeout):
            raise CommandFailed(f"{link.broker} did not confirm the erase request for {member} within {timeout:g} s")
        if not cleared.wait(timeout):
            raise CommandFailed(f"the profile desk did not erase {member} within {timeout:g} s: the recorder "
                                "erases for the console; is it running? (its log says why it refused)")
    return topic
