"""`legpress-fleet`: the operators' command line.

Each concern registers its own subcommand (`status`, `watch`, `command`,
`config`, `keys`, `members`, `kiosk`, `record`, `report`, `broker`; `console` through an entry point). A
wrong argument or input ends with one line on stderr and exit code 2; a valid request that cannot be
carried out (broker or kiosk away) with exit code 1.
"""

import argparse
import logging
import os
import signal
import sys
from collections.abc import Callable
from importlib.metadata import entry_points

from kiosk.fleet import CommandFailed, command, config, keys, kiosks, members, record, report, status, watch
from kiosk.fleet.broker import cli as broker
from kiosk.fleet.parser import FleetParser
from kiosk.mqtt.connection import resolve_broker_args

# What a shell reports for a command that a closed pipe stopped (128 + SIGPIPE), as `git log | head` does.
SIGPIPE_EXIT = 128 + signal.SIGPIPE


def build_parser() -> FleetParser:
    parser = FleetParser(prog="legpress-fleet", description="Manage leg press kiosks, member codes and keys.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for concern in (status, watch, command, config, keys, members, kiosks, record, report, broker):
        concern.register(commands)
    # Tools that sit above the fleet (the web console) add themselves through an entry point, so that
    # imports still run down the layers.
    for entry in entry_points(group="legpress_fleet.commands"):
        try:
            register = entry.load()
        except ImportError as exc:
            logging.getLogger(__name__).debug("legpress-fleet %s is not installed: %s", entry.name, exc)
            continue
        register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Each subcommand sets `run` to its handler (set_defaults); the Namespace itself is untyped.
    run: Callable[[argparse.Namespace], int] = args.run
    # Each command says in one line when the broker cannot be reached; the link's own warnings would repeat it.
    logging.getLogger("kiosk.mqtt.link").setLevel(logging.ERROR)
    try:
        resolve_broker_args(args)
        return run(args)
    except CommandFailed as exc:
        print(f"legpress-fleet: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader stopped reading (`status --json | head`): nothing to say, and nothing more to write.
        # Python's recipe: point stdout at /dev/null so the flush at exit cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return SIGPIPE_EXIT
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        print(f"legpress-fleet: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"legpress-fleet: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
