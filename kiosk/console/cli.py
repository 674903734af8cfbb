"""`legpress-fleet console serve | user add | user remove | user list`.

Registered into `legpress-fleet` through the `legpress_fleet.commands` entry
point (pyproject.toml), so the fleet's command line needs no import of the
console, which sits above it.
"""

import argparse
import contextlib
import ipaddress
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.console.accounts import ROLES, Accounts, check_role, default_db
from kiosk.contract.ids import check_id
from kiosk.mqtt.connection import add_site_and_broker

if TYPE_CHECKING:
    from kiosk.fleet.parser import FleetParser

DEFAULT_LISTEN = "127.0.0.1:8080"
SHUTDOWN_GRACE_S = 1  # whole seconds (uvicorn's unit); requests other than the live stream finish well within it


def register(commands: "argparse._SubParsersAction[FleetParser]") -> None:
    console = commands.add_parser("console", help="the front-desk web console and its staff accounts")
    actions = console.add_subparsers(dest="console_command", required=True, metavar="ACTION")

    serve = actions.add_parser("serve", help="serve the console for a site")
    add_site_and_broker(serve)
    serve.add_argument("--store", help="the recorder's store (sqlite:PATH or postgresql://...), read only")
    serve.add_argument("--signing-key", type=Path, metavar="KID.key",
                       help="the operators' key that signs member codes (from `keys new`): trainers issue "
                       "cards from the members page; it stays on this host, read with its own file mode")
    serve.add_argument("--inventory", type=Path, help="the site inventory: every machine in it gets a tile")
    _db_option(serve)
    serve.add_argument("--listen", default=DEFAULT_LISTEN, metavar="HOST:PORT",
                       help=f"where to serve (default {DEFAULT_LISTEN}); plain HTTP on loopback only")
    serve.add_argument("--tls-cert", type=Path, metavar="FILE", help="the site certificate (PEM) from the render")
    serve.add_argument("--tls-key", type=Path, metavar="FILE", help="its private key (PEM)")
    serve.set_defaults(run=_serve)

    user = actions.add_parser("user", help="staff accounts")
    users = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = users.add_parser("add", help="add a staff account; its password is read from stdin")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    _db_option(add)
    add.set_defaults(run=_user_add)
    remove = users.add_parser("remove", help="remove a staff account (its sessions end with it)")
    remove.add_argument("name")
    _db_option(remove)
    remove.set_defaults(run=_user_remove)
    listing = users.add_parser("list", help="list staff accounts")
    _db_option(listing)
    listing.set_defaults(run=_user_list)


def _db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, default=None, metavar="PATH",
                        help=f"the console's database (default {default_db()})")


def _accounts(args: argparse.Namespace) -> Accounts:
    return Accounts(args.db or default_db())


def _user_add(args: argparse.Namespace) -> int:
    check_id(args.name, "staff name")
    # One line from stdin, without its newline: `echo "$PW" | legpress-fleet console user add ...`.
    password = sys.stdin.readline().rstrip("\r\n")
    accounts = _accounts(args)
    try:
        staff = accounts.add(args.name, check_role(args.role), password)
        accounts.audit("cli", "user add", staff.name, staff.role)
    finally:
        accounts.close()
    print(f"added {staff.name} ({staff.role})")
    return 0


def _user_remove(args: argparse.Namespace) -> int:
    accounts = _accounts(args)
    try:
        if not accounts.remove(args.name):
            raise ValueError(f"there is no staff account {args.name!r}")
        accounts.audit("cli", "user remove", args.name, "")
    finally:
        accounts.close()
    print(f"removed {args.name}")
    return 0


def _user_list(args: argparse.Namespace) -> int:
    accounts = _accounts(args)
    try:
        for staff in accounts.everyone():
            print(f"{staff.name}\t{staff.role}")
    finally:
        accounts.close()
    return 0


def parse_listen(text: str, tls: bool) -> tuple[str, int]:
    host, sep, port_text = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"--listen {text!r} is not HOST:PORT")
    if not tls and not _loopback(host):
        raise ValueError(f"--listen {host}: plain HTTP is allowed on loopback only; give --tls-cert and --tls-key")
    return host, int(port_text)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _serve(args: argparse.Namespace) -> int:
    # The web stack is imported only to serve: every other `legpress-fleet` command starts as fast as before.
    import uvicorn
    from itsdangerous import URLSafeSerializer

    from kiosk.console.desk import Desk
    from kiosk.console.floor import Floor
    from kiosk.console.guard import LoginBrake, Sessions, load_secret
    from kiosk.console.routes import build_app
    from kiosk.console.web import Console
    from kiosk.fleet.inventory import load_inventory
    from kiosk.mqtt.broker_url import BrokerUrl
    from kiosk.mqtt.link import MqttLink

    if (args.tls_cert is None) != (args.tls_key is None):
        raise ValueError("--tls-cert and --tls-key go together")
    tls = args.tls_cert is not None
    for path in (args.tls_cert, args.tls_key):
        if path is not None:
            path.read_bytes()  # unreadable: one line and exit 2, before anything starts
    host, port = parse_listen(args.listen, tls)
    if args.signing_key is not None:
        from kiosk.codes.member_codes import load_private_key
        load_private_key(args.signing_key)  # not a key, or unreadable: one line and exit 2, before anything starts
    site = check_id(args.site, "site")
    listed = [m.id for m in load_inventory(args.inventory).machines] if args.inventory else []
    if args.store:
        from kiosk.fleet import CommandFailed
        from kiosk.fleet.recorder.store_url import open_store
        try:  # checked now (a bad URL or an unreadable store is one line and exit 2); the reports read it later
            open_store(args.store, must_exist=True, read_only=True).close()
        except CommandFailed as exc:
            if not args.store.startswith("sqlite:") or "no recorder store" not in str(exc):
                raise
            # Installed beside a recorder that has not run yet: the page says so until the file is there.
            print(f"console: {exc}; the reports page says so until the recorder has made it", flush=True)
    db = args.db or default_db()
    accounts = Accounts(db)
    broker: BrokerUrl = args.broker
    link = MqttLink(f"legpress-console-{site}-{os.getpid()}-{uuid.uuid4().hex[:6]}", broker)
    floor = Floor(site, listed)
    desk = Desk(site, link)
    floor.listen(link)
    desk.listen()
    secret = load_secret(db.with_name("session.key"))
    console = Console(site, broker, accounts, Sessions(secret), floor, desk, tls, LoginBrake(),
                      URLSafeSerializer(secret, salt="legpress-console-login"), args.signing_key, args.store)

    @contextlib.asynccontextmanager
    async def lifespan(_app: object) -> AsyncIterator[None]:
        link.start()
        scheme = "https" if tls else "http"
        print(f"console: serving {scheme}://{host}:{port}/ for site {site} (broker {broker})", flush=True)
        try:
            yield
        finally:
            link.stop()
            accounts.close()

    app = build_app(console, lifespan)
    # The floor's live stream never ends on its own: a stop (systemd, an upgrade) waits at most
    # SHUTDOWN_GRACE_S for the browsers watching it, then closes their streams (they reconnect).
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on",
                            timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
                            ssl_certfile=str(args.tls_cert) if tls else None,
                            ssl_keyfile=str(args.tls_key) if tls else None,
                            proxy_headers=False, server_header=False)
    uvicorn.Server(config).run()
    return 0
