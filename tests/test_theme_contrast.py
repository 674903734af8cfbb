"""The kiosk's colours pass WCAG contrast where they carry text: 4.5:1 for normal text, 3:1 for large bold.

Imports only `kiosk.ui.theme`, which must stay plain values: no window, no Kivy.
"""

import subprocess
import sys

import pytest

from kiosk.ui import theme

NORMAL, LARGE_BOLD = 4.5, 3.0


def luminance(colour: tuple) -> float:
    def channel(v: float) -> float:
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in colour[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple, b: tuple) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


# (text, background, the least it needs): every pairing the screens draw text with.
PAIRS = {
    "white on the green fill (checklist, feedback, buttons)": (theme.TEXT, theme.GOOD, NORMAL),
    "white on the red fill (refused scan)": (theme.TEXT, theme.BAD, NORMAL),
    "green text on the background": (theme.GOOD_TEXT, theme.BACKGROUND, NORMAL),
    "green text on a panel": (theme.GOOD_TEXT, theme.PANEL, NORMAL),
    "red text on the background (max depth, refusals)": (theme.BAD_TEXT, theme.BACKGROUND, NORMAL),
    "red text on a panel": (theme.BAD_TEXT, theme.PANEL, NORMAL),
    "white on the pain button": (theme.TEXT, theme.PAIN, NORMAL),
    "pain screen headline": (theme.PAIN_HEADLINE, theme.PAIN_BACKGROUND, NORMAL),
    "green confirmation on the pain screen": (theme.GOOD_TEXT, theme.PAIN_BACKGROUND, NORMAL),
    "dim text on the background": (theme.TEXT_DIM, theme.BACKGROUND, NORMAL),
    "dim text on a panel": (theme.TEXT_DIM, theme.PANEL, NORMAL),
    "amber on the background (offline, out of order)": (theme.WARN, theme.BACKGROUND, NORMAL),
    "white on blue buttons and messages (large bold only)": (theme.TEXT, theme.ACCENT, LARGE_BOLD),
    **{f"{severity} banner": (theme.SEVERITY_TEXT[severity], theme.SEVERITY_COLOUR[severity], NORMAL)
       for severity in theme.SEVERITY_COLOUR},
}


@pytest.mark.parametrize("what", PAIRS)
def test_text_colour_stands_out_from_its_background(what: str):
    text, background, least = PAIRS[what]
    assert contrast(text, background) >= least, f"{what}: {contrast(text, background):.2f}:1"


def test_theme_imports_without_kivy():
    code = "import sys, kiosk.ui.theme; sys.exit('kivy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=30).returncode == 0
