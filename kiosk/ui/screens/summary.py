"""After a set, and at the end of a session: what was done and what to change next time."""

from collections.abc import Callable, Sequence

from kivy.app import App
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.contract.events import RepDone, SessionEnd, SetEnd
from kiosk.core.snapshot import VisitDone
from kiosk.core.training.session import SetRecord
from kiosk.ui.kv import load_beside
from kiosk.ui.widgets import common, gauges  # noqa: F401 - widget classes the .kv uses
from kiosk.words import wording as words


class SummaryScreen(Screen):
    """One screen for both: `final` is True for the end of the session (no "another set").

    A set stopped by the Pain button is not shown as a normal set: its own
    title, the pain advice, and no "another set" after a pain that may come
    from a nerve. `pain` is None without pain, "" if the kind was never told.
    """

    title = StringProperty("")
    has_bars = BooleanProperty(False)
    stats = StringProperty("")
    progress = StringProperty("")  # the session's end: today against last time at this machine
    advice = StringProperty("")
    final = BooleanProperty(False)
    no_more_sets = BooleanProperty(False)
    advice_title = StringProperty("Next time")
    bars_title = StringProperty(words.BARS_SET)
    _shown: Callable[[], None] | None = None  # shows the summary on screen again (a new language)

    def retranslate(self) -> None:
        """The summary on screen, built again in the new language."""
        if self._shown is not None:
            self._shown()

    def reset(self) -> None:
        self._shown = None
        self.title = self.stats = self.advice = self.progress = ""
        self.final = self.no_more_sets = False
        self._bars([])

    def show_set(self, set_end: SetEnd | None, reps: Sequence[RepDone], cues: Sequence[str],
                 pain: str | None = None) -> None:
        """A set's summary; `set_end` is None only for a pain stop with no set open."""
        self._shown = lambda: self.show_set(set_end, reps, cues, pain)
        self.final = False
        self.progress = ""
        self.no_more_sets = pain in words.PAIN_ENDS_TRAINING
        self.advice_title = words.tr(words.NEXT_TIME_TITLE if pain is None else words.PAIN_ADVICE_TITLE)
        if pain is not None or set_end is None:
            self.title = words.tr(words.PAIN_SET_TITLE)
        else:
            self.title = words.set_title(set_end)
        self.stats = "" if set_end is None else "\n".join(words.set_stats(set_end, reps))
        self._advice(words.pain_advice(pain) if pain is not None else words.next_time(set_end, cues))
        self.bars_title = words.tr(words.BARS_SET)
        self._bars([r.depth_mm for r in reps])

    def show_session(self, end: SessionEnd, last: SetRecord | None, pain: str | None = None,
                     sets: Sequence[SetRecord] = (), done: VisitDone | None = None) -> None:
        """The session's summary: today against last time (`done`, None when nothing was kept), and advice
        from all its sets, a stopped set's first; the load for next time leads it, unless there was pain."""
        self._shown = lambda: self.show_session(end, last, pain, sets, done)
        self.final = True
        self.no_more_sets = False
        self.title = words.tr(words.SESSION_DONE_TITLE)
        self.stats = "\n".join(words.session_stats(end))
        compared = words.progress_lines(done.today, done.before, done.first_visit, done.load_unit) if done else []
        self.progress = "\n".join(compared)
        self.advice_title = words.tr(words.NEXT_TIME_TITLE if pain is None else words.PAIN_ADVICE_TITLE)
        if pain is not None:
            advice = words.pain_advice(pain)
        else:
            advice = words.session_advice([(s.end, s.cues) for s in sets]) if sets else []
            load = words.next_load_line(done.next_load_kg, done.why, done.target_reps, done.load_unit) if done else ""
            advice = [load, *advice] if load else advice
        # Leaving the machine is when a stiff back shows: the stretch tip fits here.
        self._advice([*advice, words.tr(words.STANDING_UP_TIP)])
        # Every rep of the session, set after set: the last set's alone, under this title, hid the others.
        reps = [r.depth_mm for s in sets for r in s.reps] or ([r.depth_mm for r in last.reps] if last else [])
        self.bars_title = words.tr(words.BARS_SESSION if len({s.end.set_number for s in sets}) > 1
                                   else words.BARS_SET)
        self._bars(reps)

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
