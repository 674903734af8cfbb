"""Staff and operators, in the real window: diagnostics, calibration, out of order, a message."""

import json
import threading

import pytest

from kiosk.dev.broker import publish
from kiosk.sim.motion import SledPath
from kiosk.words import wording as words
from tests.ui.members import on_set_screen, start_member
from tests.ui.technician import asked

pytestmark = pytest.mark.ui


def test_staff_code_opens_diagnostics_and_calibrates_the_sled_and_pads(fresh):
    ui, d, app = fresh, fresh.driver, fresh.app
    staff = ui.keyring.code("tech", "Robin", role="staff")
    ui.scan(staff)
    d.until(lambda: ui.current() == "maintenance", what="maintenance screen")
    m = app.screen("maintenance")

    ui.node.hold(12.0)
    d.until(lambda: m.values["raw"] == "12.0 mm", what="live raw reading")
    assert m.values["broker"].startswith("connected")
    assert m.values["versions"].startswith("0.1.0")
    steps = 0  # calibration steps made here, undone on the screen at the end for whoever comes next
    d.tap(m.ids.zero)
    asked(d, m, "zero")
    d.tap(m.ids.confirm)
    d.until(lambda: m.result == words.ZERO_SET_FULL_NEEDED, what="zero set, full travel next")
    steps += 1
    d.until(lambda: m.values["mm"] == "0.0 mm", what="calibrated reading")

    # Full travel this close to zero is a technician's mistake: the core says why, in red.
    ui.node.hold(40.0)
    d.until(lambda: m.values["raw"] == "40.0 mm", what="sled moved a little")
    d.tap(m.ids.full)
    d.until(lambda: not m.busy and m.result != "working...", what="refusal")
    assert not m.asking  # refused before any question
    assert not m.result_ok and m.ids.result.text == words.FULL_TRAVEL_TOO_SHORT  # plain words, not pydantic's

    ui.node.hold(512.0)
    d.until(lambda: m.values["raw"] == "512.0 mm", what="sled at the bottom")
    d.tap(m.ids.full)
    asked(d, m, "full")
    d.tap(m.ids.confirm)
    d.until(lambda: m.result == words.CALIBRATION_DONE["full"], what="full travel set")
    steps += 1
    assert m.result_ok
    assert ui.kiosk.sensor.calibration.full_raw_mm == 512.0
    d.wait(0.4)
    assert len(m.ids.plot._line.points) >= 20  # the plot scrolls from its ring buffer
    last = ui.node.pause()
    # The kiosk took the node's last sample and the screen drew it: from here on, nothing new can come.
    d.until(lambda: app.kiosk.snapshot.sled.sensor_ts == last and m._plotted == app.kiosk.snapshot.sled.received,
            what="the last sample before the pause drawn")
    plotted = m.ids.plot.taken  # not the ring's length: full after earlier tests' readings, it stops growing
    d.wait(0.3)
    assert m.ids.plot.taken == plotted  # a quiet sensor adds no points
    ui.node.resume()
    d.until(lambda: m.ids.plot.taken > plotted, what="points again")

    ui.node.liftoff("lumbar", "start")
    d.until(lambda: m.ids.lumbar.value == "LIFTED", what="lumbar pad shown lifted")
    d.tap(m.ids.lumbar_ok)
    d.until(lambda: m.result == words.CALIBRATION_DONE["lumbar"], what="pad checked")
    steps += 1
    assert "lumbar" in ui.kiosk.sensor.calibration.pads_checked
    ui.node.liftoff("lumbar", "end")
    d.until(lambda: m.ids.lumbar.value == "on pad", what="pad back")

    d.tap(m.ids.self_test)  # it tests the camera too
    d.until(lambda: not m.busy and "no camera" in m.result, what="camera test")

    # Leave the sled as it was for whoever comes next, step by step with Undo, then close with the staff code.
    for _ in range(steps):
        d.until(lambda: not m.busy and not m.ids.undo.disabled, what="undo offered")
        d.tap(m.ids.undo)
        d.until(lambda: m.result == words.CALIBRATION_UNDONE, what="a step undone")
        m.result = ""
    assert ui.kiosk.sensor.calibration.full_raw_mm is None
    ui.scan(staff)
    d.until(lambda: ui.current() == "attract" and app.mode == "idle", what="back to attract")
    assert app.screen("attract").feedback == ""  # no "Welcome, Robin!" left for the next member


def test_done_leaves_maintenance_without_a_staff_scan(fresh):
    ui, d, app = fresh, fresh.driver, fresh.app
    ui.scan(ui.keyring.code("tech", "Robin", role="staff"))
    d.until(lambda: ui.current() == "maintenance", what="maintenance screen")
    m = app.screen("maintenance")
    done, hint = m.ids.done, m.ids.leave_hint
    assert done.width >= 64 and done.height >= 64
    assert not done.collide_widget(hint) and hint.texture_size[1] <= hint.height
    d.tap(done)
    d.until(lambda: ui.current() == "attract" and app.mode == "idle", what="back to attract")


def test_pushed_machine_geometry_shapes_the_next_session(fresh):
    ui, d, app = fresh, fresh.driver, fresh.app
    topic = ui.kiosk.topics.kiosk_config_set
    # Notches and angles may change with a push; the travel only within the safety floor's band of this kiosk's own.
    horizontal = {"machine_type": "horizontal", "travel_mm": 460, "backrest_angles_deg": [25], "seat_notches": 4}
    publish(ui.broker, topic, json.dumps({"machine_models": {ui.kiosk.settings.machine_model: horizontal}}),
            retain=True)
    try:
        d.until(lambda: ui.kiosk.geometry.seat_notches == 4, what="config applied")
        start_member(ui, "m-geo")  # saved on the old machine at backrest notch 2, beyond the new one's only notch
        rows = {row.key: row for row in app.screen("settings").ids.rows.children}
        assert rows["seat"].value == "Notch 1 of 4" and rows["seat"].can_raise
        assert rows["backrest"].value.startswith("Notch 1") and not rows["backrest"].can_raise
        assert app.geometry.travel_mm == 460
    finally:
        publish(ui.broker, topic, b"", retain=True)
        d.until(lambda: ui.kiosk.geometry.seat_notches == 1, what="config withdrawn")


def command(ui, name: str, **fields) -> None:
    """An operator's command, as the fleet tools send it: over MQTT to this kiosk."""
    publish(ui.broker, ui.kiosk.topics.cmd(name), json.dumps({"transaction": f"t-{name}", **fields}))


def test_out_of_order_command_covers_every_screen_and_swallows_touches(fresh):
    ui, d, app = fresh, fresh.driver, fresh.app
    command(ui, "out_of_order", reason="cable frayed")
    d.until(lambda: app.out_of_order.shown, what="out of order overlay")
    overlay = app.out_of_order
    assert overlay.opacity == 1
    assert overlay.ids.title.text == words.OUT_OF_ORDER[0]
    assert overlay.ids.pressing.text == words.OUT_OF_ORDER_PRESSING
    assert overlay.ids.pain.disabled and not overlay.pain_shown  # nobody was training
    app.go("checklist")  # a screen whose rows react to a tap, under the overlay
    checklist = app.screen("checklist")
    touched = ui.kiosk.touch
    calls = []
    ui.kiosk.touch = lambda: calls.append(1)
    try:
        d.wait(1.05)
        d.tap(checklist.rows[0])
    finally:
        ui.kiosk.touch = touched
    assert calls  # the touch still counts as someone at the machine...
    assert not checklist.rows[0].ticked  # ...but nothing underneath reacts
    command(ui, "in_service")
    d.until(lambda: not app.out_of_order.shown, what="back in service")


def test_out_of_order_mid_set_keeps_the_pain_button_reachable(fresh):
    ui, d, app = fresh, fresh.driver, fresh.app
    on_set_screen(ui, "m-oto")
    command(ui, "out_of_order", reason="cable frayed")
    d.until(lambda: app.out_of_order.shown and app.out_of_order.pain_shown, what="out of order with a pain button")
    assert not app.out_of_order.ids.pain.disabled
    d.tap(app.out_of_order.ids.pain)
    assert ui.current() == "pain"
    d.until(lambda: not app.out_of_order.shown, what="the pain screen in view")
    d.tap(app.screen("pain").ids.finish)
    d.until(lambda: ui.current() == "attract" and app.out_of_order.shown, what="out of order again")
    command(ui, "in_service")
    d.until(lambda: not app.out_of_order.shown, what="back in service")
    assert not app.out_of_order.pain_shown


def test_operator_message_command_shows_on_screen_for_its_seconds(fresh):
    ui, d, app = fresh, fresh.driver, fresh.app
    command(ui, "message", text="Closing in 10 minutes", seconds=2)
    d.until(lambda: app.toast.opacity == 1, what="message shown")
    assert app.toast.ids.msg.text == "Closing in 10 minutes"
    d.wait(1.2)
    assert app.toast.opacity == 1
    d.until(lambda: app.toast.opacity == 0, timeout=3, what="message gone after its seconds")


def test_operator_message_shows_from_any_thread(fresh):
    _ui, d, app = fresh, fresh.driver, fresh.app
    sender = threading.Thread(target=app.show_message, args=("Closing in 10 minutes", 0.6))
    sender.start()
    sender.join()
    d.until(lambda: app.toast.opacity == 1, what="message shown")
    assert app.toast.text == "Closing in 10 minutes"
    d.until(lambda: app.toast.opacity == 0, timeout=3, what="message gone")


def test_a_message_never_covers_a_warning_and_comes_back_after_it(fresh):
    ui, d, app = fresh, fresh.driver, fresh.app
    on_set_screen(ui, "m-towels")  # its own member: m-jo is test_member_screens.py's, seeded there
    command(ui, "message", text="Closing in 10 minutes", seconds=60)
    d.until(lambda: app.toast.opacity == 1, what="message shown")
    ui.node.play(SledPath(start=0.0, mm=40).hold(0.4).move(230, 2.5))
    d.until(lambda: ui.node.idle(), what="sled down")
    ui.node.liftoff("lumbar", "start")
    banner = app.screen("set").banner
    d.until(lambda: banner.severity == "warn", what="lift-off warning in the banner")
    assert app.toast.opacity == 0, "the message stepped aside for the warning"
    command(ui, "message", text="Towels at the desk", seconds=60)
    d.wait(0.5)
    assert banner.severity == "warn" and app.toast.opacity == 0, "a new message waits too"
    ui.node.liftoff("lumbar", "end")
    d.until(lambda: banner.severity == "", timeout=10, what="the warning's time over")
    d.until(lambda: app.toast.opacity == 1, what="the message back")
    assert app.toast.text == "Towels at the desk"
def test_maintenance_shows_a_scaled_plot_the_recent_log_and_the_frame_rate_telemetry_reports(fresh):
    import logging

    from kivy.clock import Clock

    ui, d, app = fresh, fresh.driver, fresh.app
    ui.scan(ui.keyring.code("tech", "Robin", role="staff"))
    d.until(lambda: ui.current() == "maintenance", what="maintenance screen")
    m = app.screen("maintenance")
    travel = ui.kiosk.geometry.travel_mm
    marks = [w.text for w in reversed(m.ids.scale.children)]
    assert marks == [f"{travel * k / 4:.0f}" for k in range(5)]  # 0 mm at the top, full travel at the bottom
    logging.getLogger("kiosk.test").warning("sensor cable loose at the plug")
    d.until(lambda: "sensor cable loose at the plug" in m.ids.log.text, what="the log line on screen")

    # The driver turns Kivy's loop thousands of times a second; the screen draws far fewer frames.
    d.wait(2.5)
    shown = ui.kiosk.snapshot.fps
    assert shown is not None and 0 < shown <= 240
    d.until(lambda: m.values["fps"] == f"{ui.kiosk.snapshot.fps:.0f} frames/s drawn", what="fps on screen")
    # The diagnostics reply carries telemetry as published: the same figure the screen shows.
    d.until(lambda: ui.kiosk.diagnostics().telemetry.fps == ui.kiosk.snapshot.fps, what="one figure")
    print(f"measured display rate {ui.kiosk.snapshot.fps} frames/s; Kivy loop {Clock.get_fps():.0f}/s")
    d.tap(m.ids.done)
    d.until(lambda: ui.current() == "attract", what="maintenance left")
