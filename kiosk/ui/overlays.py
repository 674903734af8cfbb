"""Layers over every screen: out of order, an operator's message, and a stop cue.

The out-of-order and stop layers keep a Pain button: whoever is under the
weight when they appear may need it.
"""

from collections.abc import Callable

from kivy.animation import Animation
from kivy.clock import Clock
from kivy.properties import BooleanProperty, OptionProperty, StringProperty
from kivy.uix.floatlayout import FloatLayout

from kiosk.ui.kv import load_beside
from kiosk.words.wording import STOP_STILL_THERE, cue_text, tr


class Overlay(FloatLayout):
    """Covers what is below while `shown`, and takes its touches; invisible and untouchable otherwise."""

    shown = BooleanProperty(False)

    def on_touch_down(self, touch):
        if not self.shown:
            return False
        super().on_touch_down(touch)
        return True

    def on_touch_move(self, touch):
        if not self.shown:
            return False
        super().on_touch_move(touch)
        return True

    def on_touch_up(self, touch):
        if not self.shown:
            return False
        super().on_touch_up(touch)
        return True


class OutOfOrderOverlay(Overlay):
    """Full screen while an operator has put the machine out of order.

    `pain_shown` is set while the member whose session it cut short may still
    be under the weight.
    """

    pain_shown = BooleanProperty(False)


class StopOverlay(Overlay):
    """A `stop` cue takes the whole screen until the member taps it away.

    It keeps the cue, not its words: a language tapped while it is up rewords it (`retranslate`).
    """

    headline = StringProperty("")
    detail = StringProperty("")

    def __init__(self, **kwargs):
        self.register_event_type("on_dismiss")
        super().__init__(**kwargs)
        self._cue, self._severity, self._asking = "", "stop", False

    def show(self, cue: str, severity: str) -> None:
        """The stop cue `cue`, headline and what to do."""
        self._cue, self._severity, self._asking = cue, severity, False
        self.retranslate()
        self.shown = True

    def keep_asking(self, cue: str) -> None:
        """A STOP nobody tapped away: the headline stays (or is `cue`'s, if none is up) and the detail asks."""
        if not self.shown:
            self._cue, self._severity = cue, "stop"
        self._asking = True
        self.retranslate()
        self.shown = True

    def retranslate(self) -> None:
        headline, detail = cue_text(self._cue, self._severity)
        self.headline, self.detail = headline, tr(STOP_STILL_THERE) if self._asking else detail

    def dismiss(self) -> None:
        if self.shown:
            self.shown = False
            self.dispatch("on_dismiss")

    def on_dismiss(self) -> None:
        """Default handler; the app binds its own."""


class MessageToast(FloatLayout):
    """A message from an operator (or the kiosk) for a few seconds; touches pass through.

    On the set screen it sits in the top strip, over the cue banner's place,
    so it never hides the Pain button or the rep counter; on the other
    screens just above their buttons, below their heading. Two lines at most.
    While `held` (a warn or stop cue is up) it stays out of sight, however long
    the operator asked for, and comes back only if its time has not run out by then.
    """

    text = StringProperty("")
    # `warn`: a cue's warning where no cue banner is (the guided setup), in the banner's amber.
    severity = OptionProperty("info", options=("info", "warn"))
    held = BooleanProperty(False)
    over_banner = BooleanProperty(False)  # True on the set screen; elsewhere it sits above the buttons

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._hide = Clock.create_trigger(self._fade, 5)
        self._running = False
        self._words: Callable[[], str] | None = None
        self.opacity = 0

    def show(self, text: str | Callable[[], str], seconds: float, severity: str = "info") -> None:
        """`text`: an operator's own words as sent, or what builds the kiosk's line in the screen's language
        (built again by `retranslate` when the member taps another language while it is up)."""
        Animation.cancel_all(self, "opacity")
        self._words = text if callable(text) else None
        self.text = text() if callable(text) else text
        self.severity, self._running = severity, True
        self.opacity = 0 if self.held else 1
        self._hide.cancel()
        self._hide.timeout = max(0.5, seconds)
        self._hide()

    def hide(self) -> None:
        self._hide.cancel()
        self._fade()

    def retranslate(self) -> None:
        if self._words is not None:
            self.text = self._words()

    def on_held(self, _instance, held: bool) -> None:
        Animation.cancel_all(self, "opacity")
        self.opacity = 0 if held or not self._running else 1

    def _fade(self, *_args) -> None:
        self._running = False
        Animation(opacity=0, d=0.3).start(self)

    def on_touch_down(self, touch):
        return False


load_beside(__file__)
