"""The site inventory: one TOML file describing a gym, from which every broker's configuration is rendered.

Layout and field names are a public interface (shared/spec/product.md, "The
site inventory"). Everything in here ends up in broker configs, ACLs and
certificates, so every value is validated as hostile: ids match the
contract's pattern (no spaces, `/`, `+`, `#` or newlines can reach a config
line), hosts are DNS names or IP addresses, ports are 1-65535 and no two
listeners of one host share a port. A bad inventory is one line naming the
field, e.g. `machines[1].id: duplicate machine 'lp-1' (also machines[0])`.
"""

import ipaddress
import re
import tomllib
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from kiosk.contract.ids import Id

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME_RE = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")


def _check_host(value: str) -> str:
    try:
        ipaddress.ip_address(value)
        return value
    except ValueError:
        pass
    if len(value) > 253 or not _HOSTNAME_RE.fullmatch(value):
        raise ValueError(f"{value!r} is not a host name (letters, digits, '-' and '.') or an IP address")
    return value


Host = Annotated[str, AfterValidator(_check_host)]
Port = Annotated[int, Field(ge=1, le=65535, strict=True)]


class InventoryError(ValueError):
    """An inventory that cannot be rendered; the message is one line naming the field."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SiteSection(_Section):
    """`[site]`: the gym and its site broker."""

    id: Id = Field(title="Site id", description="The `{site}` of every topic (gym/v1/{site}/...).")
    broker_host: Host = Field(
        title="Site broker host",
        description="The name kiosks and operators connect to; it is the TLS certificate's name.")
    tls_port: Port = Field(
        8883, title="TLS port", description="The site broker's TLS listener for devices and operators.")
    local_port: Port = Field(
        1883, title="Loopback port",
        description="The site broker's loopback listener on its own host (still authenticated), e.g. for the recorder.")


class MachineEntry(_Section):
    """`[[machines]]`: one leg press, its kiosk and its sensor node."""

    id: Id = Field(title="Machine id", description="The `{machine}` of the machine's topics.")
    model: Id = Field(
        title="Machine model", description="Which machine model it is (profiles keep settings per model).")
    kiosk_local_port: Port = Field(
        1883, title="Kiosk broker port", description="The kiosk's own broker: its loopback listener for the kiosk app.")
    sensor_port: Port = Field(
        1884, title="Sensor port", description="The kiosk broker's listener for the machine's sensor node.")
    host: Host | None = Field(
        None, title="Kiosk host",
        description="How the sensor node reaches the kiosk's broker (written into the sensor's secrets); "
                    "default 127.0.0.1, as for a simulator on the kiosk itself.")


class OperatorEntry(_Section):
    """`[[operators]]`: one operator login (MQTT user `op-<name>`), full access under gym/v1/ (a Home Assistant
    login: only what discovery needs)."""

    name: Id = Field(title="Operator name", description="The operator's MQTT user is `op-<name>`.")
    home_assistant: bool = Field(
        default=False, title="Home Assistant login",
        description="A Home Assistant instance uses this login: instead of full access it reads the kiosks' "
        "status and telemetry, sends in_service and out_of_order, and reads and writes `homeassistant/#`.")


class UpstreamSection(_Section):
    """`[upstream]`: a chain's clustered broker (EMQX, HiveMQ) the site broker bridges to."""

    host: Host = Field(
        title="Upstream host", description="The clustered broker's host name (checked against its certificate).")
    port: Port = Field(8883, title="Upstream TLS port")
    ca: Path | None = Field(
        None, title="Upstream CA",
        description="PEM file of the CA that signed the upstream broker's certificate, relative to the inventory; "
                    "default: the host's public CAs (/etc/ssl/certs).")


class Inventory(_Section):
    """A whole gym: the site, its machines, its operators and, for a chain, the upstream broker."""

    site: SiteSection
    machines: list[MachineEntry] = Field(default_factory=list)
    operators: list[OperatorEntry] = Field(default_factory=list)
    upstream: UpstreamSection | None = None

    def machine(self, machine_id: str) -> MachineEntry:
        return next(m for m in self.machines if m.id == machine_id)


def _where(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "inventory"


def _duplicates(inventory: Inventory) -> None:
    for table, key, what in (("machines", "id", "machine"), ("operators", "name", "operator")):
        seen: dict[str, int] = {}
        for i, entry in enumerate(getattr(inventory, table)):
            value = getattr(entry, key)
            if value in seen:
                raise InventoryError(f"{table}[{i}].{key}: duplicate {what} {value!r} (also {table}[{seen[value]}])")
            seen[value] = i


def _port_clashes(inventory: Inventory) -> None:
    """No two listeners that would run on one host share a port.

    Each kiosk broker runs on its own Pi unless two machines name the same
    `host` (or the site broker's host), so only listeners of one host are
    compared; that is also what lets brokers of one render run side by side
    in tests when they are given distinct ports.
    """
    site = inventory.site
    listeners: dict[str, list[tuple[str, int]]] = {}
    listeners.setdefault(site.broker_host, []).extend(
        [("site.tls_port", site.tls_port), ("site.local_port", site.local_port)])
    for i, m in enumerate(inventory.machines):
        own_pi = m.host is None or m.host in ("127.0.0.1", "localhost", "::1")
        host = f"machine {m.id}" if own_pi or m.host is None else m.host
        listeners.setdefault(host, []).extend(
            [(f"machines[{i}].kiosk_local_port", m.kiosk_local_port), (f"machines[{i}].sensor_port", m.sensor_port)])
    for entries in listeners.values():
        taken: dict[int, str] = {}
        for where, port in entries:
            if port in taken:
                raise InventoryError(f"{where}: port {port} is also {taken[port]} on the same host")
            taken[port] = where


def parse_inventory(text: str, source: str = "inventory") -> Inventory:
    """Validate inventory TOML text, or raise `InventoryError` with one line naming the field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InventoryError(f"{source} is not valid TOML: {exc}") from None
    try:
        inventory = Inventory.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        value = err.get("input")
        quiet = err["type"] in ("missing", "extra_forbidden") or isinstance(value, dict | list)
        shown = "" if quiet else f" (got {value!r})"
        more = f" [+{exc.error_count() - 1} more]" if exc.error_count() > 1 else ""
        raise InventoryError(f"{source}: {_where(err['loc'])}: {msg}{shown}{more}") from None
    try:
        _duplicates(inventory)
        _port_clashes(inventory)
    except InventoryError as exc:
        raise InventoryError(f"{source}: {exc}") from None
    return inventory


def load_inventory(path: Path) -> Inventory:
    """Read and validate the inventory file; an upstream `ca` is resolved relative to it and must exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InventoryError(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise InventoryError(f"cannot read inventory {path}: {exc.strerror or exc}") from None
    inventory = parse_inventory(text, str(path))
    if inventory.upstream and inventory.upstream.ca:
        ca = inventory.upstream.ca if inventory.upstream.ca.is_absolute() else path.parent / inventory.upstream.ca
        if not ca.is_file():
            raise InventoryError(f"{path}: upstream.ca: {ca} is not a file")
        upstream = inventory.upstream.model_copy(update={"ca": ca.resolve()})
        inventory = inventory.model_copy(update={"upstream": upstream})
    return inventory
