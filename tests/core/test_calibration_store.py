"""The sled's calibration, as the store keeps it: checked against the one in force, confirmed, undone."""

import json

import pytest

from kiosk.core.machine.calibration import CalibrationImplausible, CalibrationStore
from kiosk.words import wording

TRAVEL = 500.0


@pytest.fixture
def store(tmp_path) -> CalibrationStore:
    store = CalibrationStore(tmp_path, TRAVEL)
    store.set_end("zero", 12.0)
    store.set_end("full", 512.0)
    return store


def test_an_end_far_from_where_the_calibration_puts_it_is_refused_unless_confirmed(store, tmp_path):
    good = store.calibration
    check = store.check("zero", 262.0)
    assert not check.plausible and check.reading_mm == 250.0 and "250 mm" in check.question
    with pytest.raises(CalibrationImplausible):
        store.set_end("zero", 262.0)
    assert store.calibration == good
    assert json.loads((tmp_path / "calibration.json").read_text())["zero_raw_mm"] == 12.0

    assert store.check("zero", 14.0).plausible and store.check("full", 505.0).plausible
    assert not store.check("full", 300.0).plausible


def test_a_confirmed_wrong_zero_keeps_full_travel_and_is_undone_to_the_file(store, tmp_path):
    good = store.calibration
    wrong = store.set_end("zero", 262.0, anyway=True)
    assert wrong.full_raw_mm == 512.0 and wrong.to_mm(12.0) == -500.0
    assert store.undo() == good
    assert CalibrationStore(tmp_path, TRAVEL).calibration == good  # the file has it back too


def test_a_zero_too_close_to_the_old_bottom_asks_for_full_travel_again(store):
    assert store.set_end("zero", 480.0, anyway=True).full_raw_mm is None
    with pytest.raises(ValueError, match="at least 50 mm"):
        store.set_end("full", 470.0)


def test_undo_goes_back_step_by_step_then_says_there_is_nothing_left(tmp_path):
    store = CalibrationStore(tmp_path, TRAVEL)
    first = store.calibration
    store.set_end("zero", 12.0)
    store.pad_checked("lumbar")
    store.undo()
    assert store.calibration.zero_raw_mm == 12.0 and not store.calibration.pads_checked
    assert store.undo() == first and not store.can_undo
    with pytest.raises(ValueError, match=wording.NOTHING_TO_UNDO):
        store.undo()
