"""`legpress-fleet status`: every kiosk and sensor node of a site, from what they keep on the broker."""

import argparse
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kiosk.contract.base import as_dict
from kiosk.contract.kiosk import KioskStatus, KioskTelemetry
from kiosk.core.broker_url import BrokerUrl
from kiosk.fleet.connection import add_site_and_broker, connected, seconds
from kiosk.fleet.view import KIOSK_INFO, KIOSK_STATUS, KIOSK_TELEMETRY, SENSOR_STATUS, BadPayload, FleetView

if TYPE_CHECKING:
    from kiosk.fleet.cli import FleetParser

SOURCES = {"status": KIOSK_STATUS, "info": KIOSK_INFO, "telemetry": KIOSK_TELEMETRY, "sensor": SENSOR_STATUS}
HEADERS = ("MACHINE", "KIOSK", "MODE", "VERSION", "BOOT", "MODEL", "CONFIG", "SENSOR", "SENSOR HEALTH", "LAST SEEN")
BAD = "bad payload"
NOTHING = "-"


def register(commands: "argparse._SubParsersAction[FleetParser]") -> None:
    status = commands.add_parser("status", help="list every kiosk and sensor node of a site")
    add_site_and_broker(status)
    status.add_argument("--wait", type=seconds, default=2.0,
                        help="seconds to listen (default: 2); sensor health needs a telemetry, sent every 30 s")
    status.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    status.set_defaults(run=_status)


def gather(broker: BrokerUrl | str, site: str, wait: float) -> FleetView:
    """Listen for `wait` seconds: the retained statuses and info, and any telemetry sent meanwhile."""
    view = FleetView(site, SOURCES)
    with connected(broker) as link:
        view.listen(link)
        time.sleep(wait)
    return view


def table(view: FleetView, now: float) -> str:
    """One row per machine; a cell whose message was malformed says so instead of a value."""
    rows = [HEADERS, *(_row(view, machine, now) for machine in view.machines())]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)).rstrip() for row in rows)


def records(view: FleetView, now: float) -> list[dict[str, Any]]:
    """The same as the table for scripts: each message as its contract JSON, `{"bad_payload": why}` or null."""
    return [
        {"machine": machine,
         **{name: _as_json(view.value(machine, name)) for name in SOURCES},
         "last_seen_s": _last_seen_age(view, machine, now)}
        for machine in view.machines()
    ]


def _status(args: argparse.Namespace) -> int:
    view = gather(args.broker, args.site, args.wait)
    now = time.time()
    if args.json:
        print(json.dumps(records(view, now), indent=2))
    elif view.machines():
        print(table(view, now))
    else:
        print(f"nothing heard from any kiosk or sensor node of site {args.site} in {args.wait:g} s")
    return 0


def _row(view: FleetView, machine: str, now: float) -> tuple[str, ...]:
    status, info, telemetry, sensor = (view.value(machine, name) for name in SOURCES)
    return (
        machine,
        *_cells(status, 4, lambda s: [s.state, s.mode, s.version, str(s.boot)]),
        *_cells(info, 2, lambda i: [i.machine_model, i.config_version]),
        *_cells(sensor, 1, lambda s: [f"{s.state} {s.rate_hz:g} Hz" if s.state == "ready" else s.state]),
        *_cells(telemetry, 1, lambda t: [f"{t.sensor.invalid} invalid, {t.sensor.dropped} dropped"]),
        _age(_last_seen_age(view, machine, now)),
    )


def _cells(value: Any, width: int, read: Callable[[Any], list[str]]) -> list[str]:
    if isinstance(value, BadPayload):
        return [BAD] * width
    if value is None:
        return [NOTHING] * width
    return read(value)


def _last_seen_age(view: FleetView, machine: str, now: float) -> float | None:
    """Seconds since the kiosk's newest status or telemetry, by its own clock (never below 0)."""
    stamps = [m.ts for m in (view.value(machine, "status"), view.value(machine, "telemetry"))
              if isinstance(m, (KioskStatus, KioskTelemetry))]
    return round(max(0.0, now - max(stamps)), 1) if stamps else None


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
