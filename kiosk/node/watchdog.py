"""systemd's notify protocol, for `Type=notify` and `WatchdogSec=`: ready, alive, stopping.

The watchdog is fed from the sampling loop itself, so a loop that hangs (a stuck I2C transfer) gets the
node restarted, not just a process that died.
"""

import os
import socket


class ServiceNotifier:
    """Datagrams to $NOTIFY_SOCKET; does nothing when not started by systemd."""

    def __init__(self, address: str | None) -> None:
        if address and address.startswith("@"):
            address = "\0" + address[1:]  # an abstract socket
        self._address = address

    @classmethod
    def from_environment(cls) -> "ServiceNotifier":
        return cls(os.environ.get("NOTIFY_SOCKET"))

    def ready(self) -> None:
        self._send("READY=1")

    def alive(self) -> None:
        self._send("WATCHDOG=1")

    def stopping(self) -> None:
        self._send("STOPPING=1")

    def _send(self, message: str) -> None:
        if not self._address:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto(message.encode(), self._address)
        except OSError:
            pass  # systemd gone (a shutdown): nothing to tell
