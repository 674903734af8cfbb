"""After a set, and at the end of a session: what was done and what to change next time."""

from kivy.app import App
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.contract.events import RepDone, SessionEnd, SetEnd
from kiosk.core import wording as words
from kiosk.ui.kv import load_beside
from kiosk.ui.widgets import common, gauges  # noqa: F401 - widget classes the .kv uses


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


class SummaryScreen(Screen):
    """One screen for both: `final` is True for the end of the session (no "another set")."""

    title = StringProperty("")
    has_bars = BooleanProperty(False)
    stats = StringProperty("")
    advice = StringProperty("")
    final = BooleanProperty(False)

    def reset(self) -> None:
        self.title = self.stats = self.advice = ""
        self.final = False
        self._bars([])

    def show_set(self, set_end: SetEnd, reps: list[RepDone], cues: list[str]) -> None:
        self.final = False
        self.title = f"Set {set_end.set_number} stopped" if set_end.stopped else f"Set {set_end.set_number} done"
        self.stats = "\n".join((
            f"Reps: {set_end.reps}",
            f"Deepest: {words.mm(set_end.max_depth_mm)}",
            f"Lift-offs: {set_end.liftoffs}",
            f"Down: {words.seconds(_mean([r.eccentric_s for r in reps]))}",
            f"Up: {words.seconds(_mean([r.concentric_s for r in reps]))}",
        ))
        self._advice(set_end, cues)
        self._bars([r.depth_mm for r in reps])

    def show_session(self, end: SessionEnd, last: tuple[SetEnd, list[RepDone], list[str]] | None) -> None:
        self.final = True
        self.title = "All done. See you next time!"
        minutes = int(end.duration_s // 60)
        self.stats = "\n".join((
            f"Sets: {end.sets}",
            f"Reps: {end.reps}",
            f"Deepest: {words.mm(end.max_depth_mm)}",
            f"Lift-offs: {end.liftoffs}",
            f"Time: {minutes} min",
        ))
        if last is not None:
            self._advice(last[0], last[2])
            self._bars([r.depth_mm for r in last[1]])
        else:
            self.advice = ""
            self._bars([])

    def _bars(self, depths: list[float]) -> None:
        self.has_bars = bool(depths)
        self.ids.bars.show(depths)

    def _advice(self, set_end: SetEnd, cues: list[str]) -> None:
        self.advice = "\n".join(f"\u2022 {line}" for line in words.next_time(set_end, cues))

    def done(self) -> None:
        app = App.get_running_app()
        if self.final:
            app.forget_member()
        else:
            app.finish()


load_beside(__file__)
