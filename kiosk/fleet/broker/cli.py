"""`legpress-fleet broker render INVENTORY --out DIR`: write every broker's configuration of a gym."""

import argparse
import os
import pwd
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.fleet.broker.render import RenderResult, render
from kiosk.fleet.inventory import load_inventory

if TYPE_CHECKING:
    from kiosk.fleet.parser import FleetParser

RENDER_HELP = """\
Writes, under DIR: site/ (mosquitto.conf, passwd, acl), kiosks/<machine>/ (the same for each kiosk's
local broker, with its bridge to the site over TLS), certs/ (a development CA and the site certificate),
secrets/<user>.toml (one per MQTT user, mode 0600) and render.toml. DIR must be new, empty or an earlier
render of the same site: rendering again keeps passwords and certificates unless --rotate is given, and
removes what belonged to machines and operators no longer in the inventory."""


def register(commands: "argparse._SubParsersAction[FleetParser]") -> None:
    broker = commands.add_parser("broker", help="configure the site broker and the kiosks' brokers")
    actions = broker.add_subparsers(dest="action", required=True, metavar="ACTION")
    rend = actions.add_parser("render", help="write every broker's configuration from the site inventory",
                              description=RENDER_HELP)
    rend.add_argument("inventory", type=Path, metavar="INVENTORY", help="the site inventory (TOML)")
    rend.add_argument("--out", type=Path, required=True, metavar="DIR", help="new, empty, or an earlier render")
    rend.add_argument("--broker-user", default=None, metavar="NAME",
                      help="the user mosquitto runs as, named in every mosquitto.conf (default: you)")
    rend.add_argument("--rotate", action="append", default=[], metavar="USER",
                      help="give this MQTT user a new password (repeatable), e.g. kiosk-lp-1")
    rend.set_defaults(run=_render)


def report(result: RenderResult) -> str:
    """What was written, and how to start it, in a few lines."""
    out, inv = result.out, result.inventory
    site = inv.site
    rows = [("site broker", f"mosquitto -c {out / 'site' / 'mosquitto.conf'}  "
                            f"(TLS :{site.tls_port} as {site.broker_host}, loopback :{site.local_port})")]
    for m in inv.machines:
        rows.append((f"kiosk {m.id}", f"mosquitto -c {out / 'kiosks' / m.id / 'mosquitto.conf'}  "
                                      f"(loopback :{m.kiosk_local_port}, sensor :{m.sensor_port}, "
                                      f"bridge to {site.broker_host}:{site.tls_port})"))
    if inv.upstream:
        rows.append(("upstream", f"bridge to {inv.upstream.host}:{inv.upstream.port} as site-{site.id}"))
    counts = ", ".join(f"{len(names)} {what}" for names, what in
                       ((result.new, "new"), (result.kept, "kept"), (result.rotated, "rotated"),
                        (result.removed, "removed")) if names)
    rows.append(("users", f"{', '.join(result.users)} ({counts})"))
    rows.append(("secrets", f"{out / 'secrets'}/<user>.toml (mode 0600)"))
    rows.append(("certs", f"dev CA {result.ca}, site certificate {result.site_cert} ({out / 'certs'})"))
    width = max(len(label) for label, _ in rows)
    verb = "updated" if result.updated else "rendered"
    lines = [f"{verb} site {site.id} into {out}", *(f"  {label.ljust(width)}  {text}" for label, text in rows)]
    return "\n".join(lines)


def _render(args: argparse.Namespace) -> int:
    inventory = load_inventory(args.inventory)
    result = render(inventory, args.out, args.broker_user or pwd.getpwuid(os.geteuid()).pw_name, args.rotate)
    print(report(result))
    return 0
