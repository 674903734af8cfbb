"""`legpress-fleet keys`: the operators' signing keys for member codes."""

import argparse
from typing import TYPE_CHECKING

from kiosk.codes.member_codes import new_signing_key

if TYPE_CHECKING:
    from kiosk.fleet.parser import FleetParser


def register(commands: "argparse._SubParsersAction[FleetParser]") -> None:
    keys = commands.add_parser("keys", help="manage the keys that sign member codes")
    actions = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    new = actions.add_parser("new", help="make a signing key pair: <kid>.key (private) and <kid>.pem (public)")
    new.add_argument("--kid", required=True, help="key id, e.g. main-2025 (lowercase letters, digits, '_', '-')")
    new.add_argument("--dir", required=True, help="folder to write both files into")
    new.set_defaults(run=_new)


def _new(args: argparse.Namespace) -> int:
    private_path, public_path = new_signing_key(args.kid, args.dir)
    print(f"private key: {private_path} (keep it with the operators; it signs member codes)")
    print(f"public key:  {public_path} (copy into every kiosk's trusted keys folder)")
    return 0
