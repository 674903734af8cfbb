"""Layers over every screen: out of order, an operator's message, and a stop cue.

The out-of-order and stop layers keep a Pain button: whoever is under the
weight when they appear may need it.
"""

from kivy.animation import Animation
from kivy.clock import Clock
from kivy.properties import BooleanProperty, OptionProperty, StringProperty
from kivy.uix.floatlayout import FloatLayout

from kiosk.ui.kv import load_beside


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
    """A `stop` cue takes the whole screen until the member taps it away."""

    headline = StringProperty("")
    detail = StringProperty("")

    def __init__(self, **kwargs):
        self.register_event_type("on_dismiss")
        super().__init__(**kwargs)

    def show(self, headline: str, detail: str) -> None:
        self.headline, self.detail, self.shown = headline, detail, True

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
        self.opacity = 0

    def show(self, text: str, seconds: float, severity: str = "info") -> None:
        Animation.cancel_all(self, "opacity")
        self.text, self.severity, self._running = text, severity, True
        self.opacity = 0 if self.held else 1
        self._hide.cancel()
        self._hide.timeout = max(0.5, seconds)
        self._hide()

    def hide(self) -> None:
        self._hide.cancel()
        self._fade()

    def on_held(self, _instance, held: bool) -> None:
        Animation.cancel_all(self, "opacity")
        self.opacity = 0 if held or not self._running else 1

    def _fade(self, *_args) -> None:
        self._running = False
        Animation(opacity=0, d=0.3).start(self)

    def on_touch_down(self, touch):
        return False


load_beside(__file__)
