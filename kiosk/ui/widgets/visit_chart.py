"""The member's visits on this machine model, drawn small on the settings screen at tap-in.

One bar per visit for the best set's load, oldest on the left, and a dot on each bar for that set's fastest
mean push when the visit has one: the member sees at a glance whether they are getting stronger (the bars
climb) and whether the weight slowed them down (the dots fall). The label beside it says the same in words.

The instructions are built once for the most visits a profile keeps; a new list only moves them.
"""

from collections.abc import Sequence

from kivy.graphics import Color, Ellipse, Line, Rectangle
from kivy.properties import ListProperty
from kivy.uix.widget import Widget

from kiosk.contract.profile import MAX_VISITS, MachineSettings, Visit
from kiosk.ui import theme

# Bars stand on a floor at 70% of the lightest load, not on zero: 80 kg to 85 kg is a member's real progress
# and must show as a step, not as two bars of the same height; still, twice the load never looks ten times it.
FLOOR = 0.7
GAP = 0.25  # of a bar's pitch, between bars
DOT = 0.55  # a velocity dot's size, as a share of a bar's width (never more than the chart's padding)


def charted(settings: MachineSettings | None) -> list[Visit]:
    """The visits the chart draws: those with a load (a visit without one has no bar), up to the last 12."""
    if settings is None:
        return []
    return [v for v in settings.history if v.load_kg is not None][-MAX_VISITS:]


def _heights(values: Sequence[float]) -> list[float]:
    """Each value as a share of the tallest (0..1), measured from the floor below the smallest."""
    floor = FLOOR * min(values)
    span = max(values) - floor
    return [(v - floor) / span if span > 0 else 1.0 for v in values]


class VisitChart(Widget):
    """Bars of the best set's load per visit, dots for its fastest push; draws nothing below two visits."""

    visits = ListProperty([])  # Visit, oldest first, each with a load (see `charted`)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.bars: list[tuple[float, float, float, float]] = []  # x, y, width, height of each drawn bar
        self.dots: list[tuple[float, float]] = []  # centre of each drawn velocity dot (visits with one)
        with self.canvas:
            Color(*theme.PANEL)
            self._back = Rectangle()
            Color(*theme.ACCENT[:3], 0.6)
            self._earlier = [Rectangle(size=(0, 0)) for _ in range(MAX_VISITS - 1)]
            Color(*theme.ACCENT)  # the last visit stands out: it is the one the line above tells
            self._latest = Rectangle(size=(0, 0))
            Color(*theme.TEXT)
            self._speed_line = Line(width=1.2)
            self._dots = [Ellipse(size=(0, 0)) for _ in range(MAX_VISITS)]
        self.bind(pos=self._update, size=self._update, visits=self._update)

    def _update(self, *_args) -> None:
        visits = list(self.visits) if len(self.visits) >= 2 else []
        pad = min(self.width, self.height) * 0.08
        x0, y0, w, h = self.x + pad, self.y + pad, max(0.0, self.width - 2 * pad), max(0.0, self.height - 2 * pad)
        self._back.pos, self._back.size = (self.pos, self.size) if visits else ((0, 0), (0, 0))
        self.bars, self.dots = [], []
        if visits:
            pitch = w / len(visits)
            bar_w = pitch * (1 - GAP)
            for i, share in enumerate(_heights([v.load_kg or 0.0 for v in visits])):
                self.bars.append((x0 + i * pitch + (pitch - bar_w) / 2, y0, bar_w, max(1.0, share * h)))
            fast = [(i, v.best_mean_velocity_mps) for i, v in enumerate(visits) if v.best_mean_velocity_mps]
            if len(fast) >= 2:  # one dot alone compares with nothing
                for (i, _), share in zip(fast, _heights([mps for _, mps in fast]), strict=True):
                    bx, _, bw, _ = self.bars[i]
                    self.dots.append((bx + bw / 2, y0 + share * h))
        rects = [*self._earlier[:max(0, len(self.bars) - 1)], self._latest]
        for rect in self._earlier + [self._latest]:
            rect.size = (0, 0)
        for rect, (x, y, bw, bh) in zip(rects, self.bars, strict=False):
            rect.pos, rect.size = (x, y), (bw, bh)
        size = min(pad * 2, self.bars[0][2] * DOT) if self.bars else 0
        for ellipse in self._dots:
            ellipse.size = (0, 0)
        for ellipse, (cx, cy) in zip(self._dots, self.dots, strict=False):
            ellipse.pos, ellipse.size = (cx - size / 2, cy - size / 2), (size, size)
        self._speed_line.points = [c for dot in self.dots for c in dot] if len(self.dots) >= 2 else []
