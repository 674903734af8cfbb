"""`legpress-fleet status`: every kiosk and sensor node of a site, from what they keep on the broker.

KIOSK is `lost` when the site broker lost the kiosk's bridge (`R/kiosk/bridge`
is `0`): the kiosk's broker died with the kiosk, a power cut or a pulled
cable, and its retained status still says `ready`. KIOSK is `stale` when its
`ready` is older than 2.5 heartbeats (a kiosk refreshes it with every
telemetry, `heartbeat_s`) and nothing live was heard from it: its app is not
running although its broker is (the broker came back alone after a power cut,
so no Will and no bridge notification can say so). LAST SEEN is the kiosk's
last sign of life: the newest of its retained status,
and of any telemetry or event heard while listening (by their time and by when
they arrived); a status is only published when something changes, so on its own
it says "70 s ago" in the middle of a live session. SENSOR HEALTH comes from
telemetry, which a kiosk sends every 30 s and the broker does not keep: heard
while listening, or else read from the recorder's store when one is given.
"""

import argparse
import json
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kiosk.contract.base import PayloadError, as_dict, decode
from kiosk.contract.config import ConfigState
from kiosk.contract.kiosk import KioskStatus, KioskTelemetry
from kiosk.contract.text import escape_controls
from kiosk.fleet.view import (
    CONFIG_STATE,
    KIOSK_BRIDGE,
    KIOSK_EVENTS,
    KIOSK_INFO,
    KIOSK_STATUS,
    KIOSK_TELEMETRY,
    SENSOR_RELAYED,
    SENSOR_STATUS,
    BadPayload,
    FleetView,
)
from kiosk.mqtt.broker_url import BrokerUrl
from kiosk.mqtt.connection import add_site_and_broker, connected, seconds

if TYPE_CHECKING:
    from kiosk.fleet.parser import FleetParser

SOURCES = {"status": KIOSK_STATUS, "info": KIOSK_INFO, "telemetry": KIOSK_TELEMETRY, "sensor": SENSOR_STATUS,
           "config": CONFIG_STATE, "event": KIOSK_EVENTS, "bridge": KIOSK_BRIDGE, "sensor_relayed": SENSOR_RELAYED}
# What `--json` shows per machine: the last event is only a sign of life, not state.
SHOWN = ("status", "info", "config")
HEADERS = ("MACHINE", "KIOSK", "MODE", "VERSION", "BOOT", "MODEL", "CONFIG", "SENSOR", "SENSOR HEALTH", "LAST SEEN")
BAD = "bad payload"
NOTHING = "-"


def register(commands: "argparse._SubParsersAction[FleetParser]") -> None:
    status = commands.add_parser("status", help="list every kiosk and sensor node of a site")
    add_site_and_broker(status)
    status.add_argument("--wait", type=seconds, default=2.0,
                        help="seconds to listen (default: 2); sensor health needs a telemetry, sent every 30 s")
    status.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    status.add_argument("--store", default=os.environ.get("LEGPRESS_STORE"),
                        help="the recorder's store, for the last telemetry of kiosks not heard from while listening "
                             "(default: $LEGPRESS_STORE, if set)")
    status.set_defaults(run=_status)


def gather(broker: BrokerUrl | str, site: str, wait: float) -> FleetView:
    """Listen for `wait` seconds: the retained statuses, info and config states, and whatever is sent meanwhile."""
    view = FleetView(site, SOURCES)
    with connected(broker) as link:
        view.listen(link)
        time.sleep(wait)
    return view


def recorded_telemetry(store_url: str, site: str) -> dict[str, KioskTelemetry]:
    """Each machine's newest telemetry in the recorder's store; a row that no longer decodes is left out."""
    from kiosk.fleet.recorder.store_url import open_store

    store = open_store(store_url)
    try:
        rows = store.read("SELECT t.machine, t.payload FROM telemetry t WHERE t.site = ? AND t.ts = "
                          "(SELECT MAX(n.ts) FROM telemetry n WHERE n.site = t.site AND n.machine = t.machine)",
                          (site,))
    finally:
        store.close()
    found: dict[str, KioskTelemetry] = {}
    for machine, payload in rows:
        try:
            found[machine] = decode(KioskTelemetry, payload)
        except PayloadError:
            continue
    return found


def table(view: FleetView, now: float, recorded: dict[str, KioskTelemetry] | None = None) -> str:
    """One row per machine; a cell whose message was malformed says so instead of a value."""
    rows = [HEADERS, *(_row(view, machine, now, recorded or {}) for machine in view.machines())]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows)


def notes(view: FleetView, recorded: dict[str, KioskTelemetry] | None = None, wait: float = 0.0) -> list[str]:
    """What the table cannot say in a cell: refused config pushes, and why sensor health may be missing."""
    lines = []
    for machine in view.machines():
        status = view.value(machine, "status")
        if view.kiosk_state(machine) == "stale" and isinstance(status, KioskStatus):
            lines.append(f"{machine}: stale: its ready status is {_age(time.time() - status.ts).removesuffix(' ago')} "
                         f"old and it refreshes it every {status.heartbeat_s:g} s; the kiosk app is not running "
                         "(its broker is)")
        config = view.value(machine, "config")
        if isinstance(config, ConfigState) and config.status == "error":
            lines.append(f"{machine}: the last config push was refused: {config.error} "
                         f"(still running config {config.version})")
    missing = [m for m in view.online() if _telemetry(view, m, recorded or {}) is None]
    if missing:
        # Each status names its kiosk's telemetry interval (`heartbeat_s`); an older kiosk's is the default.
        period = max(s.heartbeat_s or 30.0 for s in (view.value(m, "status") for m in missing))
        lines.append(f"no telemetry from {', '.join(missing)} in {wait:g} s: "
                     f"{'it sends' if len(missing) == 1 else 'they send'} it every {period:g} s; "
                     f"listen longer (--wait {period + 1:g}) or read the recorder's (--store) for SENSOR HEALTH")
    return lines


def records(view: FleetView, now: float, recorded: dict[str, KioskTelemetry] | None = None) -> list[dict[str, Any]]:
    """The same as the table for scripts: each message as its contract JSON, `{"bad_payload": why}` or null."""
    recorded = recorded or {}
    return [
        {"machine": machine,
         # The answer first: ready, stale, lost, disconnected or unknown, as the table's KIOSK column.
         "kiosk": view.kiosk_state(machine, now),
         **{name: _as_json(view.value(machine, name)) for name in SHOWN},
         "sensor": _as_json(view.sensor(machine)),  # the node's own status, else what its kiosk relays
         "telemetry": _as_json(_telemetry(view, machine, recorded)),
         # False once the site broker lost the kiosk's bridge; null where no bridge reports (no site broker).
         "bridge": _bridged(view, machine),
         "last_seen_s": _last_seen_age(view, machine, now, recorded)}
        for machine in view.machines()
    ]


def _status(args: argparse.Namespace) -> int:
    view = gather(args.broker, args.site, args.wait)
    now = time.time()
    recorded = recorded_telemetry(args.store, args.site) if args.store else {}
    if args.json:
        print(json.dumps(records(view, now, recorded), indent=2))
    elif view.machines():
        # Line by line, escaped: what a kiosk sends must never drive the terminal or forge a row.
        for line in [*table(view, now, recorded).splitlines(), *notes(view, recorded, args.wait)]:
            print(escape_controls(line))
    else:
        print(f"nothing heard from any kiosk or sensor node of site {args.site} in {args.wait:g} s")
    return 0


def _row(view: FleetView, machine: str, now: float, recorded: dict[str, KioskTelemetry]) -> tuple[str, ...]:
    status, info, config = (view.value(machine, name) for name in ("status", "info", "config"))
    sensor = view.sensor(machine)
    refused = isinstance(config, ConfigState) and config.status == "error"
    return (
        machine,
        *_cells(status, 4, lambda s: [view.kiosk_state(machine, now), s.mode, s.version, str(s.boot)]),
        *_cells(info, 2, lambda i: [i.machine_model, i.config_version + (" (push refused)" if refused else "")]),
        *_cells(sensor, 1, lambda s: [_sensor_state(s, view.kiosk_state(machine, now) in ("lost", "stale"))]),
        *_cells(_telemetry(view, machine, recorded), 1, lambda t: [_sensor_health(t, now)]),
        _age(_last_seen_age(view, machine, now, recorded)),
    )


def _telemetry(view: FleetView, machine: str, recorded: dict[str, KioskTelemetry]) -> Any:
    """The telemetry heard while listening, else the recorder's last one (None when neither)."""
    heard = view.value(machine, "telemetry")
    return heard if heard is not None else recorded.get(machine)


def _sensor_health(telemetry: KioskTelemetry, now: float) -> str:
    sensor = telemetry.sensor
    text = f"{sensor.rate_hz:g} Hz, {sensor.invalid} invalid, {sensor.dropped} dropped"
    # Telemetry read from the store may be old: say how old, so it is not taken for now.
    age = now - telemetry.ts
    return text if age < 60 else f"{text} ({_age(age)})"


def _cells(value: Any, width: int, read: Callable[[Any], list[str]]) -> list[str]:
    if isinstance(value, BadPayload):
        return [BAD] * width
    if value is None:
        return [NOTHING] * width
    return read(value)


def _last_seen_age(view: FleetView, machine: str, now: float,
                   recorded: dict[str, KioskTelemetry] | None = None) -> float | None:
    """Seconds since the kiosk's last sign of life (never below 0); None when nothing readable came from it."""
    stamps = [recorded[machine].ts] if recorded and machine in recorded else []
    status = view.value(machine, "status")
    if isinstance(status, KioskStatus):
        stamps.append(status.ts)
    monotonic_now = time.monotonic()
    for name in ("telemetry", "event"):
        seen = view.latest(machine, name)
        if seen is None or isinstance(seen.value, BadPayload):
            continue
        # Neither is retained, so hearing one at all is life now; its own time can only be newer
        # than its arrival when the kiosk's clock runs ahead.
        stamps += [seen.value.ts, now - (monotonic_now - seen.at)]
    return round(max(0.0, now - max(stamps)), 1) if stamps else None


def _sensor_state(sensor: Any, kiosk_lost: bool) -> str:
    text = f"{sensor.state} {sensor.rate_hz:g} Hz" if sensor.state == "ready" else sensor.state
    # With its kiosk gone, nobody at the site can hear the node: the last word is all there is.
    return f"{text} (last heard)" if kiosk_lost else text


def _bridged(view: FleetView, machine: str) -> bool | dict[str, str] | None:
    value = view.value(machine, "bridge")
    return {"bad_payload": value.reason} if isinstance(value, BadPayload) else value


def _age(age_s: float | None) -> str:
    if age_s is None:
        return NOTHING
    for unit, size, up_to in (("s", 1, 120), ("min", 60, 7200), ("h", 3600, 172800)):
        if age_s < up_to:
            return f"{age_s / size:.0f} {unit} ago"
    return f"{age_s / 86400:.0f} d ago"


def _as_json(value: Any) -> dict[str, Any] | None:
    if isinstance(value, BadPayload):
        return {"bad_payload": value.reason}
    return None if value is None else as_dict(value)
