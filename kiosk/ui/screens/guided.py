"""First time on this machine: safe defaults, then two slow reps teach target depth and top position.

It comes after the checklist: its reps are the member's first.

The core counts the reps from its own sensor stream (`Kiosk.guided_setup`,
`SetupProgress`); this screen shows the defaults, the count, and what was
learnt, which the core has already put into the member's settings.
"""

from kivy.app import App
from kivy.properties import NumericProperty, ObjectProperty, OptionProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.core.snapshot import SetupProgress
from kiosk.ui.kv import load_beside
from kiosk.ui.widgets import common, diagram, gauges  # noqa: F401 - widget classes the .kv uses
from kiosk.ui.widgets.diagram import show_settings
from kiosk.words import wording as words


class GuidedSetupScreen(Screen):
    """Three steps: `intro` (the safe defaults), `reps` (the core counting two slow reps), `done` (learnt)."""

    stage = OptionProperty("intro", options=("intro", "reps", "done"))
    reps_done = NumericProperty(0)
    reps_needed = NumericProperty(2)
    fast_reps = NumericProperty(0)
    lifted_reps = NumericProperty(0)  # reps the back or the hips came off the pad in: not counted
    result = ObjectProperty(None, allownone=True)  # the `done` SetupProgress
    defaults = StringProperty("")

    def on_kv_post(self, _base) -> None:
        app = App.get_running_app()
        app.bind(settings=lambda _app, settings: self._load(settings))
        # The buttons change under the member's finger with the stage: the same guard as a new screen.
        self.bind(stage=app.view_changed)

    def _load(self, settings) -> None:
        if settings is None or self.stage == "done":
            return
        g = App.get_running_app().geometry
        notch = min(max(1, settings.backrest_notch), g.backrest_notches)
        self.defaults = words.first_time_defaults(words.backrest_text(notch, g.backrest_angles_deg[notch - 1]),
                                                  settings.foot_height, settings.foot_width, settings.target_depth_mm)
        show_settings(self.ids.side, self.ids.feet, settings, g)

    def retranslate(self) -> None:
        self._load(App.get_running_app().settings)

    def reset(self) -> None:
        self.stage, self.result = "intro", None
        self.reps_done = self.fast_reps = self.lifted_reps = 0

    def start_reps(self) -> None:
        """Count slow reps from now (again, after `done`)."""
        self.reps_done = self.fast_reps = self.lifted_reps = 0
        self.result = None
        self.stage = "reps"
        App.get_running_app().kiosk.guided_setup("restart")

    def back(self) -> None:
        """Back to the defaults; the count starts again with the next Start."""
        self.reset()
        App.get_running_app().kiosk.guided_setup("restart")

    def progress(self, progress: SetupProgress) -> None:
        """What the core counted; `done` once it learnt the range (already in the member's settings)."""
        if progress.stage == "skipped":
            return
        self.reps_done, self.reps_needed, self.fast_reps = progress.reps_done, progress.reps_needed, progress.fast_reps
        self.lifted_reps = progress.lifted_reps
        if progress.stage == "done":
            self.result, self.stage = progress, "done"

    def on_leave(self, *_args) -> None:
        # Reps done while learning the range are not a set to summarise.
        App.get_running_app().pending_set = None

    def keep(self) -> None:
        """The learnt range is kept already: on to the set (the checklist came before the setup's reps)."""
        app = App.get_running_app()
        app.setup_pending = False
        app.go("set")

    def skip(self) -> None:
        """Keep the safe defaults; the core saves them, so the next visit is a normal one."""
        app = App.get_running_app()
        app.kiosk.guided_setup("skip")
        app.setup_pending = False
        app.go("set")


load_beside(__file__)
