"""The kiosk's mode (idle, a member's session, maintenance, out of order) and why it is in it.

One home for the mode a kiosk rests in between members (out of order while an operator's reason
stands, idle otherwise) and for maintenance left untouched: a technician who walks away must not
leave the machine closed to members. Core thread only; the owner is told of every change (presence
publishes the new status).
"""

import logging
from collections.abc import Callable

from kiosk.contract.kiosk import KioskMode

log = logging.getLogger(__name__)

# Maintenance left untouched this many idle timeouts (7.5 min by default) was forgotten, not in use.
MAINTENANCE_IDLE_FACTOR = 5


class Modes:
    """The mode, the operator's out-of-order reason, and when maintenance was last touched."""

    def __init__(self, now: Callable[[], float], on_change: Callable[[KioskMode], None]) -> None:
        """`on_change(mode)`: the mode just became `mode`."""
        self.mode: KioskMode = "idle"
        self.out_of_order_reason: str | None = None
        self._now = now
        self._on_change = on_change
        self._maintenance_active_at = 0.0  # last touch or sled movement while in maintenance

    def resting(self) -> KioskMode:
        """Where the kiosk goes when a session or maintenance ends."""
        return "out_of_order" if self.out_of_order_reason else "idle"

    def set(self, mode: KioskMode) -> None:
        if mode == self.mode:
            return
        self.mode = mode
        if mode == "maintenance":
            self._maintenance_active_at = self._now()
        self._on_change(mode)

    def rest(self) -> None:
        self.set(self.resting())

    def toggle_maintenance(self) -> None:
        """A staff code: into maintenance, or out of it again."""
        if self.mode == "maintenance":
            self.rest()
        else:
            self.set("maintenance")

    def leave_maintenance(self) -> None:
        if self.mode == "maintenance":
            self.rest()

    def out_of_order(self, reason: str) -> None:
        """An operator's reason stands until `in_service`.

        A technician in maintenance stays in it; a member's session is ended by the caller right after,
        and its end rests the kiosk out of order (one status change, after the `session_end`).
        """
        self.out_of_order_reason = reason
        if self.mode not in ("maintenance", "session"):
            self.set("out_of_order")

    def in_service(self) -> None:
        self.out_of_order_reason = None
        if self.mode == "out_of_order":
            self.set("idle")

    def maintenance_touched(self, at: float) -> None:
        if self.mode == "maintenance":
            self._maintenance_active_at = at

    def tick(self, now: float, idle_timeout_s: float) -> None:
        untouched = now - self._maintenance_active_at
        if self.mode == "maintenance" and untouched >= idle_timeout_s * MAINTENANCE_IDLE_FACTOR:
            log.info("maintenance left untouched; leaving it")
            self.rest()
