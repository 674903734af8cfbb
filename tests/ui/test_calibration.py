"""Calibrating the sled, as a technician does it in the real window: one stray tap must not break it."""

import pytest

from kiosk.words import wording as words
from tests.ui.technician import asked

pytestmark = pytest.mark.ui


def test_a_stray_zero_tap_changes_nothing_and_a_confirmed_wrong_zero_is_undone(fresh):
    ui, d, app = fresh, fresh.driver, fresh.app
    staff = ui.keyring.code("tech", "Robin", role="staff")
    ui.scan(staff)
    d.until(lambda: ui.current() == "maintenance", what="maintenance screen")
    m = app.screen("maintenance")
    travel = ui.kiosk.geometry.travel_mm
    steps = 0  # undone on the screen at the end, for whoever comes next

    def set_end(button, end: str, raw: float) -> None:
        nonlocal steps
        ui.node.hold(raw)
        d.until(lambda: m.values["raw"] == f"{raw:.1f} mm", what=f"sled at raw {raw}")
        d.tap(button)
        asked(d, m, end)
        d.tap(m.ids.confirm)
        d.until(lambda: not m.busy and m.result.startswith(words.CALIBRATION_DONE[end][:8]), what=f"{end} set")
        steps += 1

    # A sensor mounted 12 mm off: the top reads 12 raw, the bottom 12 + the machine's travel.
    set_end(m.ids.zero, "zero", 12.0)
    set_end(m.ids.full, "full", 12.0 + travel)
    good = ui.kiosk.sensor.calibration
    assert good.zero_raw_mm == 12.0 and good.full_raw_mm == 12.0 + travel

    # A member's sled left 250 mm down, and a stray tap on Zero: a question, in amber, and nothing changed.
    ui.node.hold(262.0)
    d.until(lambda: m.values["mm"] == "250.0 mm", what="sled 250 mm down")
    d.tap(m.ids.zero)
    asked(d, m, "zero")
    assert m.asking_anyway and "250 mm" in m.ids.result.text
    assert m.ids.confirm.text == words.CALIBRATION_CONFIRM_ANYWAY["zero"]
    assert not m.ids.confirm.collide_widget(m.ids.zero) and not m.ids.confirm.collide_widget(m.ids.full)
    d.tap(m.ids.zero)  # tapped twice: still only asking
    asked(d, m, "zero")
    assert ui.kiosk.sensor.calibration == good
    d.tap(m.ids.cancel)
    d.until(lambda: m.result == words.CALIBRATION_CANCELLED, what="cancelled")
    assert ui.kiosk.sensor.calibration == good and m.values["mm"] == "250.0 mm"

    # Confirmed on purpose all the same: the zero moves, the full travel stays, and the screen offers Undo.
    d.tap(m.ids.zero)
    asked(d, m, "zero")
    d.tap(m.ids.confirm)
    d.until(lambda: m.result == words.CALIBRATION_DONE["zero"], what="wrong zero set")
    steps += 1
    assert ui.kiosk.sensor.calibration.full_raw_mm == good.full_raw_mm

    # The real top now reads far above zero; the sensor is still live for calibrating (it was refused before).
    ui.node.hold(12.0)
    d.until(lambda: m.values["raw"] == "12.0 mm" and m.values["mm"].startswith("-"), what="top reads negative")
    d.tap(m.ids.zero)
    asked(d, m, "zero")
    d.tap(m.ids.cancel)
    d.until(lambda: not m.asking, what="cancelled")

    d.until(lambda: not m.ids.undo.disabled, what="undo offered")
    d.tap(m.ids.undo)
    d.until(lambda: m.result == words.CALIBRATION_UNDONE, what="undone")
    steps -= 1
    assert ui.kiosk.sensor.calibration == good
    d.until(lambda: m.values["mm"] == "0.0 mm", what="top reads 0 again")

    # A zero set on purpose too close to the old bottom (a sensor moved): full travel is asked for again.
    ui.node.hold(travel - 20.0)
    d.until(lambda: m.values["raw"] == f"{travel - 20.0:.1f} mm", what="sled near the bottom")
    d.tap(m.ids.zero)
    asked(d, m, "zero")
    d.tap(m.ids.confirm)
    d.until(lambda: m.result == words.ZERO_SET_FULL_NEEDED, what="zero set, full travel needed")
    steps += 1
    assert ui.kiosk.sensor.calibration.full_raw_mm is None

    for _ in range(steps):
        d.until(lambda: not m.busy and not m.ids.undo.disabled, what="undo offered")
        m.result = ""
        d.tap(m.ids.undo)
        d.until(lambda: m.result == words.CALIBRATION_UNDONE, what="a step undone")
    assert ui.kiosk.sensor.calibration.full_raw_mm is None  # uncalibrated, as the shared kiosk started
    ui.scan(staff)
    d.until(lambda: ui.current() == "attract" and app.mode == "idle", what="back to attract")


def test_an_unanswered_question_is_withdrawn_when_maintenance_is_left(fresh):
    ui, d, app = fresh, fresh.driver, fresh.app
    staff = ui.keyring.code("tech", "Robin", role="staff")
    ui.scan(staff)
    d.until(lambda: ui.current() == "maintenance", what="maintenance screen")
    m = app.screen("maintenance")
    before = ui.kiosk.sensor.calibration
    d.tap(m.ids.zero)
    asked(d, m, "zero")
    ui.scan(staff)
    d.until(lambda: ui.current() == "attract", what="back to attract")
    ui.scan(staff)
    d.until(lambda: ui.current() == "maintenance", what="maintenance again")
    assert not m.asking and m.ids.confirm.parent is None
    assert ui.kiosk.sensor.calibration == before
    ui.scan(staff)
    d.until(lambda: ui.current() == "attract" and app.mode == "idle", what="back to attract")
