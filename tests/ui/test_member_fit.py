"""The guided setup as a first-timer lives it, in the real window (issue 22, items 4, 5, 8 and 10): reps
in which the back or the hips came off the pad set nothing, "Your range is set" shows what the profile got,
the top it learnt is where the member rests, not a line that nags them there, and a max depth a lift-off
lowered says why and can be restored by staff."""

import time

import pytest

from kiosk.contract.events import CueRaised, RepDone
from kiosk.contract.profile import MaxLowered, MemberProfile
from kiosk.core.snapshot import SetupProgress
from kiosk.dev.broker import publish
from kiosk.sim.motion import SledPath
from kiosk.words import wording as words
from tests.ui.members import MODEL, SAVED
from tests.ui.technician import asked
from tests.ui.test_member_screens import first_visit

pytestmark = pytest.mark.ui
TOP = 40.0


def rep(ui, depth: float, lift: str | None = None, back_on_pad: bool = True, top: float = TOP) -> None:
    """A slow rep from `top` to `depth` and back; with `lift`, that pad empties at the bottom (and fills
    again at the top)."""
    ui.node.play(SledPath(start=0.0, mm=top).hold(0.6).move(depth, 2.4))
    ui.driver.until(lambda: ui.node.idle(), what="sled down")
    if lift:
        ui.node.liftoff(lift, "start")
    ui.node.play(SledPath(start=0.0, mm=depth).move(top, 1.2).hold(0.8))
    ui.driver.until(lambda: ui.node.idle(), what="sled up")
    if lift and back_on_pad:
        ui.node.liftoff(lift, "end")


def start_setup(ui, member: str):
    first_visit(ui, member, "Fay")
    setup = ui.app.screen("setup")
    ui.driver.tap(setup.ids.primary)
    assert setup.stage == "reps"
    return setup


def test_reps_with_the_hips_off_the_pad_do_not_count_and_say_so(fresh):
    ui, d = fresh, fresh.driver
    setup = start_setup(ui, "m-hips")
    rep(ui, 300.0, lift="pelvis", back_on_pad=False)
    d.until(lambda: setup.lifted_reps == 1, timeout=5, what="the lifted rep seen")
    assert setup.reps_done == 0 and words.REP_LIFTED in setup.ids.body.text
    rep(ui, 320.0)  # the hips are still up: no new event, still not a clean rep
    d.until(lambda: setup.lifted_reps == 2, timeout=5, what="the second lifted rep seen")
    ui.node.liftoff("pelvis", "end")
    rep(ui, 250.0)
    rep(ui, 260.0)
    d.until(lambda: setup.stage == "done", timeout=10, what="two clean reps learnt")
    # From the clean reps (deepest 260 mm, less the margin), not from the 320 mm one with the hips up.
    assert setup.result.target_depth_mm == 240.0
    d.until(lambda: ui.kiosk.session.settings.target_depth_mm == 240.0, what="saved")


def test_your_range_is_set_shows_the_target_and_max_the_profile_got(fresh):
    ui, d = fresh, fresh.driver
    setup = start_setup(ui, "m-fit")
    rep(ui, 300.0, lift="lumbar")  # the max comes up to short of where the back lifted
    d.until(lambda: setup.lifted_reps == 1, timeout=5, what="the lifted rep seen")
    rep(ui, 300.0)
    rep(ui, 310.0)
    d.until(lambda: setup.stage == "done", timeout=10, what="range learnt")
    session_id = ui.app.session_id
    saved = ui.screen.wait_for(lambda m: isinstance(m, SetupProgress) and m.stage == "done"
                               and m.session == session_id)
    session = ui.kiosk.session.settings
    # What the reps alone taught (290 mm) is past the lowered max: the screen shows what was saved.
    assert session.target_depth_mm <= session.max_depth_mm - 10 < 290.0
    assert (saved.target_depth_mm, saved.max_depth_mm) == (session.target_depth_mm, session.max_depth_mm)
    assert setup.ids.heading.text == words.RANGE_SET
    body = setup.ids.body.text
    assert f"Target depth: {session.target_depth_mm:.0f} mm" in body
    assert f"never past {session.max_depth_mm:.0f} mm" in body
    d.until(lambda: ui.kiosk.profiles.settings_for("m-fit")[1] == session, what="the profile saved as shown")



def test_a_member_resting_at_their_own_top_after_the_setup_is_not_told_soft_knees(fresh):
    ui, d, app = fresh, fresh.driver, fresh.app
    setup = start_setup(ui, "m-rest")
    ui.node.play(SledPath(start=0.0, mm=TOP).move(22.0, 0.6).hold(0.6))
    d.until(lambda: ui.node.idle(), what="resting at their top, 22 mm short of straight legs")
    for depth in (250.0, 260.0):
        rep(ui, depth, top=22.0)
    d.until(lambda: setup.stage == "done", timeout=10, what="range learnt")
    assert setup.result.top_mm == 22.0
    learnt = len(ui.screen.seen)  # (the first-time default top, 30 mm, may have warned during the setup)
    d.tap(setup.ids.primary)  # keep it: on to the set, which goes on from the setup's reps
    assert ui.current() == "set"
    for depth in (245.0, 250.0):
        rep(ui, depth, top=22.0)
    d.until(lambda: sum(isinstance(m, RepDone) for m in ui.screen.seen[learnt:]) >= 2, timeout=5,
            what="the set's reps counted")
    cues = [m.cue for m in ui.screen.seen[learnt:] if isinstance(m, CueRaised)]
    assert "depth_reached" in cues and "lockout" not in cues
    assert app.screen("set").banner.cue != "lockout"


def test_a_lowered_max_says_why_and_staff_restore_it_from_the_maintenance_screen(fresh):
    ui, d, app = fresh, fresh.driver, fresh.app
    lowered = SAVED.model_copy(update={"max_depth_mm": 280.0, "target_depth_mm": 250.0, "max_lowered": MaxLowered(
        from_mm=330.0, liftoff_mm=305.0, ts=time.time() - 86400)})
    profile = MemberProfile(member="m-low", name="Lou", rev=1, updated=time.time(), machines={MODEL: lowered})
    publish(ui.broker, ui.kiosk.topics.profile("m-low"), profile.model_dump_json(), retain=True)
    d.until(lambda: ui.kiosk.inbox.call(lambda: ui.kiosk.profiles.book.get("m-low")) is not None, what="profile")
    # The member reads why their max is shallower, beside their settings.
    code = ui.keyring.code("m-low", "Lou")
    ui.scan(code)
    d.until(lambda: ui.current() == "settings", what="settings screen")
    settings = app.screen("settings")
    why = words.max_lowered_line(280.0, 330.0, 305.0)
    d.until(lambda: settings.ids.lowered.text == why and settings.ids.lowered.height > 0, what="the reason shown")
    ui.scan(code)  # done: logged out
    d.until(lambda: ui.current() == "attract", what="logged out")

    # Staff list the lowered max depths, and restore this one after a confirmation.
    ui.scan(ui.keyring.code("tech", "Robin", role="staff"))
    d.until(lambda: ui.current() == "maintenance", what="maintenance screen")
    m = app.screen("maintenance")
    d.tap(m.ids.lowered_maxes)
    asked(d, m, "restore")
    assert words.lowered_max_row("Lou", 280.0, 330.0) in m.result
    assert m.ids.confirm.text == words.restore_max_button("Lou")
    d.tap(m.ids.confirm)
    d.until(lambda: not m.busy and m.result == words.max_restored("m-low", 330.0), what="restored")
    saved = ui.kiosk.inbox.call(lambda: ui.kiosk.profiles.settings_for("m-low")[1])
    assert saved is not None and (saved.max_depth_mm, saved.max_lowered, saved.target_depth_mm) == (330.0, None, 250.0)
    before = m.result
    d.tap(m.ids.lowered_maxes)
    d.until(lambda: not m.busy and m.result != before, what="the list again")
    # Lou is off it (other members' lift-offs in this window's earlier tests may be on it).
    assert "Lou" not in m.result and (not m.asking or m.restore_member != "m-low")
    if m.asking:
        d.tap(m.ids.cancel)
    d.tap(m.ids.done)
    d.until(lambda: ui.current() == "attract", what="maintenance left")

    # Back at the machine: the max they had, and nothing to explain.
    ui.scan(code)
    d.until(lambda: ui.current() == "settings", what="settings screen again")
    depth = next(r for r in settings.ids.rows.children if r.key == "depth")
    d.until(lambda: depth.value == words.depth_text(250.0, 330.0), what="the restored max on screen")
    assert settings.lowered_text == "" and settings.ids.lowered.height == 0
    ui.scan(code)
