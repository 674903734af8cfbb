"""The maintenance screen's calibration requests, taken onto the core thread.

The technician's screen runs on Kivy's thread and waits for each answer (a
calibration step is one tap, and its result or refusal is what the screen
says next), so each request is a blocking call through the inbox: the sensor
unit is touched only on the core thread. Setting an end far from where the
calibration in force puts the sled is a question first (`check`), then done
only with `anyway`; the step before the last can be undone.
"""

from kiosk.core.inbox import Inbox
from kiosk.core.machine.calibration import CalibrationCheck, End, SledCalibration
from kiosk.core.sensor.ingest import CalibrationStep, SensorIngest


class MaintenanceDesk:
    """Calibration for the maintenance screen (any thread; each call blocks until the core has done it)."""

    def __init__(self, inbox: Inbox, sensor: SensorIngest) -> None:
        self._inbox = inbox
        self._sensor = sensor

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
