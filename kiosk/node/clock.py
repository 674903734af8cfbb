"""The node's timestamps: Unix time that never runs backwards between two samples."""

import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

# A wall clock this far from where the monotonic clock says it should be has been stepped (NTP after a
# boot without a real-time clock): the node follows it once rather than drift from the kiosk for ever.
STEP_S = 1.0


class NodeClock:
    """`ts(mono)`: the Unix time of a monotonic instant, anchored once and moved only by a clock step.

    The contract wants `ts` on the sender's clock in Unix seconds; reading `time.time()` per sample would
    let an NTP slew or step reorder samples, so every stamp comes from the monotonic clock instead.
    """

    def __init__(self, wall: Callable[[], float] = time.time, mono: Callable[[], float] = time.monotonic):
        self._wall, self._mono = wall, mono
        self.steps = 0
        self._offset = wall() - mono()

    def ts(self, mono: float) -> float:
        return mono + self._offset

    def check(self) -> None:
        """Follow a stepped wall clock (called about once a second, not per sample)."""
        offset = self._wall() - self._mono()
        if abs(offset - self._offset) > STEP_S:
            self.steps += 1
            log.warning("wall clock stepped by %+.1f s; timestamps follow it", offset - self._offset)
            self._offset = offset
