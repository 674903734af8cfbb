"""The real sensor node on gpiozero's mock pins, with a member played into them from the simulator's traces.

`bash deploy/demo.sh --node-mock` runs the whole chain on a laptop: trace -> pins -> `legpress-node`'s
code -> broker -> kiosk. Each scenario's recorded sled motion turns the mock encoder (its depth samples,
at their own times) and its lift-off events open and close the lumbar pad's switch, with contact bounce;
what reaches the broker is what the node made of the pins, not the trace's own messages.

    python -m kiosk.dev.node_mock --broker mqtt://127.0.0.1:1883 --site demo --machine lp1 --scenario butt-wink
"""

import argparse
import logging
import signal
import sys
import threading
import time
from typing import Any

from gpiozero.pins.mock import MockFactory

from kiosk.contract.base import decode
from kiosk.contract.sensor import DepthSample, LiftoffEvent
from kiosk.dev.mock_parts import EncoderWire, PadSwitchPin
from kiosk.mqtt.connection import add_broker_options
from kiosk.node.node import SensorNode
from kiosk.node.parts import build_node
from kiosk.node.settings import EncoderSled, PadSwitch, SettingsError, load_node_settings
from kiosk.sim.traces import SCENARIOS, generate

COUNTS_PER_MM = 2.0


def play(trace_scenario: str, seed: int, wire: EncoderWire, pads: dict[str, PadSwitchPin],
         stop: threading.Event) -> None:
    """Move the pins through one scenario at the pace it was recorded."""
    trace = generate(trace_scenario, seed, start_ts=time.time())
    start, first = time.monotonic(), trace.items[0].ts if trace.items else 0.0
    for item in trace.items:
        delay = (item.ts - first) - (time.monotonic() - start)
        if delay > 0 and stop.wait(delay):
            return
        if item.kind == "depth":
            wire.move_to(max(0.0, decode(DepthSample, item.payload).mm))
        else:
            event = decode(LiftoffEvent, item.payload)
            pads[event.zone].change(lifted=event.state == "start")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="node-mock", description=__doc__.splitlines()[0])
    add_broker_options(parser, default_note=", else mqtt://127.0.0.1:1883",
                       secrets="the sensor node's secrets/sensor-<machine>.toml")
    parser.add_argument("--site", default="demo")
    parser.add_argument("--machine", default="lp1")
    parser.add_argument("--scenario", default="good,butt-wink",
                        help=f"scenarios played in turn, again and again: {', '.join(SCENARIOS)}")
    parser.add_argument("--rate", type=float, default=50.0, help="the node's depth rate (default 50)")
    parser.add_argument("--once", action="store_true", help="play the scenarios once, then stop")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    scenarios = [name.strip() for name in args.scenario.split(",") if name.strip()]
    unknown = [name for name in scenarios if name not in SCENARIOS]
    overrides: dict[str, Any] = {"site": args.site, "machine": args.machine, "rate_hz": args.rate,
                                    "sled": {"counts_per_mm": COUNTS_PER_MM}}
    for key, value in (("broker", args.broker), ("broker_ca", args.broker_ca),
                       ("broker_secrets", args.broker_secrets)):
        if value:
            overrides[key] = value
    try:
        if unknown or not scenarios:
            raise SettingsError(f"unknown scenario {', '.join(unknown) or args.scenario!r}")
        settings = load_node_settings(**overrides)
    except SettingsError as exc:
        print(f"node-mock: {exc}", file=sys.stderr)
        return 2
    pins = MockFactory()
    node: SensorNode = build_node(settings, pin_factory=pins)
    sled = settings.sled
    assert isinstance(sled, EncoderSled)
    wire = EncoderWire(pins, sled.pin_a, sled.pin_b, COUNTS_PER_MM)
    pads = {zone: PadSwitchPin(pins, pad.pin, pressed=True)
            for zone, pad in (("lumbar", settings.lumbar), ("pelvis", settings.pelvis))
            if isinstance(pad, PadSwitch) and pad.pin is not None}
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    node.link.connect()
    beat = threading.Thread(target=node.run, args=(stop,), name="node-beat", daemon=True)
    beat.start()
    print(f"node-mock: legpress-node on mock pins for {node.link.topics.root}, playing {', '.join(scenarios)}",
          flush=True)
    seed = 0
    try:
        while not stop.is_set():
            for scenario in scenarios:
                play(scenario, seed, wire, pads, stop)
                if stop.is_set():
                    break
                print(f"node-mock: {scenario} seed {seed} played; {node.stats.samples} samples, "
                      f"{node.stats.events} lift-off events so far", flush=True)
            seed += 1
            if args.once:
                break
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        beat.join(5)
        node.close()
        pins.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
