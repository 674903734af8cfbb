"""`legpress-fleet watch`: a site's kiosk events and status changes as they happen, one line each.

Each line is stamped with when it arrived: a status `lost` is the sender's Will,
written when it connected, so its own time says nothing about the loss. A
kiosk whose `ready` goes unrefreshed for 2.5 heartbeats, with no telemetry or
event meanwhile, is said to be stale (its app is not running though its broker
is), and said again when it is heard. An
event that arrives long after its own time (queued while its kiosk was cut
off) says when it happened too. When the broker goes away, watch says so in
words and keeps trying; what was published meanwhile is not shown (the
recorder keeps it).
"""

import argparse
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kiosk.contract.events import ScanRejected
from kiosk.contract.kiosk import KioskStatus
from kiosk.contract.sensor import SensorStatus
from kiosk.contract.text import escape_controls
from kiosk.fleet.view import (
    KIOSK_BRIDGE,
    KIOSK_EVENTS,
    KIOSK_STATUS,
    KIOSK_TELEMETRY,
    SENSOR_STATUS,
    BadPayload,
    FleetView,
    Seen,
)
from kiosk.mqtt.broker_url import BrokerUrl
from kiosk.mqtt.connection import add_site_and_broker, connected
from kiosk.words.event_lines import EventLines

if TYPE_CHECKING:
    from kiosk.fleet.parser import FleetParser

# Telemetry is not shown; it is the heartbeat that tells a live kiosk from a stale one.
SOURCES = {"event": KIOSK_EVENTS, "status": KIOSK_STATUS, "sensor": SENSOR_STATUS, "bridge": KIOSK_BRIDGE,
           "telemetry": KIOSK_TELEMETRY}
# An event this much older than its arrival was held back somewhere; the line says when it happened.
LATE_S = 60.0
LINK_CHECK_S = 0.2


def register(commands: "argparse._SubParsersAction[FleetParser]") -> None:
    watch = commands.add_parser("watch", help="follow a site's kiosk events and status changes until Ctrl-C")
    add_site_and_broker(watch)
    watch.add_argument("--machine", help="only this machine (default: every machine of the site)")
    watch.set_defaults(run=_watch)


class EventLog:
    """Turns what the fleet publishes into lines, in the words the kiosk's own screen uses."""

    def __init__(self, write: Callable[[str], None], clock: Callable[[], float] = time.time):
        self._write = write
        self._clock = clock
        # One per machine: it remembers a set's cues to advise at the set's end.
        self._lines: dict[str, EventLines] = {}
        self.lines = 0
        self.bad_payloads = 0
        self._stale: set[str] = set()

    def check_liveness(self, view: FleetView) -> None:
        """Say when a kiosk turns stale, and when it is heard again (called from the watch loop)."""
        now = self._clock()
        for machine in view.machines():
            stale = view.kiosk_state(machine, now) == "stale"
            status = view.value(machine, "status")
            if stale and machine not in self._stale and isinstance(status, KioskStatus):
                self._stale.add(machine)
                self._line(machine, f"kiosk stale: its ready status is {now - status.ts:.0f} s old and it "
                                    f"refreshes it every {status.heartbeat_s:g} s; its app is not running "
                                    "(its broker is)")
            elif not stale and machine in self._stale:
                self._stale.discard(machine)
                # A Will (`lost`) or goodbye has its own status line; only a live kiosk is news here.
                if view.kiosk_state(machine, now) == "ready":
                    self._line(machine, "kiosk heard again (ready)")

    def _line(self, machine: str, text: str) -> None:
        self.lines += 1
        self._write(escape_controls(f"{_clock_time(self._clock())} {machine}  {text}"))

    def __call__(self, machine: str, name: str, value: Any, previous: Seen | None) -> None:
        if isinstance(value, BadPayload):
            self.bad_payloads += 1
            self._write(escape_controls(f"warning: bad payload on {value.topic}: {value.reason}"))
            return
        text = self._describe(machine, name, value, None if previous is None else previous.value)
        if text is not None:
            self.lines += 1
            arrived = self._clock()
            if name == "event" and arrived - value.ts > LATE_S:
                text += f" (happened {_clock_time(value.ts)})"
            # Escaped: what kiosks send must never move the cursor, retitle the terminal or forge a line.
            self._write(escape_controls(f"{_clock_time(arrived)} {machine}  {text}"))

    def _describe(self, machine: str, name: str, value: Any, before: Any) -> str | None:
        if name == "telemetry":
            return None
        if name == "status":
            if isinstance(before, KioskStatus) and (before.state, before.mode) == (value.state, value.mode):
                return None
            return f"kiosk {value.state}, mode {value.mode} (version {value.version}, boot {value.boot})"
        if name == "bridge":
            if before == value or (before is None and value):
                return None  # a link that is up says nothing new; only losing it, and getting it back, are news
            return "kiosk broker bridged to the site again" if value else (
                "kiosk broker lost by the site (no power, or no network): its status above is what it last said")
        if name == "sensor":
            if isinstance(before, SensorStatus) and before.state == value.state:
                return None
            return f"sensor {value.state}" + (f", {value.rate_hz:g} Hz" if value.state == "ready" else "")
        if isinstance(value, ScanRejected):
            return f"scan rejected ({value.reason})" + (f": {value.detail}" if value.detail else "")
        return self._lines.setdefault(machine, EventLines()).describe(value) or value.type


def _clock_time(ts: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ts))


def follow(broker: BrokerUrl | str, site: str, machine: str | None, stop: threading.Event,
           write: Callable[[str], None], say: Callable[[str], None] | None = None) -> EventLog:
    """Write a line per event and status change until `stop` is set; returns the counts.

    `say` gets the lines about the broker itself (going away, coming back).
    """
    say = say or write
    log = EventLog(write)
    view = FleetView(site, SOURCES, machine, on_message=log)
    with connected(broker) as link:
        view.listen(link)
        up = True
        while not stop.wait(LINK_CHECK_S):
            log.check_liveness(view)
            if up and not link.connected:
                say(f"{_clock_time(time.time())} lost the broker {link.broker}: check that it is running and "
                    "reachable from here; retrying until it is back (Ctrl-C to stop)")
            elif not up and link.connected:
                say(f"{_clock_time(time.time())} reconnected to {link.broker}; what was published meanwhile "
                    "is not shown here (legpress-fleet report has it, from the recorder)")
            up = link.connected
    return log


def _print_line(line: str) -> None:
    # Flushed per line: watch is mostly piped into a file or `grep`, where output is block-buffered.
    print(line, flush=True)


def _say(line: str) -> None:
    print(escape_controls(line), file=sys.stderr, flush=True)


def _watch(args: argparse.Namespace) -> int:
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        log = follow(args.broker, args.site, args.machine, stop, _print_line, _say)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print(f"watched {log.lines} lines, {log.bad_payloads} bad payloads", file=sys.stderr)
    return 0
