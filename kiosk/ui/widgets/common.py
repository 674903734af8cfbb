"""Buttons, labels and panels every screen shares; styled in common.kv."""

from kivy.properties import BooleanProperty, ColorProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label

from kiosk.ui import theme
from kiosk.ui.kv import load_beside


class KioskLabel(Label):
    """Text that wraps inside its own box instead of running out of it."""


class KioskButton(ButtonBehavior, Label):
    """A big rounded touch target (at least 12 mm) with a solid colour."""

    tint = ColorProperty(theme.PANEL_LIGHT)


class CheckRow(ButtonBehavior, BoxLayout):
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
