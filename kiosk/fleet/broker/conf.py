"""mosquitto.conf for the site broker and each kiosk's local broker, in Mosquitto 2.0 syntax (2.0.11 and later).

What 2.0.11 does that shapes these files:
- `per_listener_settings false` comes first, so `allow_anonymous`,
  `password_file` and `acl_file` apply to every listener (with it on, Wills
  are lost before 2.0.13);
- `use_username_as_clientid` is a listener option: it is repeated after
  every `listener` line; set before the first one it would open an extra
  default listener on 1883;
- file paths are not relative to the config file, so every path is absolute;
- a SIGHUP reloads passwords and ACLs (and disconnects clients whose
  password no longer matches) but not bridges: a bridge change needs a restart;
- a bridge's queued messages are kept in memory only before 2.0.15, so a
  broker restart loses what it had not forwarded (the kiosk's event journal
  replays those, not the broker);
- messages a bridge brings in are not checked against the local ACL: the
  local broker trusts its bridge, and the remote broker's ACL is what limits
  what the bridge may fetch and send.

Bridges speak MQTT v5 (`bridge_protocol_version mqttv50`) so that, with
`try_private false` (HiveMQ refuses the private bridge flag), mosquitto still
subscribes remotely with No Local and Retain As Published: nothing loops back,
and retained config and profiles stay retained on the far side.
"""

from dataclasses import dataclass
from pathlib import Path

from kiosk.contract.discovery import HA_STATUS_TOPIC
from kiosk.contract.topics import (
    MachineTopics,
    broadcast_filter,
    fleet_from_operators_filters,
    fleet_to_site_filters,
    member_profiles_filter,
    site_config_filter,
)
from kiosk.fleet.broker.acl import kiosk_user, upstream_user
from kiosk.fleet.inventory import Inventory, MachineEntry

# The contract caps payloads at 64 KiB; 1 KiB more leaves room for the topic and
# MQTT v5 properties. A client sending more is disconnected by the broker.
MAX_PACKET_SIZE = 65536 + 1024

# Per client, counted while it is away. A kiosk's bridge must hold a day offline:
# a busy machine emits a few thousand QoS 1 events a day (reps, cues, sets);
# telemetry is QoS 0 and is not queued.
KIOSK_MAX_QUEUED_MESSAGES = 20000
KIOSK_MAX_QUEUED_BYTES = 32 * 1024 * 1024
# The site holds commands and config for kiosks that are away, and the recorder's backlog.
SITE_MAX_QUEUED_MESSAGES = 50000
SITE_MAX_QUEUED_BYTES = 128 * 1024 * 1024
# A hard ceiling on each broker's heap: a flood (thousands of 60 KiB retained messages took brokers from
# 20 to 175 MB) is refused, its sender disconnected, before the Pi runs out of memory. Room for the queues
# above plus the retained set of a big gym (10,000 profiles of a few KiB).
KIOSK_MEMORY_LIMIT = 160 * 1024 * 1024
SITE_MEMORY_LIMIT = 512 * 1024 * 1024

# Bridges retry after 1 s, backing off (decorrelated jitter) to at most 30 s.
BRIDGE_RESTART = "1 30"
BRIDGE_KEEPALIVE_S = 30
PUBLIC_CA_PATH = "/etc/ssl/certs"


@dataclass(frozen=True)
class Layout:
    """Where a render puts each file, as the absolute paths the configs must name."""

    out: Path

    @property
    def site(self) -> Path:
        return self.out / "site"

    def kiosk(self, machine: str) -> Path:
        return self.out / "kiosks" / machine

    @property
    def certs(self) -> Path:
        return self.out / "certs"

    def secrets(self, user: str) -> Path:
        return self.out / "secrets" / f"{user}.toml"


def _common(title: str, folder: Path, run_as: str, max_queued: int, max_queued_bytes: int,
            memory_limit: int) -> list[str]:
    return [
        f"# {title}: written by `legpress-fleet broker render`; render again instead of editing.",
        f"# Start it with: mosquitto -c {folder / 'mosquitto.conf'}",
        "per_listener_settings false",
        "# Started as root, mosquitto becomes this user, who owns every 0600 file named here.",
        f"user {run_as}",
        "",
        "# Every listener: a password from password_file, access from acl_file.",
        "allow_anonymous false",
        f"password_file {folder / 'passwd'}",
        f"acl_file {folder / 'acl'}",
        "",
        "# This broker's own persistence file, so brokers of one render can run side by side.",
        "persistence true",
        f"persistence_location {folder / 'data'}/",
        "autosave_interval 60",
        "# Sessions of clients that never come back (a machine taken out) are dropped after two weeks.",
        "persistent_client_expiration 14d",
        f"max_queued_messages {max_queued}",
        f"max_queued_bytes {max_queued_bytes}",
        f"max_packet_size {MAX_PACKET_SIZE}",
        "max_keepalive 300",
        f"memory_limit {memory_limit}",
        "",
        "log_dest stderr",
        "connection_messages true",
    ]


def _listener(port: int, bind: str | None, why: str, limits: tuple[str, ...] = ()) -> list[str]:
    return [
        "",
        f"# {why}",
        f"listener {port}{f' {bind}' if bind else ''}",
        "# The client id is the username: nobody can take over another client's connection.",
        "use_username_as_clientid true",
        *limits,
    ]


# What mosquitto 2.0.11 lets a listener limit for the logins on it (its packet size, queue and in-flight
# limits are global: `_common`). A sensor node sends depth at QoS 0 and lift-offs at QoS 1; QoS 2 from it is
# refused with a disconnect (and the node's Will says `lost`). A message rate cannot be limited in 2.0: the
# kiosk sheds a flood of depth itself, lift-offs first (kiosk/core/inbox.py).
SENSOR_LISTENER_LIMITS = (
    "# A sensor node publishes at QoS 0 (depth) and 1 (lift-offs, status); nothing more is taken from it.",
    "max_qos 1",
)


def _bridge(why: str, name: str, host: str, port: int, username: str, password: str, local_id: str,
            ca_file: Path | None, topics: list[tuple[str, str]], notification_topic: str | None = None) -> list[str]:
    address = f"{host}:{port}"
    trust = [f"bridge_cafile {ca_file}"] if ca_file else [f"bridge_capath {PUBLIC_CA_PATH}"]
    return [
        "",
        f"# {why}",
        f"connection {name}",
        f"address {address}",
        "bridge_protocol_version mqttv50",
        *trust,
        "bridge_insecure false",
        "bridge_tls_version tlsv1.2",
        f"remote_username {username}",
        f"remote_password {password}",
        f"remote_clientid {username}",
        f"local_clientid {local_id}",
        "# What is published here while the link is down is queued for it, not lost (the local session",
        "# persists). mosquitto 2.0 keeps no session at the far end of an MQTT v5 bridge: what comes in",
        "# while this end is away is what is retained there (config, profiles), resent on reconnect.",
        "cleansession false",
        "try_private false",
        *(["# The far end keeps a retained 1 here while the link is up; its Will for the link turns it to 0",
            "# when this broker dies (a power cut, a pulled cable): what its retained status cannot say.",
            "notifications true", f"notification_topic {notification_topic}"]
          if notification_topic else ["notifications false"]),
        f"keepalive_interval {BRIDGE_KEEPALIVE_S}",
        f"restart_timeout {BRIDGE_RESTART}",
        "start_type automatic",
        *(f"topic {topic} {direction} 1" for topic, direction in topics),
    ]


def kiosk_bridge_topics(site: str, machine: str) -> list[tuple[str, str]]:
    """Each topic one way only, so a broker that was away can never bring back a stale retained copy.

    Out: what the kiosk itself publishes (`KIOSK_TO_SITE_TAILS`: its saves of the member in session on
    `R/kiosk/profile` among them; not `R/kiosk/bridge`, which this broker's own bridge notification writes
    `0` into locally, nor the operators' `config/set`). In: its commands and config, the site config and
    broadcast, and members' profiles (the profile desk's and operators'). Sensor topics are in neither
    list: they never leave the kiosk's broker.
    """
    topics = MachineTopics(site, machine)
    return [
        *((topic, "out") for topic in topics.to_site),
        (topics.cmd_filter, "in"),
        (topics.kiosk_config_set, "in"),
        (site_config_filter(site), "in"),
        (broadcast_filter(site), "in"),
        (member_profiles_filter(site), "in"),
        # Home Assistant's birth message down; the kiosk's device stays here: on the site the recorder
        # publishes it, built from the kiosk's info, so no kiosk can point a button at another.
        (HA_STATUS_TOPIC, "in"),
    ]


def upstream_bridge_topics(site: str) -> list[tuple[str, str]]:
    """Out: what the site's kiosks send and the desk's profiles. In: what the chain's operators send kiosks.

    Profiles go up only: the site's profile desk writes them, and a chain broker coming back with an old
    retained copy must not roll a member back. Config goes down only, for the same reason.
    """
    return [
        *((topic, "out") for topic in fleet_to_site_filters(site)),
        (member_profiles_filter(site), "out"),
        *((topic, "in") for topic in fleet_from_operators_filters(site)),
        (site_config_filter(site), "in"),
        (broadcast_filter(site), "in"),
    ]


def site_conf(inventory: Inventory, layout: Layout, run_as: str, upstream_password: str | None,
              upstream_ca: Path | None) -> str:
    """The site broker: TLS for devices and operators, an authenticated loopback listener, the upstream bridge."""
    site = inventory.site
    lines = _common(f"Site broker of site {site.id}", layout.site, run_as, SITE_MAX_QUEUED_MESSAGES,
                    SITE_MAX_QUEUED_BYTES, SITE_MEMORY_LIMIT)
    lines += _listener(site.tls_port, None, f"Devices and operators, over TLS as {site.broker_host}.")
    lines += [
        f"certfile {layout.certs / 'site.crt'}",
        f"keyfile {layout.certs / 'site.key'}",
        "tls_version tlsv1.2",
    ]
    lines += _listener(site.local_port, "127.0.0.1",
                       "Tools on this host (the recorder): loopback only, still authenticated.")
    if inventory.upstream and upstream_password:
        up = inventory.upstream
        lines += _bridge(f"Bridge to the chain's clustered broker over TLS, as {upstream_user(site.id)}.",
                         "upstream", up.host, up.port, upstream_user(site.id), upstream_password,
                         f"bridge-upstream-{site.id}", upstream_ca, upstream_bridge_topics(site.id))
    return "\n".join(lines) + "\n"


def kiosk_conf(inventory: Inventory, machine: MachineEntry, layout: Layout, run_as: str, kiosk_password: str) -> str:
    """A kiosk's local broker: the kiosk app on loopback, the sensor node on its listener, the bridge to the site."""
    site = inventory.site
    folder = layout.kiosk(machine.id)
    lines = _common(f"Kiosk broker of machine {machine.id}, site {site.id}", folder, run_as,
                    KIOSK_MAX_QUEUED_MESSAGES, KIOSK_MAX_QUEUED_BYTES, KIOSK_MEMORY_LIMIT)
    lines += ["# Live cues must not wait for Nagle's algorithm.", "set_tcp_nodelay true"]
    lines += _listener(machine.kiosk_local_port, "127.0.0.1", "The kiosk app: loopback only.")
    lines += _listener(machine.sensor_port, None,
                       "The machine's sensor node: its own login, its own sensor topics only.", SENSOR_LISTENER_LIMITS)
    lines += _bridge("Bridge to the site broker over TLS, with the kiosk's credentials. Sensor topics stay here.",
                     "site", site.broker_host, site.tls_port, kiosk_user(machine.id), kiosk_password,
                     f"bridge-site-{machine.id}", layout.certs / "ca.crt", kiosk_bridge_topics(site.id, machine.id),
                     notification_topic=MachineTopics(site.id, machine.id).kiosk_bridge)
    return "\n".join(lines) + "\n"
