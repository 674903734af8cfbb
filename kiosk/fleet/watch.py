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

`--type` keeps the lines of the named kinds (event types, `status`, `sensor`,
`bridge`), `--min-severity` those at least that severe: a cue's own severity,
`stop` for a pain report, `warn` for a sensor fault and for a kiosk lost,
stale or cut off from the site, `info` for the rest.
"""

import argparse
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, get_args

from kiosk.contract.events import (
    SEVERITY_ORDER,
    CueRaised,
    KioskEvent,
    PainReport,
    ScanRejected,
    SensorFault,
    Severity,
    severity_rank,
)
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
# Every kind of line `--type` can keep: the kiosk's event types, then what watch says of status.
EVENT_TYPES = tuple(get_args(model.model_fields["type"].annotation)[0]
                    for model in get_args(get_args(KioskEvent)[0]))
LINE_TYPES = (*EVENT_TYPES, "status", "sensor", "bridge")


def line_types(text: str) -> frozenset[str]:
    """`--type`: comma-separated kinds of line; an unknown one is named with the list to choose from."""
    chosen = frozenset(t.strip() for t in text.split(",") if t.strip())
    unknown = sorted(chosen - set(LINE_TYPES))
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"{', '.join(unknown) or repr(text)} is not a kind of line; "
                                         f"choose from {', '.join(LINE_TYPES)}")
    return chosen


def line_severity(name: str, value: Any) -> Severity:
    """How urgent a line is for `--min-severity` (see the module's docstring)."""
    if isinstance(value, CueRaised):
        return value.severity
    if isinstance(value, PainReport):
        return "stop"
    if isinstance(value, SensorFault):
        return "warn"
    if name == "status" and isinstance(value, KioskStatus) and value.state == "lost":
        return "warn"
    if name == "bridge" and value is False:
        return "warn"
    return "info"


def register(commands: "argparse._SubParsersAction[FleetParser]") -> None:
    watch = commands.add_parser("watch", help="follow a site's kiosk events and status changes until Ctrl-C")
    add_site_and_broker(watch)
    watch.add_argument("--machine", help="only this machine (default: every machine of the site)")
    watch.add_argument("--type", type=line_types, metavar="TYPES",
                       help=f"only these kinds of line, comma-separated: {', '.join(LINE_TYPES)}")
    watch.add_argument("--min-severity", choices=SEVERITY_ORDER, default="info",
                       help="only lines at least this severe: warn (warnings, faults, kiosks lost or stale) or "
                            "stop (stop cues and pain reports); default: info, everything")
    watch.set_defaults(run=_watch)


class EventLog:
    """Turns what the fleet publishes into lines, in the words the kiosk's own screen uses."""

    def __init__(self, write: Callable[[str], None], clock: Callable[[], float] = time.time,
                 types: frozenset[str] | None = None, min_severity: Severity = "info"):
        self._write = write
        self._clock = clock
        self._types = types
        self._min_rank = severity_rank(min_severity)
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
                self._line(machine, "warn", f"kiosk stale: its ready status is {now - status.ts:.0f} s old and it "
                                    f"refreshes it every {status.heartbeat_s:g} s; its app is not running "
                                    "(its broker is)")
            elif not stale and machine in self._stale:
                self._stale.discard(machine)
                # A Will (`lost`) or goodbye has its own status line; only a live kiosk is news here.
                if view.kiosk_state(machine, now) == "ready":
                    self._line(machine, "info", "kiosk heard again (ready)")

    def _shown(self, kind: str, severity: Severity) -> bool:
        return (self._types is None or kind in self._types) and severity_rank(severity) >= self._min_rank

    def _line(self, machine: str, severity: Severity, text: str) -> None:
        if not self._shown("status", severity):
            return
        self.lines += 1
        self._write(escape_controls(f"{_clock_time(self._clock())} {machine}  {text}"))

    def __call__(self, machine: str, name: str, value: Any, previous: Seen | None) -> None:
        if isinstance(value, BadPayload):
            self.bad_payloads += 1
            self._write(escape_controls(f"warning: bad payload on {value.topic}: {value.reason}"))
            return
        # Described even when not shown: a set's advice at its end needs every cue of the set.
        text = self._describe(machine, name, value, None if previous is None else previous.value)
        kind = value.type if name == "event" else name
        if text is not None and self._shown(kind, line_severity(name, value)):
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
            if isinstance(before, KioskStatus) and (
                    (before.state, before.mode, before.reason) == (value.state, value.mode, value.reason)):
                return None
            why = f": {value.reason}" if value.mode == "out_of_order" and value.reason else ""
            return f"kiosk {value.state}, mode {value.mode}{why} (version {value.version}, boot {value.boot})"
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
           write: Callable[[str], None], say: Callable[[str], None] | None = None,
           types: frozenset[str] | None = None, min_severity: Severity = "info") -> EventLog:
    """Write a line per event and status change until `stop` is set; returns the counts.

    `say` gets the lines about the broker itself (going away, coming back).
    """
    say = say or write
    log = EventLog(write, types=types, min_severity=min_severity)
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
        log = follow(args.broker, args.site, args.machine, stop, _print_line, _say, args.type, args.min_severity)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print(f"watched {log.lines} lines, {log.bad_payloads} bad payloads", file=sys.stderr)
    return 0
