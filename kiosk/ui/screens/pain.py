"""The pain screen: what to do right now, what kind of pain, and when to see someone."""

from kivy.app import App
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.ui.kv import load_beside
from kiosk.ui.widgets import common  # noqa: F401 - widget classes the .kv uses
from kiosk.words import wording as words


class PainScreen(Screen):
    """`kind` is "" until the member says what the pain is like; then the advice shows.

    The `pain_stop` is on the broker by the time this screen opens, but no person may have seen it: `help`
    tells the member to call out until a console answers with `assist` (seen, then who is coming).
    """

    kind = StringProperty("")
    confirmed = StringProperty("")
    help = StringProperty(words.CALL_OUT)

    def reset(self) -> None:
        self.kind = self.confirmed = ""
        self.help = words.CALL_OUT

    def assisted(self, state: str, by: str) -> None:
        """A console answered; a `seen` never takes back a `coming` already shown."""
        if state == "seen" and self.help != words.CALL_OUT:
            return
        self.help = words.assist_line(state, by)

    def choose(self, kind: str) -> None:
        self.kind = kind
        App.get_running_app().pain_told(kind)

    def reported(self, kind: str) -> None:
        """The core logged the report for staff."""
        if kind == self.kind:
            self.confirmed = words.PAIN_NOTED

    def back(self) -> None:
        App.get_running_app().after_pain()


load_beside(__file__)
