"""The machine drawn with canvas instructions: a side view of the press and a top view of the feet.

Both are built once; animating a property (backrest angle, seat, feet,
sled) only moves the existing instructions, it never builds new ones.
"""

import math

from kivy.animation import Animation
from kivy.clock import Clock
from kivy.graphics import Color, Ellipse, InstructionGroup, Line, PopMatrix, PushMatrix, Rotate, Scale, Translate
from kivy.properties import ListProperty, NumericProperty, StringProperty
from kivy.uix.widget import Widget

from kiosk.ui import theme

FOOT_HEIGHTS = ("low", "mid", "high")
FOOT_WIDTHS = ("narrow", "shoulder", "wide")

# Design space of the side view; the widget scales it to fit, keeping its shape.
SIDE_W, SIDE_H = 450.0, 290.0
THIGH = SHIN = 122.0
PLATE_HALF = 55.0
FOOT_STEP = 28.0  # design units between low, middle and high on the plate
SLED_SPAN = 130.0  # design units the plate moves over the sled's full travel
SEAT_SPAN = 40.0  # design units the seat slides either side of its middle notch

_DIM = (0.45, 0.5, 0.58, 1)


def _fit(widget: Widget, design_w: float, design_h: float) -> tuple[float, float, float]:
    """Scale and offset that fit a design space into the widget, centred."""
    scale = max(1e-3, min(widget.width / design_w, widget.height / design_h))
    return scale, widget.x + (widget.width - design_w * scale) / 2, widget.y + (widget.height - design_h * scale) / 2


def knee_point(hip: tuple[float, float], foot: tuple[float, float], thigh: float, shin: float) -> tuple[float, float]:
    """Where the knee is for a hip and a foot: the upper of the two solutions, or on the line if the leg is straight."""
    dx, dy = foot[0] - hip[0], foot[1] - hip[1]
    d = max(1e-6, math.hypot(dx, dy))
    a = (thigh * thigh - shin * shin + d * d) / (2 * d)
    h = math.sqrt(max(0.0, thigh * thigh - a * a))
    mx, my = hip[0] + a * dx / d, hip[1] + a * dy / d
    k1 = (mx - h * dy / d, my + h * dx / d)
    k2 = (mx + h * dy / d, my - h * dx / d)
    return k1 if k1[1] >= k2[1] else k2


class MachineDiagram(Widget):
    """Side view of the press with a seated figure, drawn from the member's settings.

    `backrest_deg` is the pad's angle from the floor; `seat_pos` runs 0..1
    over the seat notches (horizontal machines); `foot_pos` is 0 low, 1
    middle, 2 high on the plate; `sled_mm` is where the plate is drawn.
    """

    machine_type = StringProperty("sled_45")
    travel_mm = NumericProperty(500.0)
    backrest_deg = NumericProperty(40.0)
    notch_angles = ListProperty([])
    notch = NumericProperty(1)
    seat_pos = NumericProperty(0.5)
    foot_pos = NumericProperty(1.0)
    sled_mm = NumericProperty(0.0)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._redraw = Clock.create_trigger(self._update, -1)
        with self.canvas:
            PushMatrix()
            self._translate = Translate()
            self._scale = Scale()
            Color(*_DIM)
            self._floor = Line(width=2)
            self._frame = Line(width=4)
            self._rail = Line(width=6, cap="round")
            self._notches = InstructionGroup()
            Color(*theme.PANEL_LIGHT)
            self._carriage = Line(width=9, cap="round")
            Color(*theme.TEXT)
            self._plate = Line(width=5, cap="round")
            self._seat = Line(width=9, cap="round")
            PushMatrix()
            self._rotate = Rotate()
            Color(*theme.ACCENT)
            self._backrest = Line(width=9, cap="round")
            Color(*theme.TEXT_DIM)
            self._torso = Line(width=6, cap="round")
            self._head = Ellipse(size=(30, 30))
            PopMatrix()
            Color(*theme.WARN)
            self._leg = Line(width=7, cap="round", joint="round")
            self._foot = Ellipse(size=(18, 18))
            PopMatrix()
        self.bind(pos=self._redraw, size=self._redraw, machine_type=self._redraw, travel_mm=self._redraw,
                  backrest_deg=self._redraw, notch_angles=self._redraw, notch=self._redraw, seat_pos=self._redraw,
                  foot_pos=self._redraw, sled_mm=self._redraw)

    def _layout(self) -> tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[float, float]]:
        """Backrest pivot, plate centre at zero travel, rail direction (towards the plate) and plate direction
        (up it)."""
        if self.machine_type == "horizontal":
            shift = (self.seat_pos - 0.5) * 2 * SEAT_SPAN
            return (190.0 + shift, 90.0), (400.0, 125.0), (1.0, 0.0), (0.0, 1.0)
        r = math.sqrt(0.5)
        return (175.0, 84.0), (395.0, 200.0), (r, r), (-r, r)

    def _update(self, *_args) -> None:
        scale, ox, oy = _fit(self, SIDE_W, SIDE_H)
        self._translate.xy = (ox, oy)
        self._scale.xyz = (scale, scale, 1)
        pivot, plate0, e, n = self._layout()
        px, py = pivot
        self._floor.points = [0, 10, SIDE_W, 10]
        self._seat.points = [px - 15, py - 4, px + 60, py + 4]
        # The backrest is drawn lying flat towards the left, then turned clockwise to its angle.
        self._rotate.origin = pivot
        self._rotate.angle = -self.backrest_deg
        self._backrest.points = [px, py + 6, px - 150, py + 6]
        self._torso.points = [px + 2, py + 20, px - 112, py + 20]
        self._head.pos = (px - 148, py + 6)
        travel = max(1.0, self.travel_mm)
        t = min(1.0, max(0.0, self.sled_mm / travel)) * SLED_SPAN
        cx, cy = plate0[0] - e[0] * t, plate0[1] - e[1] * t
        far = (plate0[0] + e[0] * 60, plate0[1] + e[1] * 60)
        self._rail.points = [plate0[0] - e[0] * (SLED_SPAN + 30), plate0[1] - e[1] * (SLED_SPAN + 30), *far]
        self._frame.points = [far[0], 10, *far] if self.machine_type != "horizontal" else [px + 20, 10, px + 20, py - 4]
        self._carriage.points = [cx + e[0] * 8, cy + e[1] * 8, cx + e[0] * 50, cy + e[1] * 50]
        half = (n[0] * PLATE_HALF, n[1] * PLATE_HALF)
        self._plate.points = [cx - half[0], cy - half[1], cx + half[0], cy + half[1]]
        lift = (self.foot_pos - 1.0) * FOOT_STEP
        foot = (cx + n[0] * lift - e[0] * 9, cy + n[1] * lift - e[1] * 9)
        self._foot.pos = (foot[0] - 9, foot[1] - 9)
        hip = (px + 12, py + 16)
        knee = knee_point(hip, foot, THIGH, SHIN)
        self._leg.points = [*hip, *knee, *foot]
        self._draw_notches(pivot)

    def _draw_notches(self, pivot: tuple[float, float]) -> None:
        group = self._notches
        group.clear()
        for i, angle in enumerate(self.notch_angles, start=1):
            a = math.radians(angle)
            x, y = pivot[0] - 168 * math.cos(a), pivot[1] + 168 * math.sin(a)
            chosen = i == self.notch
            group.add(Color(*(theme.ACCENT if chosen else _DIM)))
            r = 7 if chosen else 4
            group.add(Ellipse(pos=(x - r, y - r), size=(2 * r, 2 * r)))


class FeetTopView(Widget):
    """The plate seen from the seat, with both feet: height, width apart and toe angle."""

    height_pos = NumericProperty(1.0)  # 0 low, 1 middle, 2 high
    width_pos = NumericProperty(1.0)  # 0 narrow, 1 shoulder, 2 wide
    toe_deg = NumericProperty(15.0)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._redraw = Clock.create_trigger(self._update, -1)
        self._feet = []
        with self.canvas:
            Color(*theme.PANEL_LIGHT)
            self._plate = Line(width=2)
            for side in (-1, 1):
                PushMatrix()
                rotate = Rotate()
                Color(*theme.WARN)
                sole = Ellipse()
                PopMatrix()
                self._feet.append((side, rotate, sole))
        self.bind(pos=self._redraw, size=self._redraw, height_pos=self._redraw, width_pos=self._redraw,
                  toe_deg=self._redraw)

    def _update(self, *_args) -> None:
        w = min(self.width, self.height * 1.6)
        h = w / 1.6
        x0, y0 = self.center_x - w / 2, self.center_y - h / 2
        self._plate.rounded_rectangle = (x0, y0, w, h, h * 0.08)
        foot_w, foot_h = w * 0.1, h * 0.44
        cy = y0 + h * (0.25 + 0.25 * self.height_pos)
        apart = w * (0.1 + 0.06 * self.width_pos)
        for side, rotate, sole in self._feet:
            cx = self.center_x + side * apart
            rotate.origin = (cx, cy)
            # Toes turn out: the left foot turns anticlockwise, the right clockwise.
            rotate.angle = -side * self.toe_deg
            sole.pos = (cx - foot_w / 2, cy - foot_h / 2)
            sole.size = (foot_w, foot_h)


def show_settings(side: MachineDiagram, feet: FeetTopView, settings, geometry, duration: float = 0.9) -> None:
    """Swing and slide both drawings from where they are to a member's settings."""
    angles = geometry.backrest_angles_deg
    notch = min(max(1, settings.backrest_notch), len(angles))
    side.machine_type, side.travel_mm = geometry.machine_type, geometry.travel_mm
    side.notch_angles, side.notch = list(angles), notch
    seat = (settings.seat_notch - 1) / (geometry.seat_notches - 1) if geometry.seat_notches > 1 else 0.5
    height = float(FOOT_HEIGHTS.index(settings.foot_height))
    for widget, target in ((side, {"backrest_deg": angles[notch - 1], "seat_pos": seat, "foot_pos": height,
                                   "sled_mm": settings.target_depth_mm}),
                           (feet, {"height_pos": height, "width_pos": float(FOOT_WIDTHS.index(settings.foot_width)),
                                   "toe_deg": float(settings.toe_angle_deg)})):
        Animation.cancel_all(widget)
        Animation(d=duration, t="in_out_cubic", **target).start(widget)
