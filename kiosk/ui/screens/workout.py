"""The set screen: rep counter, live depth gauge, tempo, the cue banner and the pain button."""

from kivy.uix.screenmanager import Screen

from kiosk.ui.kv import load_beside
from kiosk.ui.widgets import banner, common, gauges  # noqa: F401 - widget classes the .kv uses


class WorkoutScreen(Screen):
    """Everything the member needs mid-set, readable from the seat; the gauge follows the app's polled depth."""

    @property
    def banner(self) -> banner.CueBanner:
        return self.ids.banner

    def reset(self) -> None:
        self.banner.reset()


load_beside(__file__)
