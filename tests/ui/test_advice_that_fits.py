"""Advice after a stopped set, in the real window: only what the member's settings still allow (issue 22, item 7)."""

import time

import pytest

from kiosk.contract.profile import MemberProfile
from kiosk.dev.broker import publish
from kiosk.sim.motion import SledPath
from kiosk.words import wording as words
from tests.ui.members import MODEL, SAVED

pytestmark = pytest.mark.ui


def test_a_member_already_fully_reclined_with_feet_high_is_not_told_to_recline_or_raise_them(fresh):
    ui, d, app = fresh, fresh.driver, fresh.app
    member = "m-rec"
    reclined = SAVED.model_copy(update={"backrest_notch": 1, "foot_height": "high"})  # notch 1: 30°, the lowest
    profile = MemberProfile(member=member, name="Rae", rev=1, updated=time.time(), machines={MODEL: reclined})
    publish(ui.broker, ui.kiosk.topics.profile(member), profile.model_dump_json(), retain=True)
    d.until(lambda: ui.kiosk.inbox.call(lambda: ui.kiosk.profiles.book.get(member)) is not None, what="profile")
    ui.scan(ui.keyring.code(member, "Rae"))
    d.until(lambda: ui.current() == "settings", what="settings screen")
    rows = {row.key: row for row in app.screen("settings").ids.rows.children}
    assert rows["backrest"].value.startswith("Notch 1")

    ui.node.play(SledPath(start=0.0, mm=40).hold(0.4).move(270, 2.5))
    d.until(lambda: ui.current() == "set" and ui.node.idle(), what="on the set screen, sled down")
    for state in ("start", "end", "start"):
        ui.node.liftoff("lumbar", state)
    d.until(lambda: app.stop_overlay.shown, timeout=3, what="stop over the whole screen")
    ui.node.liftoff("lumbar", "end")
    ui.node.play(SledPath(start=0.0, mm=270).move(40, 1.5))
    d.until(lambda: app.pending_set is not None, what="stopped set ended")
    d.tap(app.stop_overlay.ids.ok)
    summary = app.screen("summary")
    d.until(lambda: ui.current() == "summary", what="the set's summary")
    advice = summary.ids.advice.text
    assert "recline" not in advice.lower() and "higher on the plate" not in advice
    assert words.STOP_SUGGESTIONS[2] in advice and words.STOP_SUGGESTIONS[3] in advice
