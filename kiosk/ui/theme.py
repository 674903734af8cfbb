"""Colours and sizes shared by every screen: high contrast, readable from the machine's seat.

Sizes are in "units": one unit is one pixel on a 7" 800x480 panel and grows
with the window (`KioskApp.unit`), so a layout drawn for 800x480 fills a
1024x600 or 1280x800 screen the same way.
"""

BACKGROUND = (0.06, 0.07, 0.09, 1)
PANEL = (0.13, 0.15, 0.19, 1)
PANEL_LIGHT = (0.2, 0.23, 0.29, 1)
TEXT = (1, 1, 1, 1)
TEXT_DIM = (0.72, 0.76, 0.82, 1)
ACCENT = (0.18, 0.55, 0.95, 1)
GOOD = (0.16, 0.7, 0.35, 1)
BAD = (0.88, 0.2, 0.18, 1)
PAIN = (0.8, 0.1, 0.12, 1)
INFO = (0.1, 0.42, 0.85, 1)
WARN = (0.98, 0.68, 0.05, 1)
STOP = (0.85, 0.08, 0.08, 1)

SEVERITY_COLOUR = {"info": INFO, "warn": WARN, "stop": STOP}
# Amber needs dark text for contrast; blue and red take white.
SEVERITY_TEXT = {"info": TEXT, "warn": (0.05, 0.05, 0.05, 1), "stop": TEXT}
SEVERITY_RANK = {"info": 1, "warn": 2, "stop": 3}

# 12 mm on a 7" 800x480 panel (about 5.3 px/mm).
TOUCH = 64
DESIGN_SIZE = (800, 480)


def unit_for(width: float, height: float) -> float:
    """Scale of the layout: 1.0 at 800x480, growing with the smaller of the two ratios so nothing overflows."""
    return max(0.5, min(width / DESIGN_SIZE[0], height / DESIGN_SIZE[1]))
