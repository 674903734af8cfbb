"""The cue banner across the set screen: colour by severity, higher severity first."""

from kivy.animation import Animation
from kivy.clock import Clock
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.ui import theme
from kiosk.ui.kv import load_beside
from kiosk.core.wording import cue_text

# How long a cue holds the banner against cues of lower severity.
HOLD_S = {"info": 3.0, "warn": 5.0, "stop": 8.0}


class CueBanner(BoxLayout):
    """Shows one cue at a time; `severity` is "" while idle.

    A cue of the same or higher severity replaces the one showing at once;
    a lower one is dropped while the current one holds, because by the time
    it could show it is about a rep that is over. The text is set in the
    same frame the cue arrives; only the slide-in is animated.
    """

    severity = StringProperty("")
    cue = StringProperty("")
    headline = StringProperty("")
    detail = StringProperty("")
    slide = NumericProperty(0.0)  # 0..1 of the slide-in still to go

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._clear = Clock.create_trigger(self._expire, HOLD_S["info"])
        self.shown = 0

    def offer(self, cue: str, severity: str) -> bool:
        """Show the cue if it outranks what is showing; True if it is now on the banner."""
        if self.severity and theme.SEVERITY_RANK[severity] < theme.SEVERITY_RANK[self.severity]:
            return False
        self.cue, self.severity = cue, severity
        self.headline, self.detail = cue_text(cue, severity)
        self.shown += 1
        Animation.cancel_all(self, "slide")
        self.slide = 1.0
        Animation(slide=0.0, d=0.18, t="out_cubic").start(self)
        self._clear.cancel()
        self._clear.timeout = HOLD_S[severity]
        self._clear()
        return True

    def reset(self) -> None:
        self._clear.cancel()
        self._expire()

    def _expire(self, *_args) -> None:
        Animation.cancel_all(self, "slide")
        self.slide = 0.0
        self.cue = self.severity = self.headline = self.detail = ""


load_beside(__file__)
