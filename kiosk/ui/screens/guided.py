"""First time on this machine: safe defaults, then two slow reps teach target depth and top position."""

from kivy.app import App
from kivy.properties import NumericProperty, ObjectProperty, OptionProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.core import wording as words
from kiosk.core.guided_setup import GuidedSetup, SetupResult
from kiosk.ui.kv import load_beside
from kiosk.ui.widgets import common, diagram, gauges  # noqa: F401 - widget classes the .kv uses
from kiosk.ui.widgets.diagram import show_settings


class GuidedSetupScreen(Screen):
    """Three steps: `intro` (the safe defaults), `reps` (watching two slow reps), `done` (what was learnt).

    The live depth is fed to `GuidedSetup` from the app's poll, one reading
    per new sensor sample.
    """

    stage = OptionProperty("intro", options=("intro", "reps", "done"))
    reps_done = NumericProperty(0)
    fast_reps = NumericProperty(0)
    result = ObjectProperty(None, allownone=True)
    defaults = StringProperty("")

    def on_kv_post(self, _base) -> None:
        self.setup: GuidedSetup | None = None
        self._last_ts = 0.0
        App.get_running_app().bind(settings=lambda _app, settings: self._load(settings))

    def _load(self, settings) -> None:
        if settings is None:
            return
        g = App.get_running_app().geometry
        notch = min(max(1, settings.backrest_notch), g.backrest_notches)
        self.defaults = words.first_time_defaults(words.backrest_text(notch, g.backrest_angles_deg[notch - 1]),
                                                  settings.foot_height, settings.foot_width, settings.target_depth_mm)
        show_settings(self.ids.side, self.ids.feet, settings, g)

    def reset(self) -> None:
        self.stage, self.setup, self.result = "intro", None, None
        self.reps_done = self.fast_reps = 0

    def start_reps(self) -> None:
        settings = App.get_running_app().settings
        self.setup = GuidedSetup(max_depth_mm=settings.max_depth_mm)
        self._last_ts = App.get_running_app().sensor_ts
        self.reps_done = self.fast_reps = 0
        self.stage = "reps"

    def poll(self) -> None:
        app = App.get_running_app()
        if self.stage != "reps" or self.setup is None or app.sensor_ts == self._last_ts:
            return
        self._last_ts = app.sensor_ts
        result = self.setup.update(app.depth_mm, app.sensor_ts)
        self.reps_done, self.fast_reps = len(self.setup.reps), self.setup.fast_reps
        if result is not None:
            self._learnt(result)

    def on_leave(self, *_args) -> None:
        # Reps done while learning the range are not a set to summarise.
        App.get_running_app().pending_set = None

    def _learnt(self, result: SetupResult) -> None:
        self.result, self.stage = result, "done"

    def keep(self) -> None:
        """Save what the reps taught, then on to the checklist."""
        app = App.get_running_app()
        if self.result is not None:
            settings = self.result.apply(app.settings)
            app.kiosk.save_settings(settings)
            app.settings = settings
        app.go("checklist")

    def skip(self) -> None:
        """Keep the safe defaults; saving them makes the next visit a normal one."""
        app = App.get_running_app()
        app.kiosk.save_settings(app.settings)
        app.go("checklist")


load_beside(__file__)
