"""The load stepper on the set screen, through the real window, broker and sensor node: the load the member
taps in is remembered in their profile, shown with each rep's push, and the set goes on under the same engine."""

import pytest

from kiosk.sim.motion import SledPath
from kiosk.ui.screens.workout import stepped_load
from tests.ui.members import MODEL, on_set_screen

pytestmark = pytest.mark.ui


def test_the_stepper_moves_on_the_plates_grid():
    assert stepped_load(None, 1) == 2.5
    assert stepped_load(80.0, 1) == 82.5 and stepped_load(81.0, -1) == 77.5
    assert stepped_load(2.5, -1) is None  # below one step: no load told, not a load of 0
    assert stepped_load(999.0, 4) == 1000.0


def test_a_load_tapped_in_mid_set_is_saved_and_shown_and_the_engine_goes_on(fresh):
    ui, d, app = fresh, fresh.driver, fresh.app
    on_set_screen(ui, "m-kai")
    workout = app.screen("set")
    assert workout.ids.load.text == "Load: not set"
    ui.node.play(SledPath(start=0.0, mm=40).hold(0.4).move(250, 2.5).hold(0.2).move(40, 1.2).hold(0.6))
    d.until(lambda: ui.node.idle(), what="first rep")
    engine = ui.kiosk.engine
    d.until(lambda: ui.kiosk.snapshot.set_open, what="set open")
    for _ in range(4):
        d.tap(workout.ids.load_up)
    d.until(lambda: workout.ids.load.text == "Load 10 kg", what="load on screen")
    book = ui.kiosk.profiles.book
    d.until(lambda: (ui.kiosk.inbox.call(lambda: book.get("m-kai")).machines[MODEL].load_kg == 10.0),
            what="load saved in the profile")
    assert ui.kiosk.engine is engine and ui.kiosk.snapshot.set_open
    ui.node.play(SledPath(start=0.0, mm=40).move(250, 2.5).hold(0.2).move(40, 1.2).hold(0.6))
    d.until(lambda: ui.node.idle() and app.reps == 2, what="second rep")
    # The push of each rep under the counter, in m/s (no power: the generic model has no sled mechanics).
    d.until(lambda: "m/s" in workout.ids.last_rep.text, what="velocity shown")
    d.tap(workout.ids.load_down)
    d.until(lambda: workout.ids.load.text == "Load 7.5 kg", what="one step down")


def test_a_returning_member_sees_last_time_on_the_settings_screen(fresh, tmp_path):
    import time

    from kiosk.contract.profile import MemberProfile, Visit
    from kiosk.dev.broker import publish
    from tests.ui.members import SAVED

    ui, d, app = fresh, fresh.driver, fresh.app
    visit = Visit(date="2026-12-01", sets=3, reps=30, load_kg=80, best_reps=10, best_mean_velocity_mps=0.42)
    settings = SAVED.model_copy(update={"load_kg": 80.0, "history": [visit]})
    profile = MemberProfile(member="m-ria", name="Ria", rev=1, updated=time.time(), machines={MODEL: settings})
    publish(ui.broker, ui.kiosk.topics.profile("m-ria"), profile.model_dump_json(), retain=True)
    d.until(lambda: ui.kiosk.inbox.call(lambda: ui.kiosk.profiles.book.get("m-ria")) is not None, what="profile")
    ui.scan(ui.keyring.code("m-ria", "Ria"))
    d.until(lambda: ui.current() == "settings", what="settings screen")
    label = app.screen("settings").ids.last_time
    d.until(lambda: label.text.startswith("Last time (2026-12-01): 3 sets, 30 reps; best set 80 kg x 10"),
            what="last time shown")
    d.until(lambda: not app.manager.transition.is_active, what="the fade to the settings screen done")
    d.screenshot(str(tmp_path / "last_time.png"))
    d.tap(app.screen("settings").ids.next)
    d.tap(app.screen("checklist").ids.skip)
    assert app.screen("set").ids.load.text == "Load 80 kg"
