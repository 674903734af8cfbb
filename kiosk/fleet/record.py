"""`legpress-fleet record`: the recorder service, keeping a site's events, status changes and telemetry.

Runs until SIGTERM or Ctrl-C, then stores and acknowledges what has arrived
and exits 0; the broker keeps its session, so a restart picks up what was
published meanwhile. Logs one line per hour with what it stored.
"""

import argparse
import logging
import os
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.fleet.recorder.replay import GRACE_S
from kiosk.fleet.recorder.service import DAY_S, HOUR_S, Recorder
from kiosk.fleet.recorder.store_url import open_store
from kiosk.mqtt.connection import add_site_and_broker, bounded, seconds

if TYPE_CHECKING:
    from kiosk.fleet.parser import FleetParser


def add_store_option(parser: argparse.ArgumentParser) -> None:
    value = os.environ.get("LEGPRESS_STORE")
    parser.add_argument("--store", default=value, required=value is None,
                        help="sqlite:PATH or postgresql://user:pass@host:port/db (default: $LEGPRESS_STORE)")


def register(commands: "argparse._SubParsersAction[FleetParser]") -> None:
    record = commands.add_parser("record", help="keep every kiosk event, status change and telemetry of a site")
    add_store_option(record)
    add_site_and_broker(record)
    record.add_argument("--client-id", help="the recorder's fixed MQTT client id (default: recorder-SITE)")
    record.add_argument("--session-expiry", type=_hours, default=DAY_S / 3600, metavar="HOURS",
                        help="how long the broker keeps the recorder's messages while it is away (default: 24)")
    record.add_argument("--log-every", type=seconds, default=HOUR_S,
                        help="seconds between the log lines saying what was stored (default: 3600)")
    record.add_argument("--replay-grace", type=seconds, default=GRACE_S, metavar="SECONDS",
                        help="how long a gap in a kiosk's eids stays open before the recorder asks the kiosk to "
                             f"replay it (default: {GRACE_S:g}); a kiosk redelivering after a reconnect fills most "
                             "gaps within it")
    inventory = os.environ.get("LEGPRESS_INVENTORY")
    record.add_argument("--inventory", type=Path, default=Path(inventory) if inventory else None, metavar="FILE",
                        help="the site's inventory: the profile desk takes each machine's model from it and refuses "
                             "saves from machines not in it (default: $LEGPRESS_INVENTORY; without one, the model "
                             "each kiosk's own info gives)")
    record.set_defaults(run=_record)


def machine_models(path: Path, site: str) -> dict[str, str]:
    """Each machine's model from the inventory at `path` (its `[site]` must be `site`); one line when not."""
    from kiosk.fleet.inventory import InventoryError, parse_inventory

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InventoryError(f"cannot read inventory {path}: {getattr(exc, 'strerror', None) or exc}") from None
    # Only [site] and [[machines]] are read: an upstream `ca` relative to where the render ran need not exist here.
    inventory = parse_inventory(text, str(path))
    if inventory.site.id != site:
        raise InventoryError(f"{path}: site.id is {inventory.site.id!r}, not the recorder's site {site!r}")
    return {m.id: m.model for m in inventory.machines}


def _stamp_lines_unless_journald() -> None:
    # journald stamps each line itself (systemd sets JOURNAL_STREAM); run by hand, a line needs its own time.
    if os.environ.get("JOURNAL_STREAM"):
        return
    for handler in logging.getLogger().handlers:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))


def _record(args: argparse.Namespace) -> int:
    logging.getLogger("kiosk.fleet.recorder").setLevel(logging.INFO)
    _stamp_lines_unless_journald()
    models = machine_models(args.inventory, args.site) if args.inventory is not None else None
    store = open_store(args.store)
    if models is None:  # said once the arguments are known good: a wrong one is the one line an operator sees
        logging.getLogger(__name__).warning(
            "no --inventory: the profile desk takes each machine's model from the kiosk's own info")
    recorder = Recorder(store, args.broker, args.site, client_id=args.client_id,
                        session_expiry_s=int(args.session_expiry * 3600), log_every_s=args.log_every,
                        replay_grace_s=args.replay_grace, machine_models=models)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        recorder.start()
        stop.wait()
    finally:
        recorder.stop()
        store.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


# MQTT's session expiry is a 32-bit count of seconds; a week is plenty for any outage.
_hours = bounded("hours", 168)
