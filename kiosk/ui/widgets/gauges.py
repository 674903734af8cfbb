"""Live depth drawings: the member's depth gauge and the technician's scrolling plot.

Both keep their canvas instructions and only change their points when a new
reading comes in (at most at the UI's poll rate), so a 100 Hz sensor stream
costs the same as a slow one.
"""

from collections import deque

from kivy.graphics import Color, Line, Rectangle
from kivy.properties import NumericProperty
from kivy.uix.widget import Widget

from kiosk.ui import theme


class DepthGauge(Widget):
    """A vertical bar from legs straight (top) to full travel (bottom).

    The sled marker moves with `depth_mm`; the target (green) and max (red)
    depths are thick marks across the bar and a little past it, so they read
    from the seat; the top position is a dim line.
    """

    travel_mm = NumericProperty(500.0)
    depth_mm = NumericProperty(0.0)
    target_mm = NumericProperty(250.0)
    max_mm = NumericProperty(325.0)
    top_mm = NumericProperty(30.0)
    mark_width = NumericProperty(6.0)  # thickness of the target and max marks, in pixels

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        with self.canvas:
            Color(*theme.PANEL)
            self._back = Rectangle()
            Color(*theme.ACCENT[:3], 0.55)
            self._fill = Rectangle()
            Color(*theme.TEXT_DIM)
            self._top = Line(width=1.5)
            Color(*theme.GOOD_TEXT)
            self._target = Line(width=3, cap="none")
            Color(*theme.BAD_TEXT)
            self._max = Line(width=3, cap="none")
            Color(*theme.TEXT)
            self._sled = Line(width=4, cap="round")
        self.bind(pos=self._update, size=self._update, travel_mm=self._update, depth_mm=self._update,
                  target_mm=self._update, max_mm=self._update, top_mm=self._update, mark_width=self._update)

    def y_for(self, mm: float) -> float:
        """Screen y of a depth: 0 mm at the top of the bar."""
        frac = min(1.0, max(0.0, mm / max(1.0, self.travel_mm)))
        return self.top - frac * self.height

    def _update(self, *_args) -> None:
        x, w = self.x, self.width
        self._back.pos, self._back.size = self.pos, self.size
        sled_y = self.y_for(self.depth_mm)
        self._fill.pos, self._fill.size = (x, sled_y), (w, self.top - sled_y)
        y = self.y_for(self.top_mm)
        self._top.points = [x, y, x + w, y]
        past = self.mark_width
        for line in (self._target, self._max):
            line.width = self.mark_width / 2
        for line, mm in ((self._target, self.target_mm), (self._max, self.max_mm)):
            y = self.y_for(mm)
            line.points = [x - past, y, x + w + past, y]
        self._sled.points = [x - 6, sled_y, x + w + 6, sled_y]


class DepthPlot(Widget):
    """Scrolling plot of the last `samples` readings, for the maintenance screen."""

    travel_mm = NumericProperty(500.0)

    def __init__(self, samples: int = 300, **kwargs):
        super().__init__(**kwargs)
        self.readings: deque[float] = deque(maxlen=samples)
        self.taken = 0  # every reading ever added: the ring buffer's length stops growing once it is full
        with self.canvas:
            Color(*theme.PANEL)
            self._back = Rectangle()
            Color(*theme.PANEL_LIGHT)
            self._grid = [Line(width=1) for _ in range(3)]
            Color(*theme.ACCENT)
            self._line = Line(width=2)
        self.bind(pos=self._frame, size=self._frame)

    def add(self, mm: float) -> None:
        self.readings.append(mm)
        self.taken += 1

    def redraw(self) -> None:
        """Turn the ring buffer into the line's points; called at the screen's poll rate."""
        n = self.readings.maxlen
        step = self.width / max(1, n - 1)
        travel = max(1.0, self.travel_mm)
        x0 = self.right - step * (len(self.readings) - 1)
        points = []
        for i, mm in enumerate(self.readings):
            frac = min(1.0, max(0.0, mm / travel))
            points += (x0 + i * step, self.top - frac * self.height)
        self._line.points = points

    def _frame(self, *_args) -> None:
        self._back.pos, self._back.size = self.pos, self.size
        for k, line in enumerate(self._grid, start=1):
            y = self.y + self.height * k / 4
            line.points = [self.x, y, self.right, y]
        self.redraw()


class RepBars(Widget):
    """Depth of each rep of a set as a bar, with the target as a line; redrawn once per summary."""

    travel_mm = NumericProperty(500.0)
    target_mm = NumericProperty(0.0)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.depths: list[float] = []
        self.bind(pos=self._draw, size=self._draw, travel_mm=self._draw, target_mm=self._draw)

    def show(self, depths: list[float]) -> None:
        self.depths = list(depths)
        self._draw()

    def _draw(self, *_args) -> None:
        self.canvas.clear()
        n = max(1, len(self.depths))
        slot = self.width / n
        travel = max(1.0, self.travel_mm)
        with self.canvas:
            Color(*theme.BACKGROUND)
            Rectangle(pos=self.pos, size=self.size)
            for i, depth in enumerate(self.depths):
                Color(*(theme.WARN if depth > self.target_mm * 1.1 else theme.ACCENT))
                h = min(1.0, depth / travel) * self.height
                # Bars hang from the top, like the sled going down.
                Rectangle(pos=(self.x + i * slot + slot * 0.15, self.top - h), size=(slot * 0.7, h))
            Color(*theme.GOOD_TEXT)
            y = self.top - min(1.0, self.target_mm / travel) * self.height
            Line(points=[self.x, y, self.right, y], width=2)
