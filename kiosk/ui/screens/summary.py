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
    """One screen for both: `final` is True for the end of the session (no "another set").

    A set stopped by the Pain button is not shown as a normal set: its own
    title, the pain advice, and no "another set" after a pain that may come
    from a nerve. `pain` is None without pain, "" if the kind was never told.
    """

    title = StringProperty("")
    has_bars = BooleanProperty(False)
    stats = StringProperty("")
    advice = StringProperty("")
    final = BooleanProperty(False)
    no_more_sets = BooleanProperty(False)
    advice_title = StringProperty("Next time")

    def reset(self) -> None:
        self.title = self.stats = self.advice = ""
        self.final = self.no_more_sets = False
        self._bars([])

    def show_set(self, set_end: SetEnd | None, reps: list[RepDone], cues: list[str], pain: str | None = None) -> None:
        """A set's summary; `set_end` is None only for a pain stop with no set open."""
        self.final = False
        self.no_more_sets = pain in words.PAIN_ENDS_TRAINING
        self.advice_title = "Next time" if pain is None else words.PAIN_ADVICE_TITLE
        if pain is not None:
            self.title = words.PAIN_SET_TITLE
        else:
            self.title = f"Set {set_end.set_number} stopped" if set_end.stopped else f"Set {set_end.set_number} done"
        self.stats = "" if set_end is None else "\n".join((
            f"Reps: {set_end.reps}",
            f"Deepest: {words.mm(set_end.max_depth_mm)}",
            f"Lift-offs: {set_end.liftoffs}",
            f"Down: {words.seconds(_mean([r.eccentric_s for r in reps]))}",
            f"Up: {words.seconds(_mean([r.concentric_s for r in reps]))}",
        ))
        self._advice(words.pain_advice(pain) if pain is not None else words.next_time(set_end, cues))
        self._bars([r.depth_mm for r in reps])

    def show_session(self, end: SessionEnd, last: tuple[SetEnd, list[RepDone], list[str]] | None,
                     pain: str | None = None) -> None:
        self.final = True
        self.no_more_sets = False
        self.title = "All done. See you next time!"
        minutes = int(end.duration_s // 60)
        self.stats = "\n".join((
            f"Sets: {end.sets}",
            f"Reps: {end.reps}",
            f"Deepest: {words.mm(end.max_depth_mm)}",
            f"Lift-offs: {end.liftoffs}",
            f"Time: {minutes} min",
        ))
        self.advice_title = "Next time" if pain is None else words.PAIN_ADVICE_TITLE
        if pain is not None:
            advice = words.pain_advice(pain)
        else:
            advice = words.next_time(last[0], last[2]) if last is not None else []
        # Leaving the machine is when a stiff back shows: the stretch tip fits here.
        self._advice([*advice, words.STANDING_UP_TIP])
        self._bars([r.depth_mm for r in last[1]] if last is not None else [])

    def _bars(self, depths: list[float]) -> None:
        self.has_bars = bool(depths)
        self.ids.bars.show(depths)

    def _advice(self, lines: list[str]) -> None:
        self.advice = "\n".join(f"\u2022 {line}" for line in lines)

    def done(self) -> None:
        app = App.get_running_app()
        if self.final:
            app.forget_member()
        else:
            app.finish()


load_beside(__file__)
