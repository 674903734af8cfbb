"""`legpress-node`: measure the leg press and publish it for the kiosk, until stopped.

Exit 2, with one line on stderr, for a setting that cannot work (a bad pin, a broker URL) or a part that is
not there (no VL53L1X on the bus, no GPIO on this machine); the service manager then does not restart it
in a loop, and the technician reads why in `journalctl -u legpress-node`.
"""

import argparse
import logging
import signal
import sys
import threading
import time
import warnings

from gpiozero import BadPinFactory, GPIOZeroError, PinFactoryFallback

from kiosk.node.faults import HardwareFault
from kiosk.node.node import SensorNode
from kiosk.node.parts import FIRMWARE, build_node
from kiosk.node.settings import ENV_PREFIX, SettingsError, load_node_settings
from kiosk.node.watchdog import ServiceNotifier

log = logging.getLogger("legpress-node")

# `--check` waits this long for a first range from a time-of-flight sensor.
CHECK_WAIT_S = 1.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="legpress-node", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--config", metavar="FILE", help=f"TOML settings (default: ${ENV_PREFIX}CONFIG); "
                                                         f"{ENV_PREFIX}* variables override it")
    parser.add_argument("--check", action="store_true",
                        help="check the settings and open the parts, print what was found, and exit")
    parser.add_argument("--version", action="version", version=FIRMWARE)
    return parser.parse_args(argv)


def check(node: SensorNode) -> int:
    """One reading of every part, for the technician wiring it up (and the distances to calibrate a ToF)."""
    deadline = time.monotonic() + CHECK_WAIT_S
    try:
        travel = node.sled.read()
        while travel is None and time.monotonic() < deadline:
            time.sleep(0.01)  # the sensor's next range is due within its timing budget
            travel = node.sled.read()
    except HardwareFault as exc:
        print(f"legpress-node: {exc}", file=sys.stderr)
        return 2
    finally:
        node.sled.close()
    distance = getattr(node.sled, "last_distance_mm", None)
    seen = f"{travel:.1f} mm" if travel is not None else "nothing yet"
    raw = f" (sensor distance {distance:.0f} mm)" if distance is not None else ""
    pads = ", ".join(f"{p.zone} {'lifted' if p.raw_lifted else 'pressed'}" for p in node.pads) or "none"
    print(f"legpress-node: sled travel {seen}{raw}; pads: {pads}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        settings = load_node_settings(args.config)
    except SettingsError as exc:
        print(f"legpress-node: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    # gpiozero warns once per pin library it cannot load before it gives up or settles; the one line
    # below says what matters.
    warnings.simplefilter("ignore", PinFactoryFallback)
    try:
        node = build_node(settings)
    except BadPinFactory as exc:
        print(f"legpress-node: no GPIO on this machine ({exc}); on a Raspberry Pi install python3-lgpio "
              "(or the 'pi' extra), elsewhere GPIOZERO_PIN_FACTORY=mock", file=sys.stderr)
        return 2
    except (HardwareFault, GPIOZeroError, ValueError) as exc:
        print(f"legpress-node: {exc}", file=sys.stderr)
        return 2
    if args.check:
        return check(node)
    stop = threading.Event()
    # systemd stops us with SIGTERM; the node must still say `disconnected`.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    notifier = ServiceNotifier.from_environment()
    node.on_window = notifier.alive
    # Measuring starts at once; the broker may come later (lift-offs wait for it, depth does not).
    node.link.connect()
    notifier.ready()
    log.info("%s measuring %s at %g Hz for %s", FIRMWARE, settings.sled.kind, settings.rate_hz, node.link.topics.root)
    try:
        node.run(stop)
    except KeyboardInterrupt:
        pass
    finally:
        notifier.stopping()
        node.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
