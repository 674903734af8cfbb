"""The member at the machine, the way issue 11 found it: the screen agrees with the engine, no tap falls
through to the next screen, the set's advice is seen, and nothing of a member outlives their session."""

import pytest

from kiosk.contract.events import KIOSK_EVENT
from kiosk.contract.profile import MemberProfile
from kiosk.core.depth_limits import TARGET_MARGIN_MM
from kiosk.sim.motion import SledPath
from tests.ui.members import SAVED, on_set_screen

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

    d.tap(workout.ids.finish)  # between sets: one tap is enough
    d.until(lambda: ui.kiosk.session is None, what="session ended")
    book = ui.kiosk.profiles.book
    d.until(lambda: ui.kiosk.inbox.call(lambda: book.rev("m-lia")) >= 2, what="learnt limits saved")
    kept: MemberProfile = ui.kiosk.inbox.call(lambda: book.get("m-lia"))
    machine = kept.machines["generic-45"]
    assert machine.max_depth_mm == limits.max_depth_mm
    assert machine.max_depth_mm - machine.target_depth_mm >= TARGET_MARGIN_MM
