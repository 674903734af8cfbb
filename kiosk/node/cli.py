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
import warnings

from gpiozero import BadPinFactory, GPIOZeroError, PinFactoryFallback

from kiosk.node.faults import HardwareFault
from kiosk.node.parts import FIRMWARE, build_node
from kiosk.node.settings import ENV_PREFIX, SettingsError, load_node_settings
from kiosk.node.watchdog import ServiceNotifier

log = logging.getLogger("legpress-node")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="legpress-node", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--config", metavar="FILE", help=f"TOML settings (default: ${ENV_PREFIX}CONFIG); "
                                                         f"{ENV_PREFIX}* variables override it")
    parser.add_argument("--check", action="store_true",
                        help="check the settings and open the parts, print what was found, and exit")
    parser.add_argument("--version", action="version", version=FIRMWARE)
    return parser.parse_args(argv)


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
        print(f"legpress-node: no GPIO on this machine ({exc}); on a Raspberry Pi install the 'pi' extra "
              "(lgpio), elsewhere GPIOZERO_PIN_FACTORY=mock", file=sys.stderr)
        return 2
    except (HardwareFault, GPIOZeroError, ValueError) as exc:
        print(f"legpress-node: {exc}", file=sys.stderr)
        return 2
    if args.check:
        first = node.sled.read()
        print(f"legpress-node: {settings.sled.kind} sled reads {first} mm; pads: "
              + (", ".join(f"{p.zone} {'lifted' if p.raw_lifted else 'pressed'}" for p in node.pads) or "none"))
        node.sled.close()
        return 0
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
