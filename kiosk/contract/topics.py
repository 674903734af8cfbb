"""Build and parse every topic of the contract.

`R` = `gym/v1/{site}/{machine}`. Builders refuse bad ids so a typo can never
publish to (or subscribe on) a wildcard or a foreign tree; the parser returns
None for anything that is not a contract topic instead of raising, because it
runs on whatever the broker delivers.
"""

from dataclasses import dataclass

from kiosk.contract import CONTRACT_VERSION
from kiosk.contract.ids import check_id, is_valid_id

COMMAND_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


def _check_command_name(name: str) -> str:
    if not name or len(name) > 32 or not set(name) <= COMMAND_NAME_CHARS:
        raise ValueError(f"command name {name!r} must be 1-32 lowercase letters, digits or '_'")
    return name


def site_root(site: str) -> str:
    return f"{CONTRACT_VERSION}/{check_id(site, 'site')}"


def site_config_set(site: str) -> str:
    return f"{site_root(site)}/config/set"


def site_revocations(site: str) -> str:
    """The site's retained list of withdrawn member codes (under `config/`, which every kiosk may read)."""
    return f"{site_root(site)}/config/revocations"


def broadcast_cmd(site: str, name: str) -> str:
    return f"{site_root(site)}/broadcast/cmd/{_check_command_name(name)}"


def member_profile(site: str, member: str) -> str:
    return f"{site_root(site)}/members/{check_id(member, 'member')}/profile"


def member_profiles_filter(site: str) -> str:
    return f"{site_root(site)}/members/+/profile"


def member_erase(site: str, member: str) -> str:
    """Where the console asks the profile desk to erase a member (its login may not write profiles)."""
    return f"{site_root(site)}/members/{check_id(member, 'member')}/erase"


def member_erases_filter(site: str) -> str:
    return f"{site_root(site)}/members/+/erase"


def site_config_filter(site: str) -> str:
    """The site's config and revocation list (everything under `config/`, which every kiosk reads)."""
    return f"{site_root(site)}/config/#"


def broadcast_filter(site: str) -> str:
    return f"{site_root(site)}/broadcast/#"


# What a kiosk sends the site, under `R`: each row the kiosk itself publishes, no more. `kiosk/bridge`
# (written by the brokers' bridge notifications), `kiosk/config/set` and `kiosk/cmd/+` (the operators')
# are not in it: a kiosk's broker coming back must not send the site its stale copies of them.
KIOSK_TO_SITE_TAILS = ("kiosk/status", "kiosk/info", "kiosk/telemetry", "kiosk/event", "kiosk/sensor",
                       "kiosk/config/state", "kiosk/profile", "kiosk/res/#")


def fleet_to_site_filters(site: str) -> list[str]:
    """`KIOSK_TO_SITE_TAILS` for every machine of a site, with the site's own view of each bridge."""
    return [f"{site_root(site)}/+/{tail}" for tail in (*KIOSK_TO_SITE_TAILS, "kiosk/bridge")]


def fleet_from_operators_filters(site: str) -> list[str]:
    """What operators send every machine of a site: commands and each kiosk's own config."""
    return [f"{site_root(site)}/+/kiosk/cmd/+", f"{site_root(site)}/+/kiosk/config/set"]


def fleet_cmd(site: str, name: str) -> str:
    """Command `name` to every machine of a site, as one filter (what the recorder may send: `replay`)."""
    return f"{site_root(site)}/+/kiosk/cmd/{_check_command_name(name)}"


def fleet_filter(site: str) -> str:
    """Every machine's topics of a site (what operators watch)."""
    return f"{site_root(site)}/+/#"


@dataclass(frozen=True)
class MachineTopics:
    """All topics under `R` for one machine of one site."""

    site: str
    machine: str

    def __post_init__(self) -> None:
        check_id(self.site, "site")
        check_id(self.machine, "machine")

    @property
    def root(self) -> str:
        return f"{CONTRACT_VERSION}/{self.site}/{self.machine}"

    @property
    def sensor_depth(self) -> str:
        return f"{self.root}/sensor/depth"

    @property
    def sensor_event(self) -> str:
        return f"{self.root}/sensor/event"

    @property
    def sensor_filter(self) -> str:
        """Everything the machine's sensor node publishes (and no other login may)."""
        return f"{self.root}/sensor/#"

    @property
    def machine_filter(self) -> str:
        """Every topic of this machine (what its kiosk may read)."""
        return f"{self.root}/#"

    @property
    def sensor_status(self) -> str:
        return f"{self.root}/sensor/status"

    @property
    def kiosk_status(self) -> str:
        return f"{self.root}/kiosk/status"

    @property
    def kiosk_info(self) -> str:
        return f"{self.root}/kiosk/info"

    @property
    def kiosk_telemetry(self) -> str:
        return f"{self.root}/kiosk/telemetry"

    @property
    def kiosk_event(self) -> str:
        return f"{self.root}/kiosk/event"

    @property
    def kiosk_sensor(self) -> str:
        """The machine's sensor node's status as its kiosk last heard it (retained): sensor topics stay local."""
        return f"{self.root}/kiosk/sensor"

    @property
    def kiosk_bridge(self) -> str:
        """`1` while the kiosk's broker is bridged to the site, `0` once the site broker lost it (retained).

        Written by mosquitto itself (bridge notifications, the site broker's Will for the bridge), so it
        turns to `0` when the kiosk's broker dies with the kiosk and no status of its own can get out.
        """
        return f"{self.root}/kiosk/bridge"

    @property
    def kiosk_profile(self) -> str:
        """The member in session's save, from this kiosk to the site's profile desk (never retained).

        Kiosks only read `gym/v1/{site}/members/+/profile`: the desk (the recorder) publishes a save
        there once it has checked that this machine had a session of that member (docs/security.md).
        """
        return f"{self.root}/kiosk/profile"

    @property
    def kiosk_config_set(self) -> str:
        return f"{self.root}/kiosk/config/set"

    @property
    def kiosk_config_state(self) -> str:
        return f"{self.root}/kiosk/config/state"

    @property
    def site_config_set(self) -> str:
        return site_config_set(self.site)

    def cmd(self, name: str) -> str:
        return f"{self.root}/kiosk/cmd/{_check_command_name(name)}"

    def res(self, name: str) -> str:
        return f"{self.root}/kiosk/res/{_check_command_name(name)}"

    @property
    def cmd_filter(self) -> str:
        return f"{self.root}/kiosk/cmd/+"

    @property
    def to_site(self) -> list[str]:
        """What this kiosk sends the site (`KIOSK_TO_SITE_TAILS`), as topics and one filter for its replies."""
        return [f"{self.root}/{tail}" for tail in KIOSK_TO_SITE_TAILS]

    @property
    def broadcast_cmd_filter(self) -> str:
        return f"{site_root(self.site)}/broadcast/cmd/+"

    def profile(self, member: str) -> str:
        return member_profile(self.site, member)


@dataclass(frozen=True)
class ParsedTopic:
    """What a contract topic addresses. `kind` names the row of the topic table."""

    kind: str
    site: str
    machine: str | None = None
    name: str | None = None  # command name for cmd/res/broadcast
    member: str | None = None


_MACHINE_KINDS = {
    ("sensor", "depth"): "sensor_depth",
    ("sensor", "event"): "sensor_event",
    ("sensor", "status"): "sensor_status",
    ("kiosk", "status"): "kiosk_status",
    ("kiosk", "info"): "kiosk_info",
    ("kiosk", "telemetry"): "kiosk_telemetry",
    ("kiosk", "event"): "kiosk_event",
    ("kiosk", "bridge"): "kiosk_bridge",
    ("kiosk", "sensor"): "kiosk_sensor",
    ("kiosk", "profile"): "kiosk_profile",
    ("kiosk", "config", "set"): "kiosk_config_set",
    ("kiosk", "config", "state"): "kiosk_config_state",
}


def parse(topic: str) -> ParsedTopic | None:
    """Classify a delivered topic, or None when it is not part of the contract."""
    parts = topic.split("/")
    if len(parts) < 4 or f"{parts[0]}/{parts[1]}" != CONTRACT_VERSION or not is_valid_id(parts[2]):
        return None
    site, rest = parts[2], parts[3:]
    if rest == ["config", "set"]:
        return ParsedTopic("site_config_set", site)
    if rest == ["config", "revocations"]:
        return ParsedTopic("site_revocations", site)
    if len(rest) == 3 and rest[:2] == ["broadcast", "cmd"] and _is_command_name(rest[2]):
        return ParsedTopic("broadcast_cmd", site, name=rest[2])
    if len(rest) == 3 and rest[0] == "members" and rest[2] == "profile" and is_valid_id(rest[1]):
        return ParsedTopic("member_profile", site, member=rest[1])
    if len(rest) == 3 and rest[0] == "members" and rest[2] == "erase" and is_valid_id(rest[1]):
        return ParsedTopic("member_erase", site, member=rest[1])
    machine, tail = rest[0], tuple(rest[1:])
    if not is_valid_id(machine):
        return None
    if tail in _MACHINE_KINDS:
        return ParsedTopic(_MACHINE_KINDS[tail], site, machine)
    if len(tail) == 3 and tail[0] == "kiosk" and tail[1] in ("cmd", "res") and _is_command_name(tail[2]):
        return ParsedTopic(f"kiosk_{tail[1]}", site, machine, name=tail[2])
    return None


def _is_command_name(name: str) -> bool:
    try:
        _check_command_name(name)
    except ValueError:
        return False
    return True
