"""The session's summary on the real window, through a real broker and sensor node: today's best set against
last time at this machine, and the load for next time with the rule's reason; the next tap-in's load stepper
starts from that load."""

import time

import pytest

from kiosk.contract.config import KG_PER_LB
from kiosk.contract.profile import MemberProfile, Visit
from kiosk.dev.broker import publish
from kiosk.sim.motion import SledPath
from tests.ui.members import MODEL, SAVED, push_config

pytestmark = pytest.mark.ui


def reps(n: int) -> SledPath:
    """`n` steady reps: down to 250 mm in 1.5 s, up to the top in 0.9 s."""
    path = SledPath(start=0.0, mm=40).hold(0.3)
    for _ in range(n):
        path = path.move(250, 1.5).hold(0.2).move(40, 0.9).hold(0.3)
    return path


def test_the_summary_compares_with_last_time_and_the_next_tap_in_starts_at_the_suggested_load(fresh, tmp_path):
    ui, d, app = fresh, fresh.driver, fresh.app
    last_time = Visit(date="2026-12-01", sets=3, reps=6, load_kg=80, best_reps=2, best_mean_velocity_mps=0.12)
    settings = SAVED.model_copy(update={"load_kg": 80.0, "history": [last_time]})
    profile = MemberProfile(member="m-pia", name="Pia", rev=1, updated=time.time(), machines={MODEL: settings})
    publish(ui.broker, ui.kiosk.topics.profile("m-pia"), profile.model_dump_json(), retain=True)
    d.until(lambda: ui.kiosk.inbox.call(lambda: ui.kiosk.profiles.book.get("m-pia")) is not None, what="profile")
    push_config(ui, {"target_reps": 2})  # two reps a set before one step more: a short test
    try:
        ui.scan(ui.keyring.code("m-pia", "Pia"))
        d.until(lambda: ui.current() == "settings", what="settings screen")
        d.tap(app.screen("settings").ids.next)
        d.tap(app.screen("checklist").ids.skip)
        workout = app.screen("set")
        assert workout.ids.load.text == "Load 80 kg"
        ui.node.play(reps(2))
        d.until(lambda: ui.node.idle() and app.reps == 2, timeout=15, what="two reps")
        d.tap(workout.ids.finish)
        d.tap(workout.ids.finish)  # mid-set, Finish asks once
        d.until(lambda: ui.current() == "summary" and app.screen("summary").final, what="the session's summary")
        summary = app.screen("summary")
        progress = summary.ids.progress.text.splitlines()
        assert progress[0] == "Best set today: 80 kg x 2 (last time 80 kg x 2)."
        assert progress[1].startswith("Fastest push today: ") and progress[1].endswith("(last time 0.12 m/s).")
        assert summary.ids.advice.text.splitlines()[0] == (
            "\u2022 Load for next time: 82.5 kg. Every set reached 2 reps without slowing down too much: "
            "one step more.")
        d.until(lambda: not app.manager.transition.is_active, what="the fade to the summary done")
        d.until(lambda: summary.ids.progress.height > 0 and summary.ids.progress.opacity == 1, what="drawn")
        d.screenshot(str(tmp_path / "session_summary.png"))
        d.tap(summary.ids.done)
        d.until(lambda: ui.current() == "attract", what="attract screen")

        ui.scan(ui.keyring.code("m-pia", "Pia"))
        d.until(lambda: ui.current() == "settings", what="settings screen again")
        assert app.screen("settings").ids.last_time.text.startswith(
            f"Last time ({time.strftime('%Y-%m-%d')}): 1 set, 2 reps; best set 80 kg x 2")
        d.tap(app.screen("settings").ids.next)
        d.tap(app.screen("checklist").ids.skip)
        assert app.screen("set").ids.load.text == "Load 82.5 kg"
        book = ui.kiosk.profiles.book
        assert ui.kiosk.inbox.call(lambda: book.get("m-pia")).machines[MODEL].load_kg == 82.5
    finally:
        push_config(ui, None)


def test_a_site_in_pounds_steps_by_five_pounds_and_shows_pounds_while_the_profile_keeps_kilograms(fresh, tmp_path):
    ui, d, app = fresh, fresh.driver, fresh.app
    hundred_lb = round(100 * KG_PER_LB, 4)
    last_time = Visit(date="2026-12-01", sets=2, reps=20, load_kg=hundred_lb, best_reps=10,
                      best_mean_velocity_mps=0.3)
    settings = SAVED.model_copy(update={"load_kg": hundred_lb, "history": [last_time]})
    profile = MemberProfile(member="m-lou", name="Lou", rev=1, updated=time.time(), machines={MODEL: settings})
    publish(ui.broker, ui.kiosk.topics.profile("m-lou"), profile.model_dump_json(), retain=True)
    d.until(lambda: ui.kiosk.inbox.call(lambda: ui.kiosk.profiles.book.get("m-lou")) is not None, what="profile")
    push_config(ui, {"load_unit": "lb", "target_reps": 2})
    try:
        ui.scan(ui.keyring.code("m-lou", "Lou"))
        d.until(lambda: ui.current() == "settings", what="settings screen")
        d.until(lambda: app.screen("settings").ids.last_time.text.startswith(
            "Last time (2026-12-01): 2 sets, 20 reps; best set 100 lb x 10"), what="last time in pounds")
        d.tap(app.screen("settings").ids.next)
        d.tap(app.screen("checklist").ids.skip)
        workout = app.screen("set")
        assert workout.ids.load.text == "Load 100 lb"
        d.tap(workout.ids.load_up)
        d.until(lambda: workout.ids.load.text == "Load 105 lb", what="five pounds more")
        book = ui.kiosk.profiles.book
        d.until(lambda: ui.kiosk.inbox.call(lambda: book.get("m-lou")).machines[MODEL].load_kg
                == round(105 * KG_PER_LB, 4), what="kept in kilograms")
        ui.node.play(reps(2))
        d.until(lambda: ui.node.idle() and app.reps == 2, timeout=15, what="two reps")
        d.tap(workout.ids.finish)
        d.tap(workout.ids.finish)
        d.until(lambda: ui.current() == "summary" and app.screen("summary").final, what="the session's summary")
        summary = app.screen("summary")
        assert summary.ids.progress.text.splitlines()[0] == "Best set today: 105 lb x 2 (last time 100 lb x 10)."
        assert summary.ids.advice.text.splitlines()[0].startswith("\u2022 Load for next time: 110 lb. ")
        d.until(lambda: not app.manager.transition.is_active, what="the fade to the summary done")
        d.screenshot(str(tmp_path / "session_summary_lb.png"))
        saved = ui.kiosk.inbox.call(lambda: book.get("m-lou")).machines[MODEL]
        assert saved.load_kg == round(110 * KG_PER_LB, 4) and saved.history[-1].load_kg == round(105 * KG_PER_LB, 4)
        d.tap(summary.ids.done)
        d.until(lambda: ui.current() == "attract", what="attract screen")
    finally:
        push_config(ui, None)
    d.until(lambda: app.load_unit == "kg", what="back to kilograms on the screen")
