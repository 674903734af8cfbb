"""Unit `service manager`: owns no topic; tells systemd (sd_notify) when the kiosk is ready and that it lives.

Under `Type=notify` systemd waits for `READY=1` before it counts the kiosk
as started; with `WatchdogSec=` it restarts the kiosk when `WATCHDOG=1`
stops coming. So:

- `READY=1` is sent once, from the core thread, after the link's first
  connect (the broker accepted the kiosk and acknowledged every
  subscription, and presence has announced `ready`): an upgrade the
  installer checks this way is one that reached its broker.
- `WATCHDOG=1` is sent from the core thread's tick, at most every half
  `WATCHDOG_USEC`: a core thread stuck in one job ticks no more and the
  pings stop. Nothing on another thread pings, so a live paho thread cannot
  hide a dead core.
- `STOPPING=1` on stop, so systemd does not read the exit as a crash.

The protocol is one datagram per message to the AF_UNIX socket named by
`NOTIFY_SOCKET` (a leading `@` is Linux's abstract namespace). Outside
systemd (no `NOTIFY_SOCKET`) the unit does nothing. A failed send is logged
once and counted, never raised: the kiosk keeps serving members whatever
happens to the service manager.
"""

import logging
import os
import socket
import time
from collections.abc import Callable, Mapping

from kiosk.core.unit import Unit, Wiring

log = logging.getLogger(__name__)


def notify_address(name: str) -> str | bytes:
    """The socket address of a `NOTIFY_SOCKET` value: a path, or an abstract name for a leading `@`."""
    if name.startswith("@"):
        return b"\0" + name[1:].encode()
    return name


class ServiceNotifier(Unit):
    """sd_notify for the kiosk: READY=1 after the first connect, WATCHDOG=1 from the core's tick, STOPPING=1."""

    def __init__(self, wiring: Wiring, environ: Mapping[str, str] | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        super().__init__(wiring)
        self._environ = environ
        self._monotonic = monotonic
        self._address: str | bytes | None = None
        self._socket: socket.socket | None = None
        self.watchdog_every_s: float | None = None
        self.ready_sent = False
        self.pings = 0
        self.send_errors = 0
        self._next_ping = 0.0

    def start(self) -> None:
        environ = os.environ if self._environ is None else self._environ
        name = environ.get("NOTIFY_SOCKET", "")
        if not name:
            return
        self._address = notify_address(name)
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        self.watchdog_every_s = watchdog_interval(environ)
        # The hook runs on paho's thread; READY goes out from the core thread, proving it runs too.
        self.wiring.link.on_connect(lambda: self.wiring.inbox.post(self._ready))
        log.info("service manager: notify socket %s, watchdog %s", name,
                 f"every {self.watchdog_every_s:g} s" if self.watchdog_every_s else "off")

    def tick(self, now: float) -> None:
        if self.watchdog_every_s is None:
            return
        at = self._monotonic()
        if at >= self._next_ping:
            self._next_ping = at + self.watchdog_every_s
            if self._send("WATCHDOG=1"):
                self.pings += 1

    def stop(self) -> None:
        if self._socket is None:
            return
        self._send("STOPPING=1")
        self._socket.close()
        self._socket = None

    def _ready(self) -> None:
        if not self.ready_sent and self._send("READY=1"):
            self.ready_sent = True

    def _send(self, message: str) -> bool:
        if self._socket is None or self._address is None:
            return False
        try:
            self._socket.sendto(message.encode(), self._address)
        except OSError as exc:
            self.send_errors += 1
            if self.send_errors == 1:
                log.warning("service manager: cannot send %s to the notify socket: %s", message, exc)
            return False
        return True


def watchdog_interval(environ: Mapping[str, str]) -> float | None:
    """Half of `WATCHDOG_USEC` in seconds, as systemd advises; None when no watchdog is set for this process."""
    usec = environ.get("WATCHDOG_USEC", "")
    pid = environ.get("WATCHDOG_PID", "")
    # WATCHDOG_PID names the process the watchdog is for; a child that inherited it must not ping.
    if not usec.isdigit() or int(usec) == 0 or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 2_000_000
