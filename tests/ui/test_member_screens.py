"""A member at the machine, in the real window: scan, settings, a set with live cues, pain, summary, and back."""

import time

import pytest
from kivy.graphics import Color

from kiosk.contract.profile import MachineSettings, MemberProfile
from kiosk.core.session import ScanFeedback
from kiosk.sim.motion import SledPath
from kiosk.core import wording as words
from kiosk.ui import theme

pytestmark = pytest.mark.ui

MODEL = "generic-45"
SAVED = MachineSettings(backrest_notch=2, foot_height="high", toe_angle_deg=10, target_depth_mm=250,
                        max_depth_mm=330, top_mm=30)


def banner_colour(banner) -> tuple:
    return tuple(next(i for i in banner.canvas.before.children if isinstance(i, Color)).rgba)


def row(screen, key: str):
    return next(r for r in screen.ids.rows.children if r.key == key)


def seed_profile(ui, member: str) -> None:
    """The member's profile as the fleet keeps it: retained on the site's profile topic."""
    from kiosk.devbroker import publish

    profile = MemberProfile(member=member, name="Jo", rev=1, updated=time.time(), machines={MODEL: SAVED})
    publish(ui.broker, ui.kiosk.topics.profile(member), profile.model_dump_json(), retain=True)
    ui.driver.until(lambda: ui.kiosk.inbox.call(lambda: ui.kiosk.profiles.get(member)) is not None, what="profile")


def reps(top: float, depths: list[float], down_s: list[float], up_s: float = 1.2) -> SledPath:
    path = SledPath(start=0.0, mm=top).hold(0.6)
    for depth, down in zip(depths, down_s):
        path.move(depth, down).move(top, up_s).hold(0.6)
    return path


def test_rejected_code_shows_the_reason_on_the_attract_screen(fresh):
    ui = fresh
    ui.scan("this-is-not-a-member-code")
    feedback = ui.screen.wait_for(lambda m: isinstance(m, ScanFeedback) and not m.accepted)
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
    assert abs(workout.ids.gauge.depth_mm - ui.kiosk.sensor.last_mm) < 20

    d.tap(workout.ids.pain)
    pain = app.screen("pain")
    assert ui.current() == "pain"
    d.tap(pain.ids.kinds.children[-1])  # the first button: sharp
    report = ui.screen.wait_for(lambda m: getattr(m, "type", None) == "pain_report")
    assert report.kind == "sharp"
    d.until(lambda: pain.confirmed == words.STAFF_TOLD, what="pain report confirmed")
    assert pain.ids.advice.text == words.PAIN_ADVICE["sharp"]
    assert not app.stop_overlay.shown  # the pain screen already says stop

    d.until(lambda: app.pending_set is not None, what="the set closed")
    d.tap(pain.ids.back)
    summary = app.screen("summary")
    assert ui.current() == "summary"
    assert summary.title == "Set 1 done"
    assert "Reps: 2" in summary.ids.stats.text
    assert summary.ids.bars.depths and len(summary.ids.bars.depths) == 2

    d.tap(summary.ids.done)  # Finish: the session ends and its summary shows
    d.until(lambda: summary.final, what="session summary")
    assert "Reps: 2" in summary.stats
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
    assert "recline" in summary.ids.advice.text


def test_first_time_member_learns_depth_from_two_slow_reps(fresh):
    ui, d, app = fresh, fresh.driver, fresh.app
    ui.scan(ui.keyring.code("m-new", "Nia"))
    d.until(lambda: ui.current() == "setup", what="guided setup")
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
    assert ui.current() == "checklist"
    d.until(lambda: ui.kiosk.session.settings.target_depth_mm == learnt.target_depth_mm, what="saved to the profile")
    assert not ui.kiosk.session.first_time


def test_a_warning_during_the_guided_setup_reps_is_shown_over_it(fresh):
    ui, d, app = fresh, fresh.driver, fresh.app
    ui.scan(ui.keyring.code("m-lee", "Lee"))
    d.until(lambda: ui.current() == "setup", what="guided setup")
    setup = app.screen("setup")
    d.tap(setup.ids.primary)
    ui.node.play(SledPath(start=0.0, mm=40).hold(0.4).move(230, 2.5))
    d.until(lambda: ui.node.idle(), what="sled down")
    ui.node.liftoff("lumbar", "start")
    d.until(lambda: app.toast.opacity == 1, timeout=3, what="lift-off warning shown")
    assert app.toast.text.startswith(words.CUES["liftoff_lumbar"][0])
    assert ui.current() == "setup"
    ui.node.liftoff("lumbar", "end")
    ui.node.play(SledPath(start=0.0, mm=230).move(40, 1.5))
