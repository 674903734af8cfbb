"""The set screen: rep counter, live depth gauge, tempo, the load stepper, the cue banner and the pain button."""

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty
from kivy.uix.screenmanager import Screen

from kiosk.ui.kv import load_beside
from kiosk.ui.widgets import banner, common, gauges  # noqa: F401 - widget classes the .kv uses

# Finish tapped mid-set asks once; the question goes away by itself after this long.
FINISH_CONFIRM_S = 5.0
# The smallest plates on a plate-loaded sled go on in pairs of 1.25 kg: one step is 2.5 kg.
LOAD_STEP_KG = 2.5
MAX_LOAD_KG = 1000.0  # the contract's ceiling


def stepped_load(current: float | None, steps: int) -> float | None:
    """The load `steps` plates' worth from `current`, on the plates' grid; None (no load told) below one step."""
    grid = round((current or 0.0) / LOAD_STEP_KG)
    load = min(MAX_LOAD_KG, (grid + steps) * LOAD_STEP_KG)
    return load if load >= LOAD_STEP_KG else None


class WorkoutScreen(Screen):
    """Everything the member needs mid-set, readable from the seat; the gauge follows the app's polled depth.

    Finish ends the session at once between sets; during a set (the core counting reps) the first tap
    asks, and only a second one ends it.
    """

    confirming = BooleanProperty(False)

    def on_kv_post(self, _base) -> None:
        self._stop_asking = Clock.create_trigger(lambda _dt: setattr(self, "confirming", False), FINISH_CONFIRM_S)

    @property
    def banner(self) -> banner.CueBanner:
        return self.ids.banner

    def reset(self) -> None:
        self.banner.reset()

    def retranslate(self) -> None:
        self.banner.retranslate()
        self._stop_asking.cancel()
        self.confirming = False

    def on_leave(self, *_args) -> None:
        self._stop_asking.cancel()
        self.confirming = False

    def step_load(self, steps: int) -> None:
        """The stepper's - and +: the core takes the load for the next rep and remembers it; the set goes on."""
        app = App.get_running_app()
        current = app.settings.load_kg if app.settings is not None else None
        app.kiosk.set_load(stepped_load(current, steps))

    def finish(self) -> None:
        app = App.get_running_app()
        if self.confirming or not app.kiosk.snapshot.set_open:
            self.reset()
            app.finish()
            return
        self.confirming = True
        app.view_changed()  # a quick double tap is not the answer to the question
        self._stop_asking()


load_beside(__file__)
