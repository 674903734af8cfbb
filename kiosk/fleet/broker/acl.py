"""ACL files: the contract's access rules (shared/spec/mqtt-contract.md, "Access") as mosquitto `acl_file` text.

How mosquitto 2.0 reads them, which the rules below rely on:
- a `user NAME` line starts that user's block; `topic` lines before any
  `user` line would apply to anonymous clients, so there are none (and
  `allow_anonymous false` refuses them at connect anyway);
- `read` governs what a client receives, checked per message at delivery;
  subscribing itself is not checked, so a kiosk may subscribe to `#` and
  still only receive its own machine's topics;
- `write` governs publishing; a denied publish is acknowledged (PUBACK) and
  dropped, never delivered;
- `#` in an ACL never matches `$SYS/...`: nobody here reads broker internals;
- `pattern` lines substitute the whole username (`%u`) or client id (`%c`).
  The contract's topics carry the machine id (`lp-1`) while the users are
  `kiosk-lp-1` and `sensor-lp-1`, so no topic here can be written as a
  pattern: each machine gets its own `user` block instead.
"""

from dataclasses import dataclass

from kiosk.contract import CONTRACT_VERSION
from kiosk.contract.discovery import HA_STATUS_TOPIC, config_topic
from kiosk.contract.discovery import PREFIX as HA_PREFIX
from kiosk.contract.topics import (
    MachineTopics,
    broadcast_filter,
    fleet_cmd,
    member_profiles_filter,
    site_config_filter,
    site_root,
)
from kiosk.fleet.inventory import Inventory, MachineEntry


@dataclass(frozen=True)
class Grant:
    """One ACL line: `topic <access> <topic>`."""

    access: str  # "read", "write" or "readwrite"
    topic: str


def kiosk_user(machine: str) -> str:
    return f"kiosk-{machine}"


def sensor_user(machine: str) -> str:
    return f"sensor-{machine}"


def operator_user(name: str) -> str:
    return f"op-{name}"


RECORDER_USER = "recorder"
CONSOLE_USER = "console"
# What the front-desk console reads of each machine (`kiosk.console.floor.SOURCES`, and the command replies).
CONSOLE_READS = ("kiosk/status", "kiosk/bridge", "kiosk/event", "kiosk/sensor", "sensor/status",
                 "kiosk/cmd/out_of_order", "kiosk/res/+", "kiosk/info", "kiosk/config/state")
# The commands its pages send (`kiosk.console.machines.ACTIONS`, and `assist` from the alerts).
CONSOLE_COMMANDS = ("out_of_order", "in_service", "message", "end_session", "diagnostics", "restart", "assist")


def upstream_user(site: str) -> str:
    """The site broker's own login on a chain's clustered broker."""
    return f"site-{site}"


def kiosk_grants(site: str, machine: str) -> list[Grant]:
    """A kiosk: publish what it sends the site under its own `R/kiosk/`; read its own `R/#`, site config,
    broadcast and profiles.

    Profiles are read only: a kiosk's save goes on its own `R/kiosk/profile` to the profile desk
    (the recorder), which checks it against the kiosk's sessions. A stolen kiosk login can neither
    erase a member nor rewrite one it never had at its machine.
    """
    topics = MachineTopics(site, machine)
    return [
        # Only what a kiosk itself publishes: never its own commands or `config/set` (a stolen login would
        # retain a config its kiosk applies at every start), nor `kiosk/bridge` (its broker's to write).
        *(Grant("write", topic) for topic in topics.to_site),
        Grant("read", topics.machine_filter),
        Grant("read", site_config_filter(site)),
        Grant("read", broadcast_filter(site)),
        Grant("read", member_profiles_filter(site)),
        Grant("read", HA_STATUS_TOPIC),
    ]


def kiosk_broker_grants(site: str, machine: str) -> list[Grant]:
    """The kiosk app on its own broker: `kiosk_grants`, and its Home Assistant device, which stays there.

    On the site only the recorder writes discovery (kiosk/fleet/recorder/discovery.py): a document a kiosk
    wrote could point Home Assistant's buttons at another kiosk.
    """
    return [*kiosk_grants(site, machine), Grant("readwrite", config_topic(site, machine))]


def sensor_grants(site: str, machine: str) -> list[Grant]:
    """A sensor node: publish its own machine's `R/sensor/#`, nothing else, read nothing."""
    return [Grant("write", MachineTopics(site, machine).sensor_filter)]


def operator_grants() -> list[Grant]:
    """An operator: everything under gym/v1/."""
    return [Grant("readwrite", f"{CONTRACT_VERSION}/#")]


# The commands Home Assistant's buttons send (kiosk/contract/discovery.py), and nothing else.
HOME_ASSISTANT_COMMANDS = ("in_service", "out_of_order")


def home_assistant_grants(site: str) -> list[Grant]:
    """Home Assistant: what discovery needs and no more.

    It reads the kiosks' status and bridge notification (availability, mode), telemetry (its sensors)
    and its own discovery tree, and sends its buttons' two commands. It cannot push config, revoke codes,
    erase members, read events or diagnostics, or send any other command: a stolen Home Assistant login, or a forged
    discovery document pointing a button elsewhere, can at worst take a kiosk out of order or back.
    """
    return [
        Grant("read", f"{site_root(site)}/+/kiosk/status"),
        Grant("read", f"{site_root(site)}/+/kiosk/telemetry"),
        # A bridged kiosk's device lists the bridge notification as availability too (discovery.py): without
        # it Home Assistant would show every kiosk of the site unavailable.
        Grant("read", f"{site_root(site)}/+/kiosk/bridge"),
        *(Grant("write", fleet_cmd(site, name)) for name in HOME_ASSISTANT_COMMANDS),
        Grant("readwrite", f"{HA_PREFIX}/#"),
    ]


def recorder_grants(site: str, machines: list[str]) -> list[Grant]:
    """The recorder: read every topic (not `$SYS`); write `replay` requests to the site's kiosks, members'
    profiles (it is the profile desk) and each kiosk's Home Assistant device (built from the kiosk's info).

    `replay` asks a kiosk to publish events again that it already published: the
    one command whose worst misuse is a repeated copy, which the record keeps once.
    """
    return [Grant("read", "#"), Grant("write", fleet_cmd(site, "replay")),
            Grant("write", member_profiles_filter(site)),
            *(Grant("write", config_topic(site, machine)) for machine in machines)]


def console_grants(site: str) -> list[Grant]:
    """The console: read the floor (statuses, events, replies, member names, config states); send only its
    commands; a trainer's revoke and erase (the revocation list, an erase request to the profile desk); an operator's
    config push (the site's and each machine's `config/set`, read back to merge into, as `config push` does)."""
    root = f"{CONTRACT_VERSION}/{site}"
    return [*(Grant("read", f"{root}/+/{tail}") for tail in CONSOLE_READS),
            # Profiles read only: its erase is a request the profile desk carries out (an ACL grants a topic,
            # not a payload, so the write an erasure needs would let this login retain any profile).
            Grant("read", f"{root}/members/+/profile"),
            Grant("write", f"{root}/members/+/erase"),
            Grant("readwrite", f"{root}/config/revocations"),
            Grant("readwrite", f"{root}/config/set"),
            Grant("readwrite", f"{root}/+/kiosk/config/set"),
            *(Grant("write", f"{root}/+/kiosk/cmd/{name}") for name in CONSOLE_COMMANDS)]


def _block(user: str, why: str, grants: list[Grant]) -> str:
    lines = [f"# {why}", f"user {user}", *(f"topic {g.access} {g.topic}" for g in grants)]
    return "\n".join(lines) + "\n"


def _header(what: str) -> str:
    return (f"# {what}: written by `legpress-fleet broker render`; render again instead of editing.\n"
            "# No line before the first `user` block: anonymous clients get nothing.\n\n")


def site_acl(inventory: Inventory) -> str:
    """The site broker's ACL: every kiosk's bridge, the operators and the recorder."""
    site = inventory.site.id
    # The bridge logs in as the kiosk and writes its notification (`1`, and `0` as its Will) straight into
    # the site broker: the one topic the kiosk's broker writes there that the kiosk app itself does not.
    blocks = [_block(kiosk_user(m.id), f"kiosk {m.id} (its bridge): its own topics, site config, broadcast, profiles",
                     [*kiosk_grants(site, m.id), Grant("write", MachineTopics(site, m.id).kiosk_bridge)])
              for m in inventory.machines]
    blocks += [_block(operator_user(o.name), f"Home Assistant {o.name}: kiosk status and telemetry, its buttons' "
                      "commands, homeassistant/", home_assistant_grants(site)) if o.home_assistant else
               _block(operator_user(o.name), f"operator {o.name}: everything under {CONTRACT_VERSION}/",
                      operator_grants()) for o in inventory.operators]
    blocks.append(_block(RECORDER_USER, "the recorder: reads everything, writes replay requests to kiosks and, as the "
                         "profile desk, profiles",
                         recorder_grants(site, [m.id for m in inventory.machines])))
    blocks.append(_block(CONSOLE_USER, "the front-desk console: reads the floor, sends only its commands",
                         console_grants(site)))
    return _header(f"Site broker ACL for site {site}") + "\n".join(blocks)


def kiosk_acl(inventory: Inventory, machine: MachineEntry) -> str:
    """A kiosk's local broker ACL: the kiosk app and the machine's sensor node."""
    site = inventory.site.id
    blocks = [
        _block(kiosk_user(machine.id), "the kiosk app: its own topics (sensors included, read only), site config, "
               "broadcast, profiles, its Home Assistant device", kiosk_broker_grants(site, machine.id)),
        _block(sensor_user(machine.id), "the sensor node: its own sensor topics, publish only",
               sensor_grants(site, machine.id)),
    ]
    return _header(f"Kiosk broker ACL for machine {machine.id} of site {site}") + "\n".join(blocks)
