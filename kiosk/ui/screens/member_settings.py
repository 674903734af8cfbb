"""The member's settings for this machine model: the animated drawing, and big - / + to change them."""

from kivy.app import App
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.contract.profile import MachineSettings
from kiosk.core.machine.depth_limits import TARGET_MARGIN_MM
from kiosk.core.machine.member_limits import DEPTH_STEP_MM, MIN_RANGE_MM, TOE_MAX, TOE_MIN, TOE_STEP
from kiosk.ui.kv import load_beside
from kiosk.ui.widgets import common, diagram, language_bar, stepper, visit_chart  # noqa: F401 - widget classes the .kv uses
from kiosk.ui.widgets.diagram import FOOT_HEIGHTS, FOOT_WIDTHS, show_settings
from kiosk.words import wording as words


def stepped(settings: MachineSettings, key: str, direction: int, notches: int, seat_notches: int) -> MachineSettings:
    """The settings with one of them moved a step, kept inside what the machine and the member allow."""
    s = settings
    if key == "backrest":
        return s.model_copy(update={"backrest_notch": min(notches, max(1, s.backrest_notch + direction))})
    if key == "seat":
        return s.model_copy(update={"seat_notch": min(seat_notches, max(1, s.seat_notch + direction))})
    if key == "foot_height":
        i = min(len(FOOT_HEIGHTS) - 1, max(0, FOOT_HEIGHTS.index(s.foot_height) + direction))
        return s.model_copy(update={"foot_height": FOOT_HEIGHTS[i]})
    if key == "foot_width":
        i = min(len(FOOT_WIDTHS) - 1, max(0, FOOT_WIDTHS.index(s.foot_width) + direction))
        return s.model_copy(update={"foot_width": FOOT_WIDTHS[i]})
    if key == "toe":
        toe = min(TOE_MAX, max(TOE_MIN, s.toe_angle_deg + direction * TOE_STEP))
        return s.model_copy(update={"toe_angle_deg": toe})
    if key == "depth":
        depth = s.target_depth_mm + direction * DEPTH_STEP_MM
        deepest = s.max_depth_mm - TARGET_MARGIN_MM
        return s.model_copy(update={"target_depth_mm": min(deepest, max(s.top_mm + MIN_RANGE_MM, depth))})
    raise ValueError(f"unknown setting {key!r}")


class MemberSettingsScreen(Screen):
    """Shows the member's saved settings on the drawing; edits go to a draft until Save."""

    draft = ObjectProperty(None, allownone=True)
    changed = BooleanProperty(False)
    saved = BooleanProperty(False)  # the core confirmed the last save
    feet_text = StringProperty("")
    lowered_text = StringProperty("")  # why a lift-off lowered the max depth, while it is lowered

    def on_kv_post(self, _base) -> None:
        app = App.get_running_app()
        self._seat_row = self.ids.seat_row.__self__  # kept while out of the list: ids only hold weak references
        self._fit_geometry()
        app.bind(settings=lambda _app, settings: self.load(settings))

    def _fit_geometry(self) -> None:
        """Take the machine's geometry as it is now (a config push may have changed it)."""
        self.geometry = App.get_running_app().geometry
        rows, seat = self.ids.rows, self._seat_row
        # A sled's seat does not move: no row for it at all.
        if self.geometry.seat_notches <= 1 and seat.parent is not None:
            rows.remove_widget(seat)
        elif self.geometry.seat_notches > 1 and seat.parent is None:
            rows.add_widget(seat, index=len(rows.children) - 1)  # right below the backrest row

    def load(self, settings: MachineSettings | None) -> None:
        self._fit_geometry()
        self.draft, self.changed = settings, False
        self.saved = False
        if settings is not None:
            self._show(settings)

    def reset(self) -> None:
        self.load(None)

    def retranslate(self) -> None:
        if self.draft is not None:
            self._show(self.draft, duration=0)

    def step(self, key: str, direction: int) -> None:
        if self.draft is None:
            return
        self.draft = stepped(self.draft, key, direction, self.geometry.backrest_notches, self.geometry.seat_notches)
        self.changed = self.draft != App.get_running_app().settings
        self.saved = False
        self._show(self.draft, duration=0.4)

    def save(self) -> None:
        app = App.get_running_app()
        if self.draft is None or not self.changed:
            return
        app.kiosk.save_settings(self.draft)
        self.changed = False
        app.settings = self.draft

    def _show(self, s: MachineSettings, duration: float = 0.9) -> None:
        g = self.geometry
        notch = min(max(1, s.backrest_notch), g.backrest_notches)
        values = {
            "backrest": words.backrest_text(notch, g.backrest_angles_deg[notch - 1]),
            "seat": words.seat_text(s.seat_notch, g.seat_notches),
            "foot_height": words.foot_height(s.foot_height),
            "foot_width": words.foot_width(s.foot_width),
            "toe": words.toe_text(s.toe_angle_deg),
            "depth": words.depth_text(s.target_depth_mm, s.max_depth_mm),
        }
        for row in self.ids.rows.children:
            row.value = values[row.key]
            # A button that can do nothing is greyed out, not left to be pressed in vain.
            row.can_lower = stepped(s, row.key, -1, g.backrest_notches, g.seat_notches) != s
            row.can_raise = stepped(s, row.key, 1, g.backrest_notches, g.seat_notches) != s
        self.feet_text = words.feet_text(s.foot_height, s.foot_width, s.toe_angle_deg)
        why = s.max_lowered
        # A reason that does not fit (the max is not shallower than it says it was) explains nothing.
        shown = why is not None and why.from_mm > s.max_depth_mm
        self.lowered_text = words.max_lowered_line(s.max_depth_mm, why.from_mm, why.liftoff_mm) if why and shown else ""
        show_settings(self.ids.side, self.ids.feet, s, g, duration)


load_beside(__file__)
