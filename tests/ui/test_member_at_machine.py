"""The member at the machine, the way issue 11 found it: the screen agrees with the engine, no tap falls
through to the next screen, the set's advice is seen, and nothing of a member outlives their session."""

import time

import pytest

from kiosk.contract.events import KIOSK_EVENT
from kiosk.contract.profile import MemberProfile
from kiosk.core.machine.depth_limits import TARGET_MARGIN_MM
from kiosk.sim.motion import SledPath
from kiosk.words import wording as words
from tests.ui.members import SAVED, on_set_screen, push_config

pytestmark = pytest.mark.ui


def decoded(events) -> list:
    """The kiosk's events so far, through the contract."""
    return [KIOSK_EVENT.validate_json(m.payload) for m in events.messages]


def cues_after(events, ts: float) -> list[str]:
    return [e.cue for e in decoded(events) if getattr(e, "type", "") == "cue" and e.ts > ts]


def reps(top: float, depths: list[float], down_s: float = 2.4, up_s: float = 1.2) -> SledPath:
    path = SledPath(start=0.0, mm=top).hold(0.6)
    for depth in depths:
        path.move(depth, down_s).move(top, up_s).hold(0.6)
    return path


def test_after_a_lumbar_liftoff_the_gauge_draws_the_lowered_limits_with_the_cue_and_target_reps_are_fine(
        fresh, events):
    ui, d, app = fresh, fresh.driver, fresh.app
    on_set_screen(ui, "m-lia")
    workout = app.screen("set")
    gauge, banner = workout.ids.gauge, workout.banner
    assert (gauge.target_mm, gauge.max_mm) == (SAVED.target_depth_mm, SAVED.max_depth_mm)
    ui.node.play(SledPath(start=0.0, mm=40).hold(0.4).move(270, 2.5))
    d.until(lambda: ui.node.idle(), what="sled down")
    ui.node.liftoff("lumbar", "start")
    d.until(lambda: banner.cue == "liftoff_lumbar", timeout=3, what="lift-off cue on the banner")
    # The same frame that shows the cue draws the engine's new limits.
    limits = ui.kiosk.snapshot.member.settings
    assert limits.max_depth_mm < SAVED.max_depth_mm
    assert gauge.max_mm == limits.max_depth_mm
    assert gauge.target_mm == limits.target_depth_mm <= limits.max_depth_mm - TARGET_MARGIN_MM
    assert gauge._max.points[1] == pytest.approx(gauge.y_for(limits.max_depth_mm))
    assert workout.ids.max_label.text.endswith(f"{limits.max_depth_mm:.0f} mm")
    lifted_at = ui.node.ts
    ui.node.liftoff("lumbar", "end")

    # Up, a rest that ends the set, then two sets of reps to the target the member now has.
    ui.node.play(SledPath(start=0.0, mm=270).move(40, 1.5).hold(5.0))
    for _ in range(2):
        ui.node.play(reps(40, [limits.target_depth_mm] * 3))
        ui.node.play(SledPath(start=0.0, mm=40).hold(5.0))
    d.until(lambda: ui.node.idle(), timeout=40, what="reps done")
    seen = cues_after(events, lifted_at)
    assert "depth_reached" in seen and "too_deep" not in seen

    # Between sets (the last rest ended the set): one tap on Finish, here on the set's summary, is enough.
    d.until(lambda: not ui.kiosk.snapshot.set_open, what="set closed")
    d.tap(app.screen("summary").ids.done if ui.current() == "summary" else workout.ids.finish)
    d.until(lambda: ui.kiosk.session is None, what="session ended")
    book = ui.kiosk.profiles.book
    d.until(lambda: ui.kiosk.inbox.call(lambda: book.rev("m-lia")) >= 2, what="learnt limits saved")
    kept: MemberProfile = ui.kiosk.inbox.call(lambda: book.get("m-lia"))
    machine = kept.machines["generic-45"]
    assert machine.max_depth_mm == limits.max_depth_mm
    assert machine.max_depth_mm - machine.target_depth_mm >= TARGET_MARGIN_MM


def centre(widget) -> tuple[float, float]:
    return widget.to_window(*widget.center)


def buttons_at(app, x: float, y: float) -> list:
    """The live buttons of the current screen and of any layer shown over it under window point (x, y)."""
    from kivy.uix.behaviors import ButtonBehavior

    layers = [app.manager.current_screen, *(o for o in (app.stop_overlay, app.out_of_order) if o.shown)]
    found = []
    for layer in layers:
        for widget in layer.walk(restrict=True):
            if not isinstance(widget, ButtonBehavior) or widget.disabled or widget.opacity == 0:
                continue
            wx, wy = widget.to_window(*widget.pos)
            if wx <= x <= wx + widget.width and wy <= y <= wy + widget.height:
                found.append(widget)
    return found


def described(buttons: list) -> list:
    return [(b.text, b.to_window(*b.pos), tuple(b.size)) for b in buttons]


def alarming(button) -> bool:
    """Buttons that alert staff or end the session: never where the previous view's main button was."""
    return button.text in ("Pain", "Finish", "Finish for today", "Done")


def first_timer(ui, member: str, name: str = "Nia"):
    """A first visit: the checklist first (before any rep), then Ready to the guided setup."""
    ui.scan(ui.keyring.code(member, name))
    ui.driver.until(lambda: ui.current() == "checklist" and not ui.app.manager.transition.is_active,
                    what="the checklist first")
    ui.driver.until(lambda: time.time() >= ui.app.touch_guard_until, what="guard after the scan")
    ui.driver.tap(ui.app.screen("checklist").ids.start)
    ui.driver.until(lambda: ui.current() == "setup", what="guided setup")
    return ui.app.screen("setup")


def test_two_quick_taps_on_start_never_land_on_the_pain_button_of_the_next_step(fresh, events, monkeypatch):
    from kiosk.ui import app as app_module

    ui, d, app = fresh, fresh.driver, fresh.app
    setup = first_timer(ui, "m-two")
    d.until(lambda: not app.manager.transition.is_active, what="the setup screen shown")
    d.until(lambda: time.time() >= app.touch_guard_until, what="guard after the scan")
    x, y = centre(setup.ids.primary)
    d.tap_at(x, y)
    assert setup.stage == "reps"
    assert not any(alarming(b) for b in buttons_at(app, x, y))
    # The guard that starts with the new step is what is tested, not its length: in CI under load the frames
    # of the 250 ms wait below took longer than the product's 0.5 s, and the second tap rightly went through.
    monkeypatch.setattr(app_module, "TOUCH_GUARD_S", 5.0)
    d.wait(0.25 - 2 / 60)
    d.tap_at(x, y)  # the second tap of a double tap, 250 ms after the first
    d.wait(0.3)
    assert ui.current() == "setup" and setup.stage == "reps"
    assert not any(getattr(e, "cue", "") == "pain_stop" for e in decoded(events))


def test_a_finger_on_ready_as_the_sled_moves_does_nothing_on_the_set_screen(fresh, monkeypatch):
    from kiosk.ui import app as app_module
    from tests.ui.members import start_member

    ui, d, app = fresh, fresh.driver, fresh.app
    start_member(ui, "m-fin")
    d.tap(app.screen("settings").ids.next)
    # "At once" is the five frames below: on a loaded test machine (software GL beside stress-ng) they took
    # longer than the product's 0.5 s guard, and the second tap rightly went through. The guard is what is
    # tested here, not its length: lengthened, it outlasts any slow frame.
    monkeypatch.setattr(app_module, "TOUCH_GUARD_S", 5.0)
    x, y = centre(app.screen("checklist").ids.start)
    finger = d.press(x, y)
    ui.node.play(SledPath(start=0.0, mm=40).hold(0.2).move(150, 1.5))
    d.until(lambda: ui.current() == "set", timeout=4, what="the set screen as the sled moves")
    d.frames(3)
    d.release(finger)  # lifted after the screen changed under it
    d.tap_at(x, y)  # and tapped again at once
    d.wait(0.3)
    assert ui.current() == "set" and ui.kiosk.session is not None
    under = buttons_at(app, x, y)
    assert under and not any(alarming(b) for b in under), described(under)
    ui.node.play(SledPath(start=0.0, mm=150).move(40, 1.0))


def test_no_alarming_button_sits_where_the_previous_views_main_button_was(fresh):
    from tests.ui.members import start_member

    ui, d, app = fresh, fresh.driver, fresh.app
    start_member(ui, "m-map")
    steps = [  # (screen, its main button, where that button takes the member)
        ("settings", "next", "checklist"),
        ("settings", "next", "set"),  # the sled moving takes the member on to the set screen
        ("checklist", "start", "set"),
        ("checklist", "skip", "set"),
        ("summary", "again", "set"),
    ]
    for screen, button, to in steps:
        app.go(screen)
        d.until(lambda: not app.manager.transition.is_active, what=screen)
        x, y = centre(app.screen(screen).ids[button])
        app.go(to)
        d.until(lambda: not app.manager.transition.is_active, what=to)
        under = buttons_at(app, x, y)
        assert not any(alarming(b) for b in under), (screen, button, to, described(under))
    workout = app.screen("set")
    assert workout.ids.pain.opacity == 1 and not workout.ids.pain.disabled  # Pain: one tap, always there


def test_finish_during_a_set_asks_once(fresh):
    ui, d, app = fresh, fresh.driver, fresh.app
    on_set_screen(ui, "m-ask")
    workout = app.screen("set")
    ui.node.play(SledPath(start=0.0, mm=40).hold(0.2).move(200, 2.0))
    d.until(lambda: ui.kiosk.snapshot.set_open, timeout=5, what="a set open")
    d.tap(workout.ids.finish)
    assert workout.confirming and ui.kiosk.session is not None
    assert workout.ids.finish.text == words.FINISH_CONFIRM
    d.tap(workout.ids.finish)
    d.until(lambda: ui.kiosk.session is None, what="the second tap ends the session")
    ui.node.play(SledPath(start=0.0, mm=200).move(40, 1.0))


def test_the_range_just_learnt_gives_way_to_the_set_screen_when_the_member_presses_on(fresh):
    ui, d, app = fresh, fresh.driver, fresh.app
    setup = first_timer(ui, "m-on")
    d.tap(setup.ids.primary)
    ui.node.play(reps(40, [240, 260]))
    d.until(lambda: setup.stage == "done", timeout=15, what="range learnt")
    assert setup.ids.heading.text == words.RANGE_SET
    # The member does not tap anything and keeps pressing.
    ui.node.play(SledPath(start=0.0, mm=40).hold(0.3).move(250, 1.0).move(40, 1.0))
    d.until(lambda: ui.current() == "set", timeout=5, what="set screen")
    workout = app.screen("set")
    assert workout.ids.pain.opacity == 1
    d.until(lambda: "descent_fast" in app.set_cues, timeout=8, what="a cue of this set")
    d.until(lambda: workout.banner.cue == "descent_fast", timeout=2, what="shown on the set screen")
    assert workout.ids.gauge.target_mm == setup.result.target_depth_mm


def test_a_double_read_at_the_window_wedge_is_one_scan_and_a_pushed_repeat_window_applies_at_once(fresh):
    ui, d, app = fresh, fresh.driver, fresh.app
    # Long enough for the frames before the second read, which took over a second in CI under load.
    push_config(ui, {"scan_repeat_s": 10.0})
    try:
        code = ui.keyring.code("m-dbl", "Dee")
        ui.scan(code)
        d.until(lambda: app.member_name == "Dee", what="session from the wedge")
        session = ui.kiosk.session.id
        d.wait(0.25)
        ui.scan(code)  # the scanner read the card twice
        d.wait(0.5)
        assert ui.kiosk.session is not None and ui.kiosk.session.id == session
        push_config(ui, {"scan_repeat_s": 0.5})  # applied to the very next read, no restart
        d.wait(0.7)
        ui.scan(code)  # out of view long enough: a logout
        d.until(lambda: ui.kiosk.session is None, what="logged out by a real second scan")
    finally:
        push_config(ui, None)


def test_a_pushed_sound_setting_silences_the_next_cue_and_back(fresh):
    ui, d, app = fresh, fresh.driver, fresh.app
    on_set_screen(ui, "m-snd")
    played = ui.kiosk.sound.played
    push_config(ui, {"sound": False})
    try:
        d.until(lambda: ui.kiosk.snapshot.sound is False, what="the screen's snapshot has it")
        before = len(played)
        ui.node.play(SledPath(start=0.0, mm=40).hold(0.3).move(220, 2.5))
        d.until(lambda: ui.node.idle(), what="sled down")
        ui.node.liftoff("pelvis", "start")
        d.until(lambda: app.screen("set").banner.cue == "liftoff_pelvis", timeout=3, what="cue shown")
        assert len(played) == before  # shown, not heard
        ui.node.liftoff("pelvis", "end")
        push_config(ui, {"sound": True})
        ui.node.liftoff("lumbar", "start")
        d.until(lambda: app.screen("set").banner.cue == "liftoff_lumbar", timeout=3, what="cue shown")
        d.until(lambda: list(played)[-1:] == ["liftoff_lumbar.wav"], timeout=2, what="and heard")
        # ...saying what to do first (issue 22): "Back off the pad. Push up." sounded like an order to lift.
        assert words.SPOKEN["liftoff_lumbar"].startswith("Push up")
        ui.node.liftoff("lumbar", "end")
    finally:
        push_config(ui, None)
        ui.node.play(SledPath(start=0.0, mm=220).move(40, 1.0))


def test_reps_under_the_stop_message_never_replace_the_stopped_sets_advice(fresh):
    ui, d, app = fresh, fresh.driver, fresh.app
    on_set_screen(ui, "m-stp")
    ui.node.play(SledPath(start=0.0, mm=40).hold(0.4).move(270, 2.5))
    d.until(lambda: ui.node.idle(), what="sled down")
    for state in ("start", "end", "start"):
        ui.node.liftoff("lumbar", state)
    d.until(lambda: app.stop_overlay.shown, timeout=3, what="stop over the whole screen")
    ui.node.liftoff("lumbar", "end")
    # The member carries on under the STOP message: up, a rest at the top, three fast reps, a rest.
    ui.node.play(SledPath(start=0.0, mm=270).move(40, 1.5).hold(1.0))
    ui.node.play(reps(40, [230, 230, 230], down_s=1.0))
    ui.node.play(SledPath(start=0.0, mm=40).hold(5.0))
    d.until(lambda: len(app.sets_done) == 2, timeout=30, what="a second set made under the stop message")
    d.tap(app.stop_overlay.ids.ok)
    summary = app.screen("summary")
    assert ui.current() == "summary"
    assert summary.title == "Set 1 stopped"
    assert words.STOP_SUGGESTIONS[0] in summary.ids.advice.text
    d.tap(summary.ids.done)  # Finish: the session's summary keeps the stopped set's advice first
    d.until(lambda: summary.final, what="session summary")
    lines = summary.ids.advice.text.split("\n")
    assert lines[0] == f"\u2022 {words.STOP_SUGGESTIONS[0]}"
    assert f"\u2022 {words.CUE_ADVICE['descent_fast']}" in lines
    # Issue 22: at most four bullets and the tip, "come up earlier" once; the depth of every rep of both sets.
    assert len(lines) <= words.MAX_ADVICE + 1
    assert sum(line[2:] in words.SAME_MEANING for line in lines) == 1
    assert summary.ids.bars_title.text == words.BARS_SESSION
    assert len(app.set_records) == 2 and len(summary.ids.bars.depths) == sum(len(s.reps) for s in app.set_records)


def test_the_camera_box_forgets_the_last_members_card_when_their_session_ends(fresh, tmp_path):
    import qrcode

    from kiosk.core.access.scanner import Scanner

    ui, d, app = fresh, fresh.driver, fresh.app
    attract = app.screen("attract")
    no_camera = ui.kiosk.scanner
    camera = Scanner.from_spec(f"files:{tmp_path}", ui.kiosk.scan, idle_wait_s=0.05)
    ui.kiosk.scanner = camera
    camera.start()
    try:
        card = qrcode.make(ui.keyring.code("m-cam", "Cam")).get_image().convert("RGB").resize((400, 400))
        card.save(tmp_path / ".card.png")
        (tmp_path / ".card.png").rename(tmp_path / "card.png")
        d.until(lambda: ui.current() == "checklist", what="the card held up starts a first visit")
        ui.kiosk.end_session("logout")
        d.until(lambda: ui.current() == "attract" and not app.manager.transition.is_active, what="back")
        d.wait(0.5)  # several preview ticks
        assert not attract.live and attract.ids.camera_image.texture is None
        assert attract.ids.camera_icon.opacity == 1
        assert ui.kiosk.camera_preview()[1] is None  # the core forgot the frame too
    finally:
        camera.stop()
        ui.kiosk.scanner = no_camera


def test_a_message_on_the_summary_leaves_its_heading_readable(fresh):
    from tests.ui.members import start_member

    ui, d, app = fresh, fresh.driver, fresh.app
    start_member(ui, "m-msg")
    summary = app.screen("summary")
    summary.show_set(None, (), (), "")
    app.go("summary")
    d.until(lambda: not app.manager.transition.is_active, what="summary")
    app.show_message("The gym closes in 15 minutes. Please wipe down the machine.", 3)
    d.until(lambda: app.toast.opacity == 1, what="message shown")
    box = app.toast.ids.box
    for widget in (summary.ids.header, summary.ids.done, summary.ids.again, summary.ids.advice_title):
        assert not collide(box, widget), (widget, box.to_window(*box.pos), box.size, widget.to_window(*widget.pos),
                                          widget.size)


def collide(a, b) -> bool:
    ax, ay = a.to_window(*a.pos)
    bx, by = b.to_window(*b.pos)
    return ax < bx + b.width and bx < ax + a.width and ay < by + b.height and by < ay + a.height


def test_words_on_screen_read_right(fresh):
    from tests.ui.members import start_member

    ui, d, app = fresh, fresh.driver, fresh.app
    start_member(ui, "m-wrd", name="Alex")
    settings = app.screen("settings")
    backrest = next(r for r in settings.ids.rows.children if r.key == "backrest")
    assert backrest.value == "Notch 2 (35\u00b0)"
    ui.scan(ui.keyring.code("m-wrd", "Alex"))  # the same code: logging out says goodbye, not welcome
    attract = app.screen("attract")
    d.until(lambda: ui.current() == "attract" and attract.feedback, what="logout")
    assert attract.feedback == words.goodbye("Alex")


def test_a_staff_code_mid_set_is_told_on_screen_and_ends_the_session_only_when_scanned_again(fresh):
    ui, d, app = fresh, fresh.driver, fresh.app
    on_set_screen(ui, "m-stf")
    staff = ui.keyring.code("tech", "Robin", role="staff")
    ui.scan(staff)
    d.until(lambda: app.toast.opacity == 1, what="told on screen")
    assert app.toast.text == words.STAFF_DURING_SESSION
    assert ui.current() == "set" and ui.kiosk.session is not None
    ui.scan(staff)
    d.until(lambda: ui.current() == "maintenance", what="maintenance on the second scan")
    assert ui.kiosk.session is None
    ui.kiosk.leave_maintenance()
