"""The cue banner across the set screen: colour by severity, higher severity first."""

import time

from kivy.animation import Animation
from kivy.clock import Clock
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.contract.events import severity_rank
from kiosk.ui import theme
from kiosk.ui.kv import load_beside
from kiosk.words.wording import cue_text

# How long a cue holds the banner against cues of lower severity.
HOLD_S = {"info": 3.0, "warn": 5.0, "stop": 8.0}
# A cue stays at least this long against another of its own severity, unless that one ranks higher:
# a member needs a moment to read it and act.
READ_S = 2.0


class CueBanner(BoxLayout):
    """Shows one cue at a time; `severity` is "" while idle.

    A cue of higher severity replaces the one showing at once (and any stop
    replaces any stop); a lower one is dropped while the current one holds,
    because by the time it could show it is about a rep that is over. Within
    one severity a cue gets `READ_S` to be read, unless the newcomer ranks
    higher (`theme.CUE_RANK`). A `pinned` cue (a silent sensor) comes back
    whenever the banner would otherwise go blank, until it is unpinned. The
    text is set in the same frame the cue arrives; only the slide-in is animated.
    """

    severity = StringProperty("")
    cue = StringProperty("")
    headline = StringProperty("")
    detail = StringProperty("")
    pinned = StringProperty("")  # a warn cue that stays while its condition lasts
    slide = NumericProperty(0.0)  # 0..1 of the slide-in still to go

    def __init__(self, clock=time.monotonic, **kwargs):
        super().__init__(**kwargs)
        self._clock = clock
        self._clear = Clock.create_trigger(self._expire, HOLD_S["info"])
        self._since = 0.0
        self.shown = 0

    def offer(self, cue: str, severity: str) -> bool:
        """Show the cue if it outranks what is showing; True if it is now on the banner."""
        if not self._takes_over(cue, severity):
            return False
        self._show(cue, severity)
        return True

    def pin(self, cue: str) -> None:
        """Keep the warning `cue` up while its condition lasts: now if it takes over, else when the banner frees."""
        self.pinned = cue
        if self.cue == cue:
            self._clear.cancel()
        elif self._takes_over(cue, "warn"):
            self._show(cue, "warn")

    def unpin(self) -> None:
        cue, self.pinned = self.pinned, ""
        if cue and self.cue == cue:
            self._blank()

    def _takes_over(self, cue: str, severity: str) -> bool:
        if not self.severity:
            return True
        new, old = severity_rank(severity), severity_rank(self.severity)
        if new != old:
            return new > old
        if severity == "stop" or self._clock() - self._since >= READ_S:
            return True
        return theme.CUE_RANK.get(cue, 0) > theme.CUE_RANK.get(self.cue, 0)

    def _show(self, cue: str, severity: str) -> None:
        self.cue, self.severity = cue, severity
        self.headline, self.detail = cue_text(cue, severity)
        self._since = self._clock()
        self.shown += 1
        Animation.cancel_all(self, "slide")
        self.slide = 1.0
        Animation(slide=0.0, d=0.18, t="out_cubic").start(self)
        self._clear.cancel()
        if cue != self.pinned:
            self._clear.timeout = HOLD_S[severity]
            self._clear()

    def retranslate(self) -> None:
        """The cue up now, in the screen's new language."""
        if self.cue:
            self.headline, self.detail = cue_text(self.cue, self.severity)

    def reset(self) -> None:
        self.pinned = ""
        self._blank()

    def _expire(self, *_args) -> None:
        if self.pinned:
            self._show(self.pinned, "warn")
        else:
            self._blank()

    def _blank(self) -> None:
        self._clear.cancel()
        Animation.cancel_all(self, "slide")
        self.slide = 0.0
        self.cue = self.severity = self.headline = self.detail = ""


load_beside(__file__)
