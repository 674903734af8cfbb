"""Sled sensor calibration, set by a technician on the maintenance screen.

The sensor reports raw travel; the kiosk maps the raw reading at full
extension to 0 mm and the raw reading at the bottom of the sled's travel to
the machine model's `travel_mm`, so a sensor mounted a little off, or one that
reads in its own units, still gives the cue engine true millimetres.

One stray tap must never break it (a zero taken with the sled 250 mm down
made every reading at the real top -250 mm and every depth cue wrong): each
end is first checked against the calibration in force (`check`), the
technician confirms, a confirmed mistake can be undone (`undo`), and setting
one end keeps the other while the two stay far enough apart.
"""

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from kiosk.host.private_files import write_private
from kiosk.words import wording

log = logging.getLogger(__name__)

# The two ends of the sled's travel closer than this are one end read twice.
MIN_TRAVEL_RAW_MM = 50.0
# How far from where the calibration in force puts an end the sled may be for that end to look right:
# a sled resting on its stops reads a few mm either way, one left halfway down reads far more.
END_TOLERANCE_MM = 30.0
# Undo goes back this many steps; more is a recalibration, not an undo.
UNDO_DEPTH = 10

Zone = Literal["lumbar", "pelvis"]
End = Literal["zero", "full"]


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
            raise ValueError(wording.FULL_TRAVEL_TOO_SHORT)
        return self

    @property
    def complete(self) -> bool:
        return self.full_raw_mm is not None

    def to_mm(self, raw: float) -> float:
        if self.full_raw_mm is None:
            return raw - self.zero_raw_mm
        return (raw - self.zero_raw_mm) * self.travel_mm / (self.full_raw_mm - self.zero_raw_mm)


@dataclass(frozen=True)
class CalibrationCheck:
    """What setting one end with the sled where it is now would do, asked before it is done.

    `plausible` is False when the calibration in force puts the sled far from
    that end: the technician is warned and must confirm that case on purpose.
    """

    end: End
    raw_mm: float
    reading_mm: float | None  # where the calibration in force puts the sled; None if it cannot say
    plausible: bool

    @property
    def question(self) -> str:
        return wording.calibration_question(self.end, self.reading_mm, self.plausible)


class CalibrationImplausible(ValueError):
    """The sled is far from the end being set, and the technician did not confirm that on purpose."""


def check_end(calibration: SledCalibration, end: End, raw: float) -> CalibrationCheck:
    """Is `raw` believable as `end`, judged by the calibration in force? Raises ValueError if it cannot be."""
    if end == "full" and abs(raw - calibration.zero_raw_mm) < MIN_TRAVEL_RAW_MM:
        raise ValueError(wording.FULL_TRAVEL_TOO_SHORT)
    if not calibration.complete:
        # Only one end known: the zero may be anywhere, and a full travel far enough from it is all one can ask.
        return CalibrationCheck(end, raw, None, plausible=True)
    reading = calibration.to_mm(raw)
    expected = 0.0 if end == "zero" else calibration.travel_mm
    plausible = abs(reading - expected) <= END_TOLERANCE_MM
    return CalibrationCheck(end, raw, reading, plausible)


class CalibrationStore:
    """Keeps the calibration in `<data_dir>/calibration.json`; a damaged file falls back to none.

    The steps before the last few are kept in memory, for `undo`: a restart
    forgets them, never the calibration itself.
    """

    def __init__(self, data_dir: Path, travel_mm: float):
        self.path = data_dir / "calibration.json"
        self.calibration = SledCalibration(travel_mm=travel_mm)
        self._before: list[SledCalibration] = []  # newest last
        if self.path.exists():
            try:
                self.calibration = SledCalibration.model_validate_json(self.path.read_text())
                self.calibration.travel_mm = travel_mm
            except (ValidationError, OSError) as exc:
                log.error("calibration file %s unusable, running uncalibrated: %s", self.path, exc)

    @property
    def can_undo(self) -> bool:
        return bool(self._before)

    def set_travel(self, travel_mm: float) -> None:
        """The machine model's travel changed (a config push): kept in memory, the file holds the readings."""
        self.calibration = self.calibration.model_copy(update={"travel_mm": travel_mm})
        self._before = [kept.model_copy(update={"travel_mm": travel_mm}) for kept in self._before]

    def check(self, end: End, raw: float) -> CalibrationCheck:
        return check_end(self.calibration, end, raw)

    def set_end(self, end: End, raw: float, anyway: bool = False) -> SledCalibration:
        """Set one end at `raw`, checked again now: the sled may have moved since the question was asked.

        An end far from where the calibration in force puts it needs `anyway`.
        Zero keeps the full travel while it stays far enough from it, so a
        re-zeroed sled is still calibrated; otherwise full travel is to be set again.
        """
        found = self.check(end, raw)
        if not found.plausible and not anyway:
            raise CalibrationImplausible(wording.calibration_refused(end, found.reading_mm))
        data = self.calibration.model_dump()
        if end == "zero":
            full = self.calibration.full_raw_mm
            keep_full = full is not None and abs(full - raw) >= MIN_TRAVEL_RAW_MM
            data.update(zero_raw_mm=raw, full_raw_mm=full if keep_full else None)
        else:
            data.update(full_raw_mm=raw)
        data.update(calibrated_at=time.time() if data["full_raw_mm"] is not None else None)
        return self._save(SledCalibration.model_validate(data))

    def pad_checked(self, zone: Zone) -> SledCalibration:
        pads = {**self.calibration.pads_checked, zone: time.time()}
        return self._save(self.calibration.model_copy(update={"pads_checked": pads}))

    def undo(self) -> SledCalibration:
        """Put back the calibration as it was before the last step; ValueError if there is none to put back."""
        if not self._before:
            raise ValueError(wording.NOTHING_TO_UNDO)
        before = self._before.pop()
        write_private(self.path, before.model_dump_json(indent=2))
        self.calibration = before
        return before

    def _save(self, calibration: SledCalibration) -> SledCalibration:
        write_private(self.path, calibration.model_dump_json(indent=2))
        self._before = [*self._before, self.calibration][-UNDO_DEPTH:]
        self.calibration = calibration
        return calibration
