"""The pain screen: what to do right now, what kind of pain, and when to see someone."""

from kivy.app import App
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.ui.kv import load_beside
from kiosk.ui.widgets import common  # noqa: F401 - widget classes the .kv uses
from kiosk.words import wording as words


class PainScreen(Screen):
    """`kind` is "" until the member says what the pain is like; then the advice shows.

    Staff already know by the time this screen opens (`KioskApp.open_pain`); the kind only adds detail.
    """

    kind = StringProperty("")
    confirmed = StringProperty("")

    def reset(self) -> None:
        self.kind = self.confirmed = ""

    def choose(self, kind: str) -> None:
        self.kind = kind
        App.get_running_app().pain_told(kind)

    def reported(self, kind: str) -> None:
        """The core logged the report for staff."""
        if kind == self.kind:
            self.confirmed = words.STAFF_TOLD

    def back(self) -> None:
        App.get_running_app().after_pain()


load_beside(__file__)
