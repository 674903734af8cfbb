"""`legpress-fleet command`: send one operator command with a fresh transaction and report every reply.

To one machine, the request carries an MQTT v5 Response Topic and Correlation
Data. The Response Topic is that machine's own `R/kiosk/res/{name}`: the
contract's broker ACL lets a kiosk publish only under its own `R/kiosk/` and
an operator read only under `gym/v1/`, so a private reply topic anywhere else
would be dropped by a site broker that enforces it. The fresh transaction
tells this request's reply from any other operator's.

With `--all`, the request goes to `broadcast/cmd/{name}` without a Response
Topic (one topic cannot tell the replies apart): each kiosk answers on its own
`R/kiosk/res/{name}`, and the topic says which machine answered, since the
reply itself does not. The machines expected to answer are those whose
retained status says `ready`; the others are listed, and their silence is no
failure.

Each reply's first line is the answer (`lp1: ok`, `lp2: not ok: not
calibrated`); a `diagnostics` report follows as one line per check, other
replies' data as JSON. `--json` prints every reply as JSON instead, for
scripts. A machine of which the broker holds no status at all is no machine
of the site: that is said at once (exit 2), not after the timeout.
"""

import argparse
import json
import sys
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from pydantic import ValidationError

from kiosk.contract.base import describe_validation_error
from kiosk.contract.commands import COMMANDS, Command, CommandReply
from kiosk.contract.replies import DiagnosticsReport
from kiosk.contract.topics import MachineTopics, broadcast_cmd
from kiosk.fleet import CommandFailed
from kiosk.fleet.diagnostics import summary
from kiosk.fleet.view import KIOSK_STATUS, FleetView, Source
from kiosk.mqtt.broker_url import BrokerUrl
from kiosk.mqtt.connection import add_site_and_broker, connected, seconds

if TYPE_CHECKING:
    from kiosk.fleet.parser import FleetParser

# How long a machine's retained status may take to arrive after subscribing: a known machine's comes at
# once (the wait ends then); only a machine the broker has never heard of waits this long.
KNOWN_WITHIN_S = 0.5


def register(commands: "argparse._SubParsersAction[FleetParser]") -> None:
    command = commands.add_parser("command", help="send a command to one kiosk or every kiosk of a site")
    command.add_argument("name", metavar="NAME", choices=sorted(COMMANDS), help=f"one of: {', '.join(COMMANDS)}")
    target = command.add_mutually_exclusive_group(required=True)
    target.add_argument("--machine", help="the kiosk's machine id")
    target.add_argument("--all", action="store_true", help="every kiosk of the site, by broadcast")
    command.add_argument("--arg", dest="arguments", action="append", type=_key_value, default=[],
                         metavar="KEY=VALUE", help="a command argument, e.g. --arg reason='cable frayed' (repeatable)")
    add_site_and_broker(command)
    command.add_argument("--timeout", type=seconds, default=5.0,
                         help="seconds to wait for the broker and the replies (default: 5)")
    command.add_argument("--json", action="store_true",
                         help="print the replies as a JSON list (machine, status, data, error), for scripts")
    command.set_defaults(run=_command)


def build_request(name: str, arguments: list[tuple[str, str]], transaction: str) -> Command:
    """The request as the contract model, or ValueError in one line; checked here so nothing bad is sent."""
    fields: dict[str, str] = {}
    for key, value in arguments:
        if key == "transaction":
            raise ValueError("--arg transaction: legpress-fleet sets a fresh transaction itself")
        if key in fields:
            raise ValueError(f"--arg {key} is given twice")
        fields[key] = value
    try:
        # Lenient here, strict on the kiosk: command-line values are text, and the
        # model turns "20" into 20.0 before the request is encoded and sent.
        return COMMANDS[name].model_validate({"transaction": transaction, **fields}, strict=False)
    except ValidationError as exc:
        raise ValueError(f"bad {name} arguments: {describe_validation_error(exc)}") from None


def send(broker: BrokerUrl | str, site: str, request: Command, name: str, machine: str | None,
         timeout: float) -> FleetView:
    """Send `request` to `machine` (None: broadcast) and collect its replies until all expected are in."""
    sources = {
        "reply": Source(f"kiosk/res/{name}", CommandReply,
                        keep=lambda r: isinstance(r, CommandReply) and r.transaction == request.transaction),
        "status": KIOSK_STATUS,
    }
    # Every machine's status, even for one machine: an unknown one is then told with the known ones.
    view = FleetView(site, sources)
    expected: Callable[[], list[str]] = (lambda: [machine]) if machine else view.online
    with connected(broker, timeout) as link:
        # Subscribed before sending, on the same connection, so no reply can come before its subscription.
        view.listen(link)
        if machine is not None and not view.wait_until(lambda: view.value(machine, "status") is not None,
                                                       min(KNOWN_WITHIN_S, timeout)):
            known = [m for m in view.machines() if view.value(m, "status") is not None]
            raise ValueError(f"no such machine: {machine} has no status on site {site}'s broker "
                             f"(machines there: {', '.join(known) or 'none'}); nothing sent")
        if machine is None:
            link.publish(broadcast_cmd(site, name), request, qos=1)
        else:
            topics = MachineTopics(site, machine)
            props = Properties(PacketTypes.PUBLISH)
            props.ResponseTopic = topics.res(name)
            props.CorrelationData = request.transaction.encode()
            link.publish(topics.cmd(name), request, qos=1, properties=props)
        # Retained statuses arrive before any reply, so `expected` is complete once one reply is in.
        view.wait_until(lambda: bool(expected()) and all(view.value(m, "reply") for m in expected()), timeout)
    return view


def _command(args: argparse.Namespace) -> int:
    request = build_request(args.name, args.arguments, uuid.uuid4().hex)
    machine = None if args.all else args.machine
    view = send(args.broker, args.site, request, args.name, machine, args.timeout)
    answered = [m for m in view.machines() if view.value(m, "reply") is not None]
    if args.json:
        print(json.dumps([{"machine": m, **view.value(m, "reply").model_dump(mode="json")} for m in answered],
                         indent=2))
    for m in [] if args.json else answered:
        print("\n".join(_reply_lines(m, args.name, view.value(m, "reply"))))
    if machine is not None and not answered:
        raise CommandFailed(f"{machine} did not reply to {args.name} within {args.timeout:g} s "
                            f"(its status: {view.kiosk_state(machine)})")
    if machine is None and not view.machines():
        raise CommandFailed(f"no kiosk of site {args.site} replied within {args.timeout:g} s, "
                            "and none has a status on the broker")
    silent = [m for m in view.machines() if m not in answered and (machine is None or m == machine)]
    for m in silent:
        print(f"{m}: no reply (its status: {view.kiosk_state(m)})", file=sys.stderr)
    ok = all(view.value(m, "reply").status == "ok" for m in answered)
    # Only an online kiosk's silence is a failure: one that is lost or gone cannot take the command.
    return 0 if ok and all(view.kiosk_state(m) != "ready" for m in silent) else 1


def _reply_lines(machine: str, name: str, reply: CommandReply) -> list[str]:
    if reply.status == "error":
        return [f"{machine}: error: {reply.error}"]
    if name == "diagnostics" and reply.data is not None:
        try:
            return summary(machine, DiagnosticsReport.model_validate(reply.data))
        except ValidationError:  # a kiosk of another release: its report as it came
            return [f"{machine}: ok (a report this tool cannot read; raw report follows)",
                    json.dumps(reply.data, indent=2)]
    return [f"{machine}: ok", *([] if reply.data is None else [json.dumps(reply.data, indent=2)])]


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE")
    return key, value
