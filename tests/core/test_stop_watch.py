"""The stop watch on its own: when staff are alerted about a STOP, how often, and what keeps the session."""

from kiosk.contract.events import Alert, CueRaised, SessionEnd
from kiosk.core.stop_watch import ALERT_AFTER_S, ALERT_EVERY_S, StopWatch


class Watched:
    def __init__(self) -> None:
        self.sent: list[Alert] = []
        self.kept: list[float] = []
        self.reminded: list[str] = []
        self.watch = StopWatch(self.sent.append, member=lambda: "m_sam", keep_session=self.kept.append,
                               remind=lambda cue: self.reminded.append(cue.cue))


def stop(cue: str = "liftoff_lumbar") -> CueRaised:
    return CueRaised(ts=1.0, session="s1", cue=cue, severity="stop", rep=2)


def test_an_unacknowledged_stop_alerts_after_its_time_then_again_and_keeps_the_session():
    w = Watched()
    w.watch.seen(stop(), now=100.0)
    w.watch.tick(100.0 + ALERT_AFTER_S - 0.1)
    assert w.sent == [] and w.kept  # kept open from the start: a 90 s idle timeout must not end it
    w.watch.tick(100.0 + ALERT_AFTER_S)
    assert [(a.reason, a.member, a.cue, a.repeat, a.session) for a in w.sent] == [
        ("stop_unacknowledged", "m_sam", "liftoff_lumbar", 1, "s1")]
    assert w.reminded == ["liftoff_lumbar"]
    w.watch.tick(100.0 + ALERT_AFTER_S + ALERT_EVERY_S - 0.1)
    assert len(w.sent) == 1
    w.watch.tick(100.0 + ALERT_AFTER_S + ALERT_EVERY_S)
    assert [a.repeat for a in w.sent] == [1, 2] and w.sent[1].waited_s == ALERT_AFTER_S + ALERT_EVERY_S
    assert w.kept[-1] == 100.0 + ALERT_AFTER_S + ALERT_EVERY_S


def test_a_second_stop_does_not_restart_the_wait():
    w = Watched()
    w.watch.seen(stop(), now=0.0)
    w.watch.seen(stop("sensor_lost"), now=20.0)
    w.watch.tick(ALERT_AFTER_S)
    assert [a.cue for a in w.sent] == ["liftoff_lumbar"]


def test_acknowledged_pain_or_session_end_means_no_alert():
    for answer in ("tap", "pain", "end"):
        w = Watched()
        w.watch.seen(stop(), now=0.0)
        if answer == "tap":
            w.watch.acknowledged()
        elif answer == "pain":
            w.watch.seen(stop("pain_stop"), now=1.0)
        else:
            w.watch.seen(SessionEnd(ts=2.0, session="s1", reason="logout", sets=1, reps=3), now=2.0)
        w.watch.tick(10 * ALERT_EVERY_S)
        assert w.sent == [] and w.kept == [] and not w.watch.waiting, answer


def test_warnings_and_stops_outside_a_session_are_not_watched():
    w = Watched()
    w.watch.seen(CueRaised(ts=1.0, session="s1", cue="too_deep", severity="warn"), now=0.0)
    w.watch.seen(CueRaised(ts=1.0, session=None, cue="sensor_lost", severity="stop"), now=0.0)
    w.watch.tick(10 * ALERT_EVERY_S)
    assert w.sent == [] and not w.watch.waiting
