"""`legpress-sim`: play a scenario as the machine's sensor node would, to a real broker."""

import argparse
import logging
import signal
import sys
import threading
import time

from kiosk.mqtt.broker_url import resolve_broker
from kiosk.mqtt.connection import add_broker_options
from kiosk.mqtt.sensor_link import NodeOffline
from kiosk.sim.node import MAX_SEND_HZ, SensorNode
from kiosk.sim.traces import SCENARIOS, generate


def _scenarios(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown scenario {', '.join(unknown) or text!r}; "
                                         f"choose from {', '.join(SCENARIOS)}")
    return names


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="legpress-sim", description=__doc__)
    add_broker_options(parser, default_note=", else mqtt://127.0.0.1:1883",
                       secrets="the sensor node's secrets/sensor-<machine>.toml")
    parser.add_argument("--site", default="demo")
    parser.add_argument("--machine", default="lp1")
    parser.add_argument("--scenario", default="good", type=_scenarios,
                        help=f"one of {', '.join(SCENARIOS)}, or several separated by commas, played in turn")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rate", type=float, default=None,
                        help="depth samples per second (default: drawn from the seed, 20-100)")
    pace = parser.add_mutually_exclusive_group()
    pace.add_argument("--realtime", dest="realtime", action="store_true", default=True,
                      help="send at the pace of the trace's timestamps (default)")
    pace.add_argument("--fast", dest="realtime", action="store_false",
                      help=f"send as fast as a kiosk takes a sensor ({MAX_SEND_HZ:.0f} messages a second)")
    # A kiosk takes far more than a sensor sends as a flood and stops taking depth for a moment (a babbling
    # node must not delay lift-offs), so the simulator never sends faster than MAX_SEND_HZ, whatever the pace.
    parser.add_argument("--speed", type=float, default=1.0,
                        help="with --realtime, play this many times faster than the trace's timestamps (1-20)")
    parser.add_argument("--loop", action="store_true", help="play again and again (next seed each time) until stopped")
    args = parser.parse_args(argv)
    if args.rate is not None and not 1 <= args.rate <= MAX_SEND_HZ:
        parser.error(f"--rate must be between 1 and {MAX_SEND_HZ:.0f}")
    if not 1 <= args.speed <= 20:
        parser.error("--speed must be between 1 and 20")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    # The demo and systemd stop us with SIGTERM; it must still say `disconnected`.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        broker = resolve_broker(args.broker, args.broker_ca, args.broker_secrets)
        node = SensorNode(broker, args.site, args.machine)
        node.start()
    except (ValueError, NodeOffline) as exc:
        print(f"legpress-sim: {exc}", file=sys.stderr)
        return 2
    seed, turn = args.seed, 0
    try:
        while not stop.is_set():
            scenario = args.scenario[turn % len(args.scenario)]
            # Timestamps are the sensor's own clock: start each play at the wall time.
            trace = generate(scenario, seed, rate_hz=args.rate, start_ts=time.time())
            sent = node.play(trace, realtime=args.realtime, stop=stop, speed=args.speed)
            print(f"legpress-sim: {scenario} seed {seed}: {sent} messages, {trace.truth.reps} reps "
                  f"at {trace.rate_hz:.0f} Hz to {node.topics.root}", flush=True)
            turn += 1
            if not args.loop and turn >= len(args.scenario):
                break
            seed += 1
    except KeyboardInterrupt:
        pass
    finally:
        node.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
