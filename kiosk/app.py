"""`legpress-kiosk`: the kiosk app. `--headless` runs the core with a text presenter."""

import argparse
import io
import logging
import signal
import sys
import threading

from kiosk import __version__
from kiosk.contract.events import SessionEndReason
from kiosk.core.headless_input import HeadlessInput
from kiosk.core.kiosk import Kiosk
from kiosk.core.settings import SettingsError, load_settings
from kiosk.core.text_presenter import TextPresenter

log = logging.getLogger("legpress-kiosk")


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="legpress-kiosk", description="Leg press kiosk")
    parser.add_argument("--headless", action="store_true",
                        help="run without a window; stdin takes codes, one a line, and the screen's buttons (/help)")
    parser.add_argument("--config", help="TOML settings file (default: $LEGPRESS_CONFIG)")
    parser.add_argument("--version", action="version", version=__version__)
    return parser.parse_args(argv)


def _read_stdin(kiosk: Kiosk) -> None:
    # A code goes through the core's repeat filter, like every source: a wedge scanner that reads a card
    # twice is one scan. A `/` line is one of the screen's buttons (`/help` lists them).
    typed = HeadlessInput(kiosk)
    # Decoded leniently: a scanner's stray byte must not end the reading (a strict decoder would raise).
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="replace")
    for line in sys.stdin:
        try:
            answer = typed.line(line)
        except Exception:  # one bad line never stops the next from being read
            log.exception("typed line not handled")
            continue
        if answer:
            for part in answer.splitlines():
                log.info("typed: %s", part)


def run_headless(kiosk: Kiosk) -> int:
    stop = threading.Event()
    why: list[SessionEndReason] = ["shutdown"]
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    def restart() -> None:
        why[0] = "command"
        stop.set()

    def member_language() -> str | None:
        member = kiosk.snapshot.member
        return member.language if member else None

    kiosk.observe(TextPresenter(lambda line: log.info("screen: %s", line), member_language,
                                lambda: kiosk.config.languages[0], lambda: kiosk.config.load_unit))
    # `restart` command: leave cleanly; the service manager (deploy/legpress-kiosk.service) starts us again.
    kiosk.on_restart = restart
    kiosk.start()
    threading.Thread(target=_read_stdin, args=(kiosk,), name="stdin", daemon=True).start()
    log.info("kiosk %s/%s running headless against %s",
             kiosk.settings.site, kiosk.settings.machine, kiosk.settings.broker_url)
    stop.wait()
    log.info("stopping (%s)", "restart command" if why[0] == "command" else "signal")
    kiosk.stop(why[0])
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    try:
        settings = load_settings(args.config)
    except SettingsError as exc:
        print(f"legpress-kiosk: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    try:
        kiosk = Kiosk(settings)
    except OSError as exc:
        # Settings were fine on paper but the disk says no (read-only card, permissions).
        print(f"legpress-kiosk: cannot use data folder {settings.data_dir} (LEGPRESS_DATA_DIR): {exc}", file=sys.stderr)
        return 2
    if args.headless:
        return run_headless(kiosk)
    from kiosk.ui.main import run_window

    return run_window(kiosk)


if __name__ == "__main__":
    sys.exit(main())
