"""Buttons, labels and panels every screen shares; styled in common.kv."""

from kivy.app import App
from kivy.properties import BooleanProperty, ColorProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label

from kiosk.ui import theme
from kiosk.ui.kv import load_beside


class KioskLabel(Label):
    """Text that wraps inside its own box instead of running out of it."""


class Guarded:
    """A tappable widget that ignores a touch which began before the view last changed, or just after.

    New touches in the guard time never reach a widget (the app's root swallows them); this covers
    the other case: a finger that went down on a button and lifted after the screen changed under it,
    whose release Kivy delivers straight to the button that grabbed it.
    """

    def on_touch_up(self, touch):
        app = App.get_running_app()
        if touch.grab_current is self and app is not None and not app.touch_allowed(touch):
            touch.ungrab(self)
            self._do_release()
            return True
        return super().on_touch_up(touch)


class KioskButton(Guarded, ButtonBehavior, Label):
    """A big rounded touch target (at least 12 mm) with a solid colour."""

    tint = ColorProperty(theme.PANEL_LIGHT)


class CheckRow(Guarded, ButtonBehavior, BoxLayout):
    """One checklist line the member taps to tick (or untick)."""

    ticked = BooleanProperty(False)
    title = StringProperty("")
    detail = StringProperty("")

    def on_release(self) -> None:
        self.ticked = not self.ticked


class Panel(BoxLayout):
    """A rounded dark box that groups related things."""


class Header(BoxLayout):
    """The strip at the top of a screen: what this screen is, and who is at the machine."""

    title = StringProperty("")


load_beside(__file__)
