"""`legpress-fleet config`: push, show and clear the config operators keep on the broker for kiosks.

A push is retained on `gym/v1/{site}/config/set` (site-wide) or on
`R/kiosk/config/set` (one machine). A push is partial: it is merged into the
layer the broker retains there, so `{"home_assistant": true}` changes that
one field and keeps the rest (`--replace` makes the file the whole layer);
the fields that change are printed. The result is checked here first, as a
partial `KioskConfig` merged over the defaults, and against the floors each
kiosk applies to its own machine (the travel band, read from its retained
info and config state), so a config the kiosks would refuse is never sent
unless `--force`; each kiosk then checks it merged over its own layers and
gives its verdict on its retained `R/kiosk/config/state`, which is what gets
reported.
"""

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from kiosk.contract.base import PayloadError, describe_validation_error, parse_json_object
from kiosk.contract.config import ConfigState, KioskConfig, MachineGeometry, merge_config, travel_refusal
from kiosk.contract.kiosk import KioskInfo
from kiosk.contract.topics import MachineTopics, site_config_set
from kiosk.fleet import CommandFailed
from kiosk.fleet.view import CONFIG_STATE, KIOSK_INFO, KIOSK_STATUS, BadPayload, FleetView
from kiosk.mqtt.broker_url import BrokerUrl
from kiosk.mqtt.connection import add_site_and_broker, connected, seconds

if TYPE_CHECKING:
    from kiosk.fleet.parser import FleetParser

# Long enough for the broker's retained statuses and old config states to be in before
# the push, so that a config state arriving after it is the kiosk's answer to it.
SETTLE_S = 0.5


def register(commands: "argparse._SubParsersAction[FleetParser]") -> None:
    config = commands.add_parser("config", help="push, show or clear kiosk config")
    actions = config.add_subparsers(dest="action", required=True, metavar="ACTION")

    push = actions.add_parser("push", help="push a partial config (JSON), wait for the kiosks to apply or refuse it")
    _scope(push)
    push.add_argument("file", metavar="FILE", help="a JSON object of KioskConfig fields, or - for standard input")
    push.add_argument("--replace", action="store_true",
                      help="make FILE the whole layer instead of merging it into the retained one")
    push.add_argument("--force", action="store_true",
                      help="send it even when kiosks would refuse it for their machine's floors")
    _broker_options(push)
    push.set_defaults(run=_push)

    show = actions.add_parser("show", help="print the config a kiosk has applied")
    show.add_argument("--machine", required=True, help="the kiosk's machine id")
    add_site_and_broker(show)
    show.add_argument("--wait", type=seconds, default=2.0, help="seconds to wait for its config state (default: 2)")
    show.set_defaults(run=_show)

    unset = actions.add_parser("unset", help="take fields out of a pushed layer: they return to the layer below "
                                              "(a machine's to the site's, the site's to the kiosks' own)")
    _scope(unset)
    unset.add_argument("fields", nargs="+", metavar="FIELD", help="a dotted field, e.g. cues.sensor_lost_s")
    unset.add_argument("--force", action="store_true",
                       help="send it even when kiosks would refuse it for their machine's floors")
    _broker_options(unset)
    unset.set_defaults(run=_unset)

    clear = actions.add_parser("clear", help="withdraw a pushed config (site-wide or one machine's)")
    _scope(clear)
    _broker_options(clear)
    clear.set_defaults(run=_clear)


def read_partial_config(path: str) -> dict[str, Any]:
    """The file (`-`: standard input) as a JSON object that is valid over the default config, else ValueError."""
    name = "standard input" if path == "-" else path
    raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    try:
        patch = parse_json_object(raw)
        KioskConfig.model_validate(merge_config(KioskConfig().model_dump(mode="json"), patch))
    except PayloadError as exc:
        raise ValueError(f"config {name}: {exc}") from None
    except ValidationError as exc:
        raise ValueError(f"config {name} refused: {describe_validation_error(exc)}") from None
    return patch


@dataclass
class Rollout:
    """Where a push or clear got to: each online kiosk's verdict (None: no answer) and the state of the rest."""

    verdicts: dict[str, ConfigState | BadPayload | None]
    offline: dict[str, str]

    @property
    def confirmed(self) -> bool:
        return all(isinstance(v, ConfigState) and v.status == "ok" for v in self.verdicts.values())


# What to send, from the payload the broker retains on the topic (None: none), the topic, and what the kiosks
# say; ValueError refuses.
Prepare = Callable[[bytes | None, str, FleetView], bytes]


def apply(broker: BrokerUrl | str, site: str, machine: str | None, prepare: Prepare | bytes,
          timeout: float) -> Rollout:
    """Retain a layer as the site's (`machine` None) or one machine's config; wait for the online kiosks' verdicts."""
    topic = site_config_set(site) if machine is None else MachineTopics(site, machine).kiosk_config_set
    view = FleetView(site, {"status": KIOSK_STATUS, "config": CONFIG_STATE, "info": KIOSK_INFO}, machine)
    retained: list[bytes] = []
    with connected(broker, timeout) as link:
        view.listen(link)
        link.subscribe(topic, lambda _topic, data, _props: retained.append(data), qos=1)
        time.sleep(SETTLE_S)
        payload = prepare if isinstance(prepare, bytes) else prepare(retained[-1] if retained else None, topic, view)
        online = view.online()
        sent_at = time.monotonic()
        if not link.publish_and_wait(topic, payload, qos=1, retain=True, timeout=timeout):
            raise CommandFailed(f"{link.broker} did not confirm the config on {topic} within {timeout:g} s")
        view.wait_until(lambda: all(_verdict(view, m, sent_at) is not None for m in online), timeout)
    known = view.machines() if machine is None else [machine]
    return Rollout({m: _verdict(view, m, sent_at) for m in online},
                   {m: view.kiosk_state(m) for m in known if m not in online})


def _verdict(view: FleetView, machine: str, sent_at: float) -> ConfigState | BadPayload | None:
    """The machine's config state if it came after the push (its answer to it), else None."""
    seen = view.latest(machine, "config")
    return seen.value if seen is not None and seen.at >= sent_at else None


def _layer(topic: str, retained: bytes | None) -> dict[str, Any] | None:
    """The layer retained on `topic` (None when there is none); ValueError when it is not a JSON object."""
    if not retained:
        return None
    try:
        return parse_json_object(retained)
    except PayloadError as exc:
        raise ValueError(f"the config retained on {topic} is not a config ({exc}); "
                         "--replace replaces it with the file") from None


def refusals(layer: dict[str, Any], view: FleetView) -> dict[str, str]:
    """The kiosks that would refuse `layer` for their own machine's floors, with why.

    A kiosk checks a pushed travel for its machine model against the travel it was set up with;
    seen from here that is the travel it applies now (its retained config state) or the default.
    """
    models = layer.get("machine_models")
    found: dict[str, str] = {}
    for machine in view.machines():
        info, state = view.value(machine, "info"), view.value(machine, "config")
        if not isinstance(info, KioskInfo) or not isinstance(models, dict):
            continue
        pushed = models.get(info.machine_model)
        if not isinstance(pushed, dict) or "travel_mm" not in pushed:
            continue
        applied = state.config.get("machine_models", {}) if isinstance(state, ConfigState) else {}
        own = applied.get(info.machine_model, {}) if isinstance(applied, dict) else {}
        local = own.get("travel_mm", MachineGeometry().travel_mm) if isinstance(own, dict) else None
        if isinstance(local, int | float):
            refusal = travel_refusal(info.machine_model, float(pushed["travel_mm"]), float(local))
            if refusal is not None:
                found[machine] = refusal
    return found


def layer_diff(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """One line per field that a push changes, adds or removes: `name: old -> new`."""
    old, new = _flat(before), _flat(after)
    return [f"  {key}: {_shown(old, key)} -> {_shown(new, key)}"
            for key in sorted(old.keys() | new.keys()) if old.get(key, _UNSET) != new.get(key, _UNSET)]


_UNSET = object()


def _flat(layer: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in layer.items():
        if isinstance(value, dict) and value:
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _shown(flat: dict[str, Any], key: str) -> str:
    return json.dumps(flat[key]) if key in flat else "(not set)"


def _push(args: argparse.Namespace) -> int:
    patch = read_partial_config(args.file)
    name = "standard input" if args.file == "-" else args.file
    changes: list[str] = []

    def prepare(retained: bytes | None, topic: str, view: FleetView) -> bytes:
        payload, diff = checked_layer(patch, retained, topic, view, replace=args.replace, force=args.force,
                                      name=name)
        changes.extend(diff)
        return payload

    how = "replaced its layer" if args.replace else "merged into its layer"
    return _apply_and_report(args, prepare, f"({how}, retained on the broker):", changes)


def checked_layer(patch: dict[str, Any], retained: bytes | None, topic: str, view: FleetView, *, replace: bool,
                  force: bool, name: str, unset: Sequence[str] = ()) -> tuple[bytes, list[str]]:
    """The layer to retain for a push of `patch`, checked as the kiosks will check it, and its changes in words.

    `unset`: dotted fields taken out of the layer, so the kiosks fall back to the layer below (a machine's
    to the site's, the site's to each kiosk's own config and the defaults); ValueError for one the layer does
    not set. ValueError, with the field and the floor named, when the kiosks would refuse the result (a
    floor can depend on another field): nothing is sent. The CLI's `config push` and `config unset` and
    the console's config page all push through here.
    """
    try:
        current = _layer(topic, retained)
    except ValueError:
        if not replace:
            raise
        current = None  # replaced whole: nothing of it to keep or to compare
    layer = patch if replace else merge_config(current or {}, patch)
    for field in unset:
        if _lookup(patch, field) is not _UNSET:
            raise ValueError(f"config {name}: {field} is both given a value and unset")
        layer = _without(layer, field)
    try:
        KioskConfig.model_validate(merge_config(KioskConfig().model_dump(mode="json"), layer))
    except ValidationError as exc:
        raise ValueError(f"config {name} merged into the retained layer is refused: "
                         f"{describe_validation_error(exc)} (--replace sends the file alone)") from None
    refused = {} if force else refusals(layer, view)
    if refused:
        machines, why = ", ".join(sorted(refused)), next(iter(refused.values()))
        raise ValueError(f"config {name} not sent: {machines} would refuse it: {why} "
                         "(--force sends it anyway)")
    changes = layer_diff(current or {}, layer) or ["  (no field changes)"]
    return json.dumps(layer, separators=(",", ":")).encode(), changes


def _lookup(layer: dict[str, Any], field: str) -> Any:
    node: Any = layer
    for part in field.split("."):
        if not isinstance(node, dict) or part not in node:
            return _UNSET
        node = node[part]
    return node


def _without(layer: dict[str, Any], field: str) -> dict[str, Any]:
    """`layer` less the dotted `field` (a table it leaves empty goes too); ValueError when it is not set."""
    if _lookup(layer, field) is _UNSET:
        raise ValueError(f"{field} is not set in this layer: it already comes from the layer below "
                         "(nothing to unset)")
    head, _, rest = field.partition(".")
    if not rest:
        return {k: v for k, v in layer.items() if k != head}
    inner = _without(layer[head], rest)
    return {k: v for k, v in layer.items() if k != head} | ({head: inner} if inner else {})


def _unset(args: argparse.Namespace) -> int:
    changes: list[str] = []

    def prepare(retained: bytes | None, topic: str, view: FleetView) -> bytes:
        payload, diff = checked_layer({}, retained, topic, view, replace=False, force=args.force,
                                      name="unset", unset=args.fields)
        changes.extend(diff)
        return payload

    return _apply_and_report(args, prepare, "(taken out of its layer, retained on the broker):", changes)


def _clear(args: argparse.Namespace) -> int:
    # An empty retained message deletes the push on the broker; kiosks fall back to the other layers.
    return _apply_and_report(args, b"", "(retained on the broker)", [])


def _apply_and_report(args: argparse.Namespace, prepare: Prepare | bytes, how: str, changes: list[str]) -> int:
    rollout = apply(args.broker, args.site, args.machine, prepare, args.timeout)
    where = f"site {args.site}" if args.machine is None else args.machine
    print(f"{'cleared the pushed config of' if prepare == b'' else 'pushed config to'} {where} {how}")
    for line in changes:
        print(line)
    for machine, verdict in rollout.verdicts.items():
        print(_verdict_text(machine, verdict, args.timeout))
    for machine, state in rollout.offline.items():
        print(f"{machine}: not online (its status: {state}); it takes the retained config when it connects")
    return 0 if rollout.confirmed else 1


def _verdict_text(machine: str, verdict: ConfigState | BadPayload | None, timeout: float) -> str:
    if verdict is None:
        return f"{machine}: no config state within {timeout:g} s"
    if isinstance(verdict, BadPayload):
        return f"{machine}: bad payload on its config state: {verdict.reason}"
    if verdict.status == "error":
        return f"{machine}: refused: {verdict.error}"
    return f"{machine}: applied, config version {verdict.version}"


def _show(args: argparse.Namespace) -> int:
    view = FleetView(args.site, {"config": CONFIG_STATE}, args.machine)
    with connected(args.broker) as link:
        view.listen(link)
        view.wait_until(lambda: view.value(args.machine, "config") is not None, args.wait)
    state = view.value(args.machine, "config")
    if state is None:
        raise CommandFailed(f"{args.machine} of site {args.site} has no config state on the broker "
                            f"(waited {args.wait:g} s)")
    if isinstance(state, BadPayload):
        raise CommandFailed(f"{args.machine}'s config state is a bad payload: {state.reason}")
    print(f"{args.machine}: {state.status}, config version {state.version}")
    if state.error:
        print(f"last push refused: {state.error}")
    print(json.dumps(state.config, indent=2))
    return 0


def _scope(parser: argparse.ArgumentParser) -> None:
    scope = parser.add_mutually_exclusive_group(required=True)
    scope.add_argument("--site-wide", action="store_true", help="every kiosk of the site")
    scope.add_argument("--machine", help="one kiosk's machine id")


def _broker_options(parser: argparse.ArgumentParser) -> None:
    add_site_and_broker(parser)
    parser.add_argument("--timeout", type=seconds, default=10.0,
                        help="seconds to wait for the broker and the kiosks (default: 10)")
