"""The checklist before any rep, in the real window: a first-timer sees it before the guided setup's reps
(issue 22, item 6)."""

import pytest

from kiosk.sim.motion import SledPath
from kiosk.words import wording as words

pytestmark = pytest.mark.ui


def test_a_first_timer_sees_the_checklist_before_the_setup_reps_and_not_again_after(fresh):
    ui, d, app = fresh, fresh.driver, fresh.app
    seen: list[str] = []
    app.manager.bind(current=lambda _m, name: seen.append(name))
    ui.scan(ui.keyring.code("m-chk", "Ria"))
    d.until(lambda: ui.current() == "checklist", what="the checklist first")
    checklist = app.screen("checklist")
    assert [row.title for row in checklist.rows] == [title for title, _ in words.CHECKLIST]
    for row in checklist.rows:
        d.tap(row)
    assert checklist.all_ticked
    d.tap(checklist.ids.start)
    setup = app.screen("setup")
    d.until(lambda: ui.current() == "setup" and setup.stage == "intro", what="then the guided setup")
    d.tap(setup.ids.secondary)  # Skip: the safe defaults
    d.until(lambda: ui.current() == "set", what="on to the set, without the checklist again")
    assert seen == ["checklist", "setup", "set"]


def test_a_first_timer_who_presses_at_once_has_had_the_checklist_on_screen(fresh):
    ui, d = fresh, fresh.driver
    ui.scan(ui.keyring.code("m-hst", "Hal"))
    d.until(lambda: ui.current() == "checklist", what="the checklist is the first screen")
    ui.node.play(SledPath(start=0.0, mm=40).hold(0.2).move(180, 2.0))
    d.until(lambda: ui.current() == "set", timeout=4, what="pressing brings the set screen with its Pain button")
    ui.node.play(SledPath(start=0.0, mm=180).move(40, 1.0))
    d.until(lambda: ui.node.idle(), what="sled back up")
