"""`legpress-fleet kiosk revoke MACHINE`: clear what a revoked kiosk left retained on the site broker.

Taking a kiosk's login away (render without it, or `--rotate`, then reload)
stops it from publishing; what it published retained stays: its status still
says `ready`, its info, its config state, its Home Assistant device, and the
`config/set` an operator (or the stolen login, before the access rules kept
kiosks off it) retained for it, which a kiosk with that machine id would apply
at its next start. This command finds every retained message under the
machine's `R/` (and its discovery document), clears each with an empty
retained message, then reads back to show nothing is left (docs/security.md,
"Revoking a kiosk").
"""

import argparse
import threading
import time
from typing import TYPE_CHECKING

from kiosk.contract.discovery import config_topic
from kiosk.contract.ids import check_id
from kiosk.contract.topics import MachineTopics
from kiosk.fleet import CommandFailed
from kiosk.mqtt.broker_url import BrokerUrl
from kiosk.mqtt.connection import add_site_and_broker, connected
from kiosk.mqtt.link import MqttLink

if TYPE_CHECKING:
    from kiosk.fleet.parser import FleetParser

# Retained messages come right after the subscription; a quiet spell this long means they are all here.
QUIET_S = 0.5
RETAINED_WAIT_S = 3.0


def retained_topics(link: MqttLink, filters: list[str]) -> list[str]:
    """The topics holding a retained message under `filters`, as this login may read them."""
    found: set[str] = set()
    lock = threading.Lock()
    last = [time.monotonic()]

    def keep(topic: str, payload: bytes, _props: object) -> None:
        with lock:
            last[0] = time.monotonic()
            if payload:
                found.add(topic)

    for topic_filter in filters:
        link.subscribe(topic_filter, keep, qos=1)
    deadline = time.monotonic() + RETAINED_WAIT_S
    while time.monotonic() < deadline:
        with lock:
            quiet = time.monotonic() - last[0] >= QUIET_S
        if quiet:
            break
        time.sleep(0.05)
    with lock:
        return sorted(found)


def revoke_kiosk(broker: BrokerUrl | str, site: str, machine: str, timeout: float = 10.0) -> list[str]:
    """Clear every retained message of `machine`; returns the topics cleared. `CommandFailed` if any stays."""
    topics = MachineTopics(site, check_id(machine, "machine"))
    filters = [topics.machine_filter, config_topic(site, machine)]
    with connected(broker, timeout) as link:
        # The known ones too: a login that may not read one (discovery, without Home Assistant's rights)
        # may still be allowed to clear it.
        known = [topics.kiosk_status, topics.kiosk_info, topics.kiosk_sensor, topics.kiosk_config_set,
                 topics.kiosk_config_state, topics.kiosk_bridge]
        cleared = sorted({*retained_topics(link, filters), *known})
        for topic in cleared:
            if not link.publish_and_wait(topic, b"", qos=1, retain=True, timeout=timeout):
                raise CommandFailed(f"{link.broker} did not confirm clearing {topic} within {timeout:g} s")
    with connected(broker, timeout) as check:
        left = retained_topics(check, filters)
    if left:
        raise CommandFailed(f"still retained after clearing (this login may not write them): {', '.join(left)}")
    return cleared


def register(commands: "argparse._SubParsersAction[FleetParser]") -> None:
    kiosk = commands.add_parser("kiosk", help="a kiosk's place on the site")
    actions = kiosk.add_subparsers(dest="action", required=True, metavar="ACTION")
    revoke = actions.add_parser("revoke", help="clear what a revoked kiosk left retained on the site broker "
                                "(take its login away first: docs/security.md)")
    revoke.add_argument("machine", metavar="MACHINE", help="the machine id, e.g. lp3")
    add_site_and_broker(revoke)
    revoke.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the broker (default: 10)")
    revoke.set_defaults(run=_revoke)


def _revoke(args: argparse.Namespace) -> int:
    cleared = revoke_kiosk(args.broker, args.site, args.machine, args.timeout)
    print(f"cleared {len(cleared)} retained topics of {args.machine} on site {args.site}: " + ", ".join(cleared))
    return 0
