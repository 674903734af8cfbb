"""The maintenance screen's calibration requests, taken onto the core thread.

The technician's screen runs on Kivy's thread and waits for each answer (a
calibration step is one tap, and its result or refusal is what the screen
says next), so each request is a blocking call through the inbox: the sensor
unit is touched only on the core thread. Setting an end far from where the
calibration in force puts the sled is a question first (`check`), then done
only with `anyway`; the step before the last can be undone.

Staff also restore a member's max depth that a lift-off lowered (`lowered_maxes`, `restore_max`), once
its cause (a backrest too upright, too much weight) is fixed: the member cannot raise it themselves.
"""

from collections.abc import Callable

from kiosk.contract.config import MachineGeometry
from kiosk.contract.profile import MachineSettings
from kiosk.core.inbox import Inbox
from kiosk.core.machine.calibration import CalibrationCheck, End, SledCalibration
from kiosk.core.profiles.sync import ProfileSync
from kiosk.core.sensor.ingest import CalibrationStep, SensorIngest
from kiosk.words import wording


class MaintenanceDesk:
    """Calibration for the maintenance screen (any thread; each call blocks until the core has done it)."""

    def __init__(self, inbox: Inbox, sensor: SensorIngest, profiles: ProfileSync,
                 geometry: Callable[[], MachineGeometry]) -> None:
        """`geometry()`: the machine as configured now."""
        self._inbox = inbox
        self._sensor = sensor
        self._profiles = profiles
        self._geometry = geometry

    def calibrate(self, step: CalibrationStep, anyway: bool = False) -> SledCalibration:
        """`zero` (sled at full extension), `full` (sled at the bottom), or a pad zone checked.

        ValueError with a message for the technician. An end far from where the calibration in force
        puts the sled needs `anyway`: the technician confirmed `check_calibration`'s warning.
        """
        return self._inbox.call(lambda: self._sensor.calibrate(step, anyway=anyway))

    def check_calibration(self, end: End) -> CalibrationCheck:
        """The question to ask before setting `end` with the sled where it is now."""
        return self._inbox.call(lambda: self._sensor.check_calibration(end))

    def undo_calibration(self) -> SledCalibration:
        """The calibration before its last step (ValueError if none is kept)."""
        return self._inbox.call(self._sensor.undo_calibration)

    def lowered_maxes(self) -> list[tuple[str, str, MachineSettings]]:
        """(member, name, settings) of the members whose max depth here a lift-off lowered."""
        return self._inbox.call(self._profiles.lowered)

    def restore_max(self, member: str) -> MachineSettings:
        """The member's max depth back to where it was before a kiosk lowered it, saved; their target stays
        (short of the lowered max, so short of the restored one too). ValueError with a message for staff."""
        return self._inbox.call(lambda: self._restore_max(member))

    def _restore_max(self, member: str) -> MachineSettings:
        profile, settings = self._profiles.settings_for(member)
        reason = settings.max_lowered if settings else None
        if settings is None or reason is None:
            raise ValueError(wording.MAX_NOT_LOWERED)
        # Never shallower than it is nor past this machine's travel (a hostile or stale `from_mm`), and
        # validated again: the order of top, target and max holds whatever the profile said.
        back = max(settings.max_depth_mm, min(reason.from_mm, self._geometry().travel_mm))
        restored = MachineSettings.model_validate(settings.model_dump() | {"max_depth_mm": back, "max_lowered": None})
        # Held here and never published yet, the member has no profile: their name is in the held save.
        name = profile.name if profile else next((n for m, n, _ in self._profiles.lowered() if m == member), "")
        self._profiles.save(member, name, restored)
        return restored
