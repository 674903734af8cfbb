"""Sled sensor calibration, set by a technician on the maintenance screen.

The sensor reports raw travel; the kiosk maps the raw reading at full
extension to 0 mm and the raw reading at the bottom of the sled's travel to
the machine model's `travel_mm`, so a sensor mounted a little off, or one that
reads in its own units, still gives the cue engine true millimetres.
"""

import logging
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from kiosk.core.files import write_private
from kiosk.words.wording import FULL_TRAVEL_TOO_SHORT

log = logging.getLogger(__name__)

# The two ends of the sled's travel closer than this are one end read twice.
MIN_TRAVEL_RAW_MM = 50.0

Zone = Literal["lumbar", "pelvis"]


class SledCalibration(BaseModel):
    """Raw readings at the two ends of the sled's travel, and when the lift-off pads were last checked."""

    zero_raw_mm: float = 0.0
    full_raw_mm: float | None = None
    travel_mm: float = Field(default=500.0, gt=0)
    calibrated_at: float | None = None
    pads_checked: dict[Zone, float] = {}

    @model_validator(mode="after")
    def _ends_apart(self) -> "SledCalibration":
        if self.full_raw_mm is not None and abs(self.full_raw_mm - self.zero_raw_mm) < MIN_TRAVEL_RAW_MM:
            raise ValueError(FULL_TRAVEL_TOO_SHORT)
        return self

    def to_mm(self, raw: float) -> float:
        if self.full_raw_mm is None:
            return raw - self.zero_raw_mm
        return (raw - self.zero_raw_mm) * self.travel_mm / (self.full_raw_mm - self.zero_raw_mm)


class CalibrationStore:
    """Keeps the calibration in `<data_dir>/calibration.json`; a damaged file falls back to none."""

    def __init__(self, data_dir: Path, travel_mm: float):
        self.path = data_dir / "calibration.json"
        self.calibration = SledCalibration(travel_mm=travel_mm)
        if self.path.exists():
            try:
                self.calibration = SledCalibration.model_validate_json(self.path.read_text())
                self.calibration.travel_mm = travel_mm
            except (ValidationError, OSError) as exc:
                log.error("calibration file %s unusable, running uncalibrated: %s", self.path, exc)

    def set_travel(self, travel_mm: float) -> None:
        """The machine model's travel changed (a config push): kept in memory, the file holds the readings."""
        self.calibration = self.calibration.model_copy(update={"travel_mm": travel_mm})

    def set_zero(self, raw: float) -> SledCalibration:
        return self._save(self.calibration.model_copy(update={"zero_raw_mm": raw, "full_raw_mm": None}))

    def set_full(self, raw: float) -> SledCalibration:
        # Said plainly here: the model's own check would reach the technician as a pydantic error report.
        if abs(raw - self.calibration.zero_raw_mm) < MIN_TRAVEL_RAW_MM:
            raise ValueError(FULL_TRAVEL_TOO_SHORT)
        data = self.calibration.model_dump()
        data.update(full_raw_mm=raw, calibrated_at=time.time())
        return self._save(SledCalibration.model_validate(data))

    def pad_checked(self, zone: Zone) -> SledCalibration:
        pads = {**self.calibration.pads_checked, zone: time.time()}
        return self._save(self.calibration.model_copy(update={"pads_checked": pads}))

    def _save(self, calibration: SledCalibration) -> SledCalibration:
        write_private(self.path, calibration.model_dump_json(indent=2))
        self.calibration = calibration
        return calibration
