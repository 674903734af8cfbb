"""A STOP nobody taps away, in the real window: staff get an alert and the screen keeps asking (issue 22, item 3)."""

import pytest

from kiosk.contract.events import Alert
from kiosk.sim.motion import SledPath
from kiosk.words import wording as words
from kiosk.words.event_lines import EventLines
from tests.ui.members import on_set_screen

pytestmark = pytest.mark.ui


@pytest.fixture
def quick_alerts(fresh):
    """The alert after 1 s and again every 1.5 s, instead of 30 s and 60 s: the shared window's clock is real."""
    watch = fresh.kiosk.stop_watch
    before = (watch.after_s, watch.every_s)
    fresh.kiosk.inbox.call(lambda: (setattr(watch, "after_s", 1.0), setattr(watch, "every_s", 1.5)))
    yield watch
    fresh.kiosk.inbox.call(lambda: (setattr(watch, "after_s", before[0]), setattr(watch, "every_s", before[1])))


def alerts(events) -> list[Alert]:
    return [e for m in events.messages if isinstance(e := m.event(), Alert)]


def no_alert_even_much_later(ui, watch) -> None:
    """Ticks the stop watch far past every alert time on the core thread: an acknowledged STOP sends nothing
    (what the core shows is recorded as it is sent, so nothing to wait for)."""
    shown = len(ui.kiosk.screen.items)
    ui.kiosk.inbox.call(lambda: watch.tick(ui.kiosk.clock.now() + 3600))
    assert not [m for m in ui.kiosk.screen.items[shown:] if isinstance(m, Alert)]


def test_a_stop_left_alone_alerts_staff_keeps_asking_and_keeps_the_session(fresh, events, quick_alerts):
    ui, d, app = fresh, fresh.driver, fresh.app
    on_set_screen(ui, "m-lee")
    ui.node.play(SledPath(start=0.0, mm=40).hold(0.4).move(270, 2.0))
    d.until(lambda: ui.node.idle(), what="sled down")
    for state in ("start", "end", "start"):
        ui.node.liftoff("lumbar", state)
    d.until(lambda: app.stop_overlay.shown, timeout=3, what="stop over the whole screen")
    assert app.stop_overlay.detail == words.STOPPED_SET[1]
    played = ui.kiosk.sound.played  # the last few files only: emptied here, to see the reminder come
    ui.kiosk.inbox.call(played.clear)

    # Nobody taps: staff are alerted, the screen asks the member, the tone sounds again, the session stays.
    d.until(lambda: alerts(events), timeout=5, what="an alert for staff")
    first = alerts(events)[0]
    assert first.reason == "stop_unacknowledged" and first.member == "m-lee" and first.cue == "liftoff_lumbar"
    assert first.session == app.session_id and first.waited_s >= 1.0 and first.repeat == 1
    d.until(lambda: app.stop_overlay.detail == words.STOP_STILL_THERE, what="the screen keeps asking")
    assert app.stop_overlay.shown and app.stop_overlay.headline == words.STOPPED_SET[0]
    assert played and set(played) == {"set_stopped.wav"}  # the stop said again, for the member
    line = EventLines().describe(first)
    assert line.startswith("ALERT") and "m-lee" in line and "under the weight" in line  # as `watch` prints it

    d.until(lambda: len(alerts(events)) >= 2, timeout=5, what="the alert repeated")
    assert alerts(events)[1].repeat == 2 and ui.kiosk.session is not None

    # The member taps the STOP away: it is acknowledged and no more alerts come.
    ui.node.liftoff("lumbar", "end")
    d.tap(app.stop_overlay.ids.ok)
    d.until(lambda: not ui.kiosk.inbox.call(lambda: quick_alerts.waiting), what="acknowledged")
    no_alert_even_much_later(ui, quick_alerts)


def test_a_stop_tapped_away_alerts_nobody(fresh, events, quick_alerts):
    ui, d, app = fresh, fresh.driver, fresh.app
    ui.kiosk.inbox.call(lambda: setattr(quick_alerts, "after_s", 600.0))  # the tap comes first, however slow
    on_set_screen(ui, "m-max")
    ui.node.play(SledPath(start=0.0, mm=40).hold(0.4).move(270, 2.0))
    d.until(lambda: ui.node.idle(), what="sled down")
    for state in ("start", "end", "start"):
        ui.node.liftoff("lumbar", state)
    d.until(lambda: app.stop_overlay.shown, timeout=3, what="stop over the whole screen")
    d.tap(app.stop_overlay.ids.ok)
    d.until(lambda: not ui.kiosk.inbox.call(lambda: quick_alerts.waiting), what="acknowledged")
    no_alert_even_much_later(ui, quick_alerts)
    ui.node.liftoff("lumbar", "end")
