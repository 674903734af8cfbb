"""A setting the member changes with big - and + buttons."""

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.ui.kv import load_beside


class Stepper(BoxLayout):
    """One row: what the setting is, its value, and - / + buttons that dispatch `on_step` with -1 or +1."""

    title = StringProperty("")
    value = StringProperty("")
    can_lower = BooleanProperty(True)
    can_raise = BooleanProperty(True)

    def __init__(self, **kwargs):
        self.register_event_type("on_step")
        super().__init__(**kwargs)

    def on_step(self, direction: int) -> None:
        """Default handler; the screen binds its own."""


load_beside(__file__)
