"""The sensor unit's sink (`SensorSink`): every believed sample and lift-off to the member's training,
and the sled's movement as the activity that keeps a session or maintenance alive.

Built after `Training` and before the sensor unit, and handed to its constructor: the sample path
runs sensor -> here -> training -> cue engine without climbing back to the kiosk.
"""

from collections.abc import Callable

from kiosk.contract.sensor import DepthSample, LiftoffEvent
from kiosk.core.machine.models import ACTIVITY_MM
from kiosk.core.modes import Modes
from kiosk.core.training.training import Training


class SledWatch:
    """Feeds the training part from the sensor and tells who is still there (core thread only)."""

    def __init__(self, training: Training, modes: Modes, now: Callable[[], float]) -> None:
        self._training = training
        self._now = now
        self._modes = modes
        self._last_activity_mm: float | None = None  # where the sled was when it last counted as activity

    def touched(self, at: float | None = None) -> None:
        """Someone is there (a touch, the sled moving, a lift-off): a session or maintenance stays open."""
        at = self._now() if at is None else at
        if self._training.session:
            self._training.touched(at)
        else:
            self._modes.maintenance_touched(at)

    def follow_from(self, mm: float | None) -> None:
        """A session or maintenance began: movement is counted from where the sled is now."""
        self._last_activity_mm = mm

    # -- SensorSink -----------------------------------------------------------------

    def depth(self, sample: DepthSample, received_at: float) -> None:
        # The sled moving keeps a session or maintenance alive; a sensor's jitter does not.
        watched = self._training.session is not None or self._modes.mode == "maintenance"
        last = self._last_activity_mm
        if watched and (last is None or abs(sample.mm - last) >= ACTIVITY_MM):
            self._last_activity_mm = sample.mm
            self.touched(received_at)
        self._training.on_depth(sample)

    def liftoff(self, event: LiftoffEvent, received_at: float) -> None:
        self.touched(received_at)
        self._training.on_liftoff(event)

    def sensor_restarted(self) -> None:
        self._training.sensor_restarted()

    def session_id(self) -> str | None:
        return self._training.session_id()
