"""Colours and sizes shared by every screen: high contrast, readable from the machine's seat.

Sizes are in "units": one unit is one pixel on a 7" 800x480 panel and grows
with the window (`KioskApp.unit`), so a layout drawn for 800x480 fills a
1024x600 or 1280x800 screen the same way.

Plain values only, no Kivy: tests check the colours' contrast without a window.
Fills that carry white text and colours used as text on the dark background
are separate (`GOOD` / `GOOD_TEXT`), because one green cannot be both dark
enough under white and light enough on near-black.
"""

BACKGROUND = (0.06, 0.07, 0.09, 1)
PANEL = (0.13, 0.15, 0.19, 1)
PANEL_LIGHT = (0.2, 0.23, 0.29, 1)
TEXT = (1, 1, 1, 1)
TEXT_DIM = (0.72, 0.76, 0.82, 1)
ACCENT = (0.18, 0.55, 0.95, 1)
GOOD = (0.1, 0.5, 0.24, 1)  # fill under white text
GOOD_TEXT = (0.16, 0.7, 0.35, 1)  # text and marks on BACKGROUND or PANEL
BAD = (0.8, 0.17, 0.15, 1)  # fill under white text
BAD_TEXT = (1.0, 0.42, 0.38, 1)  # text and marks on BACKGROUND or PANEL
PAIN = (0.8, 0.1, 0.12, 1)
INFO = (0.1, 0.42, 0.85, 1)
WARN = (0.98, 0.68, 0.05, 1)
STOP = (0.85, 0.08, 0.08, 1)
PAIN_BACKGROUND = (0.22, 0.04, 0.05, 1)
PAIN_HEADLINE = (1, 0.55, 0.5, 1)

SEVERITY_COLOUR = {"info": INFO, "warn": WARN, "stop": STOP}
# Amber needs dark text for contrast; blue and red take white.
SEVERITY_TEXT = {"info": TEXT, "warn": (0.05, 0.05, 0.05, 1), "stop": TEXT}

# Where a cue stands among cues of its own severity: a higher one may replace
# a lower one at once, the rest wait their turn (`CueBanner`).
CUE_RANK = {
    "liftoff_lumbar": 5, "liftoff_pelvis": 4, "too_deep": 3, "lockout": 2, "sensor_lost": 1,
    "velocity_loss": 5, "bounce": 4, "descent_fast": 3, "shallow": 2, "depth_reached": 1,
}

# 12 mm on a 7" 800x480 panel (about 5.3 px/mm).
TOUCH = 64
DESIGN_SIZE = (800, 480)


def unit_for(width: float, height: float) -> float:
    """Scale of the layout: 1.0 at 800x480, growing with the smaller of the two ratios so nothing overflows."""
    return max(0.5, min(width / DESIGN_SIZE[0], height / DESIGN_SIZE[1]))
