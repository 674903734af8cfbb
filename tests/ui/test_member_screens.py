"""A member at the machine, in the real window: scan, settings, a set with live cues, pain, summary, and back."""

import json
import time
from collections.abc import Callable

import pytest
from kivy.graphics import Color

from kiosk.contract.events import CueRaised, ProfileSaved
from kiosk.core.snapshot import ScanFeedback
from kiosk.dev.broker import Received, publish
from kiosk.sim.motion import SledPath
from kiosk.ui import theme
from kiosk.words import wording as words
from tests.ui.members import SAVED, on_set_screen, seed_profile, start_member

pytestmark = pytest.mark.ui


def banner_colour(banner) -> tuple:
    return tuple(next(i for i in banner.canvas.before.children if isinstance(i, Color)).rgba)


def row(screen, key: str):
    return next(r for r in screen.ids.rows.children if r.key == key)


def reps(top: float, depths: list[float], down_s: list[float], up_s: float = 1.2) -> SledPath:
    path = SledPath(start=0.0, mm=top).hold(0.6)
    for depth, down in zip(depths, down_s, strict=False):
        path.move(depth, down).move(top, up_s).hold(0.6)
    return path


def test_rejected_code_shows_the_reason_on_the_attract_screen(fresh):
    ui = fresh
    before = len(ui.screen.items)  # the screen's record is shared by the module's tests: only this scan's
    ui.scan("this-is-not-a-member-code")
    feedback = ui.screen.wait_for(lambda m: isinstance(m, ScanFeedback) and not m.accepted
                                  and any(seen is m for seen in ui.screen.items[before:]))
    attract = ui.app.screen("attract")
    ui.driver.until(lambda: attract.feedback == feedback.message, what="reason on screen")
    assert attract.ids.feedback.text == feedback.message
    assert not attract.accepted
    assert ui.current() == "attract"


def test_expired_code_says_it_has_expired(fresh):
    ui = fresh
    ui.scan(ui.keyring.code("m-old", "Old", expires_at=time.time() - 86400, now=time.time() - 10 * 86400))
    attract = ui.app.screen("attract")
    ui.driver.until(lambda: attract.feedback, what="feedback")
    assert "expired" in attract.feedback.lower()


def test_keyboard_wedge_drops_stray_keys_after_a_second_of_silence(fresh):
    ui = fresh
    ui.driver.type_text("stray", enter=False)
    assert ui.app.wedge.buffer == "stray"
    ui.driver.wait(1.3)
    assert ui.app.wedge.buffer == ""
    ui.scan(ui.keyring.code("m-wedge", "Wes"))
    ui.driver.until(lambda: ui.app.member_name == "Wes", what="session from the wedge")


def test_returning_member_sets_up_presses_reports_pain_and_is_forgotten(fresh):
    ui, d, app = fresh, fresh.driver, fresh.app
    seed_profile(ui, "m-jo")
    ui.scan(ui.keyring.code("m-jo", "Jo"))
    d.until(lambda: ui.current() == "settings", what="settings screen")
    settings = app.screen("settings")
    angle = ui.kiosk.geometry.backrest_angles_deg[SAVED.backrest_notch - 1]
    d.until(lambda: abs(settings.ids.side.backrest_deg - angle) < 0.01, what="backrest swung to the notch")
    d.until(lambda: abs(settings.ids.feet.height_pos - 2.0) < 0.01, what="feet slid high on the plate")
    assert row(settings, "backrest").value.startswith("Notch 2")

    # Touches keep the session alive.
    before = ui.kiosk.session.last_activity
    d.wait(1.1)
    d.tap(row(settings, "backrest").ids.plus)
    d.until(lambda: ui.kiosk.session.last_activity > before, what="touch reached the core")
    assert row(settings, "backrest").value.startswith("Notch 3")
    d.tap(settings.ids.save)
    d.until(lambda: settings.saved, what="profile saved")
    assert ui.kiosk.session.settings.backrest_notch == 3

    d.tap(settings.ids.next)
    checklist = app.screen("checklist")
    assert ui.current() == "checklist"
    for line in checklist.rows:
        d.tap(line)
    assert checklist.all_ticked
    d.tap(checklist.ids.start)
    assert ui.current() == "set"

    workout = app.screen("set")
    banner = workout.banner
    # Rep 1 drops fast (under 2 s): info cues. Rep 2 is slow; the back lifts on the way down: a warning.
    ui.node.play(reps(40, [270, 265], [1.0, 2.6]))
    d.until(lambda: banner.severity == "info", what="an info cue")
    assert banner_colour(banner) == tuple(theme.INFO)
    d.until(lambda: workout.ids.counter.text == "1", what="rep 1 counted")
    d.until(lambda: app.depth_mm > 150, what="second descent")
    ui.node.liftoff("lumbar", "start")
    d.until(lambda: banner.severity == "warn", timeout=3, what="warning replaces the info cue")
    assert banner.cue == "liftoff_lumbar"
    assert banner_colour(banner) == tuple(theme.WARN)
    assert banner.headline == words.CUES["liftoff_lumbar"][0]
    ui.node.liftoff("lumbar", "end")
    d.until(lambda: workout.ids.counter.text == "2", what="rep 2 counted")
    assert workout.ids.tempo.text.startswith("Down ")
    assert abs(workout.ids.gauge.depth_mm - ui.kiosk.snapshot.sled.mm) < 20

    d.tap(workout.ids.pain)
    pain = app.screen("pain")
    assert ui.current() == "pain"
    # Nobody has answered yet: the member is told to call out, not that staff know.
    assert pain.ids.help.text == words.CALL_OUT
    publish(ui.broker, ui.kiosk.topics.cmd("assist"),
            json.dumps({"transaction": "t-seen", "state": "seen", "by": "Front desk"}))
    d.until(lambda: pain.ids.help.text == words.assist_line("seen", "Front desk"), what="staff saw the alert")
    publish(ui.broker, ui.kiosk.topics.cmd("assist"),
            json.dumps({"transaction": "t-coming", "state": "coming", "by": "Aoife"}))
    d.until(lambda: pain.ids.help.text == words.assist_line("coming", "Aoife"), what="Aoife is coming")
    d.tap(pain.ids.kinds.children[-1])  # the first button: sharp
    report = ui.screen.wait_for(lambda m: getattr(m, "type", None) == "pain_report"
                                and getattr(m, "session", None) == app.session_id)
    assert report.kind == "sharp"
    d.until(lambda: pain.confirmed == words.PAIN_NOTED, what="pain report confirmed")
    assert pain.ids.advice.text == words.PAIN_ADVICE["sharp"]
    assert not app.stop_overlay.shown  # the pain screen already says stop

    d.until(lambda: app.pending_set is not None, what="the set closed")
    d.tap(pain.ids.back)
    summary = app.screen("summary")
    assert ui.current() == "summary"
    # Not a normal set: it says why it stopped, gives the pain advice, and offers no other set.
    assert summary.ids.header.title == words.PAIN_SET_TITLE
    assert "Reps: 2" in summary.ids.stats.text
    assert summary.ids.bars.depths and len(summary.ids.bars.depths) == 2
    assert summary.ids.advice.text == f"\u2022 {words.PAIN_ADVICE['sharp']}\n\u2022 {words.SEE_SOMEONE}"
    assert summary.ids.again.disabled and summary.ids.again.opacity == 0

    d.tap(summary.ids.done)  # Finish: the session ends and its summary shows
    d.until(lambda: summary.final, what="session summary")
    assert "Reps: 2" in summary.stats
    assert "Time: 0 min" not in summary.stats and " s" in summary.stats.split("Time: ")[1]  # a short session
    assert words.PAIN_ADVICE["sharp"] in summary.advice
    assert words.STANDING_UP_TIP in summary.ids.advice.text
    d.tap(summary.ids.done)
    assert ui.current() == "attract"
    assert app.member_name == "" and app.settings is None and app.reps == 0


def test_two_lumbar_liftoffs_stop_the_set_on_the_whole_screen(fresh):
    ui, d, app = fresh, fresh.driver, fresh.app
    seed_profile(ui, "m-kim")
    ui.scan(ui.keyring.code("m-kim", "Kim"))
    d.until(lambda: ui.current() == "settings", what="settings screen")
    ui.node.play(SledPath(start=0.0, mm=40).hold(0.4).move(270, 2.5))
    d.until(lambda: ui.current() == "set", what="a cue while pressing moves to the set screen")
    d.until(lambda: ui.node.idle(), what="sled down")
    ui.node.liftoff("lumbar", "start")
    ui.node.liftoff("lumbar", "end")
    ui.node.liftoff("lumbar", "start")
    d.until(lambda: app.stop_overlay.shown, timeout=3, what="stop over the whole screen")
    assert app.stop_overlay.headline == words.STOPPED_SET[0]
    assert app.screen("set").banner.severity == "stop"
    ui.node.liftoff("lumbar", "end")
    ui.node.play(SledPath(start=0.0, mm=270).move(40, 1.5))
    d.until(lambda: app.pending_set is not None, what="stopped set ended")
    d.tap(app.stop_overlay.ids.ok)
    summary = app.screen("summary")
    assert ui.current() == "summary"
    assert summary.title.endswith("stopped")
    assert "recline" in summary.ids.advice.text.lower()


def first_visit(ui, member: str, name: str) -> None:
    """A first-timer scans in: the checklist comes first, Ready leads to the guided setup."""
    ui.scan(ui.keyring.code(member, name))
    ui.driver.until(lambda: ui.current() == "checklist", what="the checklist first")
    ui.driver.tap(ui.app.screen("checklist").ids.start)
    ui.driver.until(lambda: ui.current() == "setup", what="guided setup")


def test_first_time_member_learns_depth_from_two_slow_reps(fresh):
    ui, d, app = fresh, fresh.driver, fresh.app
    first_visit(ui, "m-new", "Nia")
    setup = app.screen("setup")
    assert setup.stage == "intro" and "250 mm" in setup.defaults
    d.tap(setup.ids.primary)
    assert setup.stage == "reps"
    ui.node.play(reps(40, [240, 260], [2.4, 2.4]))
    d.until(lambda: setup.stage == "done", timeout=15, what="two slow reps learnt")
    learnt = setup.result
    assert 220 <= learnt.target_depth_mm <= 245
    assert 40 <= learnt.top_mm <= 60
    assert "Target depth" in setup.ids.body.text
    d.tap(setup.ids.primary)  # keep it
    assert ui.current() == "set"  # the checklist came first
    d.until(lambda: ui.kiosk.session.settings.target_depth_mm == learnt.target_depth_mm, what="saved to the profile")
    assert not ui.kiosk.session.first_time


def test_a_warning_during_the_guided_setup_reps_is_shown_over_it(fresh):
    ui, d, app = fresh, fresh.driver, fresh.app
    first_visit(ui, "m-lee", "Lee")
    setup = app.screen("setup")
    d.tap(setup.ids.primary)
    ui.node.play(SledPath(start=0.0, mm=40).hold(0.4).move(230, 2.5))
    d.until(lambda: ui.node.idle(), what="sled down")
    ui.node.liftoff("lumbar", "start")
    d.until(lambda: app.toast.opacity == 1, timeout=3, what="lift-off warning shown")
    # In the banner's amber, headline and detail apart (not "push up Keep your back flat" in blue).
    assert app.toast.text == "\n".join(words.CUES["liftoff_lumbar"]) and app.toast.severity == "warn"
    assert tuple(app.toast.ids.msg.color) == tuple(theme.SEVERITY_TEXT["warn"])
    assert ui.current() == "setup"
    ui.node.liftoff("lumbar", "end")
    ui.node.play(SledPath(start=0.0, mm=230).move(40, 1.5))


def event(kind: str, **fields: object) -> Callable[[Received], bool]:
    """A predicate for `events.wait_for`: a kiosk event of this type with these fields."""
    def matches(message: Received) -> bool:
        e = message.event()
        return e.type == kind and all(getattr(e, k, None) == v for k, v in fields.items())
    return matches


def test_pain_button_tells_staff_at_once_even_if_no_kind_is_ever_chosen(fresh, events):
    ui, d, app = fresh, fresh.driver, fresh.app
    on_set_screen(ui, "m-pat")
    ui.node.play(SledPath(start=0.0, mm=40).hold(0.2).move(200, 1.5))
    d.until(lambda: app.depth_mm > 150, what="sled on its way down")
    d.tap(app.screen("set").ids.pain)
    assert ui.current() == "pain"
    events.wait_for(event("cue", cue="pain_stop", severity="stop", session=app.session_id), timeout=3)
    d.until(lambda: app.pending_set is not None, what="the set closed by the press")
    assert not any(event("pain_report")(m) for m in events.messages)

    ui.node.play(SledPath(start=0.0, mm=200).move(40, 1.0))
    d.tap(app.screen("pain").ids.back)
    summary = app.screen("summary")
    assert ui.current() == "summary"
    assert summary.title == words.PAIN_SET_TITLE
    assert summary.ids.advice.text == f"\u2022 {words.PAIN_NO_KIND}\n\u2022 {words.SEE_SOMEONE}"
    assert not summary.ids.again.disabled  # the member did not say it was a pain that ends training


def test_a_stop_over_the_whole_screen_keeps_a_pain_button(fresh, events):
    ui, d, app = fresh, fresh.driver, fresh.app
    on_set_screen(ui, "m-ola")
    ui.node.play(SledPath(start=0.0, mm=40).hold(0.4).move(270, 2.0))
    d.until(lambda: ui.node.idle(), what="sled down")
    for state in ("start", "end", "start"):
        ui.node.liftoff("lumbar", state)
    d.until(lambda: app.stop_overlay.shown, timeout=3, what="stop over the whole screen")
    d.tap(app.stop_overlay.ids.pain)
    assert ui.current() == "pain" and not app.stop_overlay.shown
    events.wait_for(event("cue", cue="pain_stop", session=app.session_id), timeout=3)
    ui.node.liftoff("lumbar", "end")
    ui.node.play(SledPath(start=0.0, mm=270).move(40, 1.0))


def test_sled_going_down_brings_the_set_screen_before_any_rep_or_cue(fresh):
    ui, d, app = fresh, fresh.driver, fresh.app
    start_member(ui, "m-max")
    d.tap(app.screen("settings").ids.next)
    assert ui.current() == "checklist"
    ui.node.play(SledPath(start=0.0, mm=40).hold(0.2).move(150, 2.0))
    d.until(lambda: ui.current() == "set", timeout=4, what="set screen while pressing")
    assert app.reps == 0 and not app.set_cues  # the sled moving was enough
    assert app.depth_mm < 150
    ui.node.play(SledPath(start=0.0, mm=150).move(40, 1.0))


def test_a_silent_sensor_keeps_its_banner_and_dims_the_gauge_until_samples_return(fresh, monkeypatch):
    from kiosk.ui.widgets import banner as banner_module

    ui, d, app = fresh, fresh.driver, fresh.app
    monkeypatch.setitem(banner_module.HOLD_S, "warn", 0.4)  # an ordinary warning would be gone well before the end
    on_set_screen(ui, "m-sol")
    workout = app.screen("set")
    ui.node.play(SledPath(start=0.0, mm=40).hold(0.2).move(160, 1.0))
    d.until(lambda: ui.node.idle(), what="mid-set")
    ui.node.pause()
    d.until(lambda: workout.banner.cue == "sensor_lost", timeout=3, what="sensor lost on the banner")
    # The gauge dims from the screen's own 30 Hz poll, which may come a frame after the cue.
    d.until(lambda: workout.ids.gauge.opacity < 0.5, timeout=1, what="gauge dimmed")
    assert workout.ids.gauge_title.text == words.NO_SENSOR
    d.wait(1.0)
    assert workout.banner.cue == "sensor_lost"
    ui.node.resume()
    d.until(lambda: not workout.banner.cue, timeout=2, what="banner cleared when samples return")
    d.until(lambda: workout.ids.gauge.opacity == 1, timeout=1, what="gauge back")
    assert workout.ids.gauge_title.text == "Depth"


def collide(a, b) -> bool:
    ax, ay = a.to_window(*a.pos)
    bx, by = b.to_window(*b.pos)
    return ax < bx + b.width and bx < ax + a.width and ay < by + b.height and by < ay + a.height


def test_a_message_never_covers_the_pain_button_or_the_rep_counter(fresh):
    from kivy.core.window import Window

    _ui, d, app = fresh, fresh.driver, fresh.app
    assert tuple(Window.size) == (800, 480)
    app.go("set")
    app.show_message("The gym closes in 15 minutes. Please finish your set and wipe down the machine.", 3)
    d.until(lambda: app.toast.opacity == 1, what="message shown")
    box, workout = app.toast.ids.box, app.screen("set")
    for widget in (workout.ids.pain, workout.ids.counter, workout.ids.finish):
        assert not collide(box, widget), widget
    assert app.toast.ids.msg.texture_size[1] <= box.height


def test_banner_lets_a_warning_be_read_unless_a_worse_one_comes(fresh, monkeypatch):
    from kiosk.ui.widgets import banner as banner_module

    ui, d, app = fresh, fresh.driver, fresh.app
    monkeypatch.setattr(banner_module, "READ_S", 0.5)
    start_member(ui, "m-ray")
    banner = app.screen("set").banner

    def cue(name: str, severity: str = "warn") -> None:
        app.on_core(CueRaised(ts=time.time(), session=app.session_id, cue=name, severity=severity), 0.0)

    cue("liftoff_lumbar")
    cue("lockout")
    assert banner.cue == "liftoff_lumbar"  # a lesser warning waits
    cue("lockout")
    cue("liftoff_pelvis")
    assert banner.cue == "liftoff_lumbar"
    d.wait(0.6)
    cue("lockout")
    assert banner.cue == "lockout"  # once read, the next warning may follow
    cue("too_deep")
    assert banner.cue == "too_deep"  # a worse one at once
    cue("bounce", "info")
    assert banner.cue == "too_deep"
    cue("pain_stop", "stop")
    assert banner.cue == "pain_stop" and banner.severity == "stop"


def test_banner_and_gauge_read_from_the_seat(fresh):
    _ui, d, app = fresh, fresh.driver, fresh.app
    assert app.unit == 1.0  # 800x480: one unit is one pixel, about 5.3 px/mm
    app.go("set")
    workout = app.screen("set")
    banner = workout.banner
    for name in words.CUES:
        severity = "stop" if name == "pain_stop" else "warn"
        banner.reset()
        assert banner.offer(name, severity)
        d.frames(1)
        for label, size in ((banner.ids.headline, 44), (banner.ids.detail, 28)):
            assert label.font_size >= size
            assert text_width(label) <= label.width, (name, label.text)
    banner.reset()
    assert workout.ids.gauge_title.font_size >= 24
    assert workout.ids.gauge.width >= 90 and workout.ids.gauge.mark_width >= 6


def text_width(label) -> float:
    """How wide the label's text would be without shortening."""
    from kivy.core.text import Label as CoreLabel

    core = CoreLabel(text=label.text, font_size=label.font_size, bold=label.bold)
    core.refresh()
    return core.texture.size[0]


def test_attract_screen_says_how_to_scan_without_a_camera_and_never_probes_it(fresh, monkeypatch):
    ui, d, app = fresh, fresh.driver, fresh.app

    def probe() -> str:
        raise AssertionError("probe() may open the camera: never on the Kivy thread")

    monkeypatch.setattr(ui.kiosk.scanner, "probe", probe)
    attract = app.screen("attract")

    def enter_attract() -> None:
        app.go("checklist")
        d.until(lambda: not app.manager.transition.is_active, what="left attract")
        app.go("attract")
        d.until(lambda: not app.manager.transition.is_active, what="back on attract")

    enter_attract()
    assert attract.ids.camera_status.text == words.NO_CAMERA
    assert words.SCAN_WITHOUT_CAMERA in attract.ids.first_step.text
    monkeypatch.setattr(ui.kiosk, "settings", ui.kiosk.settings.model_copy(update={"camera": "v4l2:0"}))
    enter_attract()  # a camera configured but not running
    assert attract.ids.camera_status.text == words.CAMERA_TROUBLE
    assert words.SCAN_WITHOUT_CAMERA in attract.ids.first_step.text


def test_settings_buttons_grey_out_at_their_limits_and_saves_of_others_do_not_mark_saved(fresh):
    ui, d, app = fresh, fresh.driver, fresh.app
    start_member(ui, "m-uma")
    settings = app.screen("settings")
    backrest, feet = row(settings, "backrest"), row(settings, "foot_height")
    assert feet.value == "High" and feet.ids.plus.disabled  # already as high as it goes
    d.tap(backrest.ids.minus)
    assert backrest.value.startswith("Notch 1") and backrest.ids.minus.disabled
    d.tap(backrest.ids.minus)
    assert backrest.value.startswith("Notch 1")

    app.on_core(ProfileSaved(ts=time.time(), session=None, member="m-earlier", rev=4), 0.0)
    assert not settings.saved
    d.tap(settings.ids.save)
    d.until(lambda: settings.saved, what="this member's save confirmed")
