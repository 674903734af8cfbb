"""Every member in their own language, in the real window (issue 25): one tap on the attract screen switches
every label at once, the member who scans next keeps it in their profile, and no label's text runs out of
its box in any language at 800x480, 1024x600 or 1280x800."""

import json
import os
from pathlib import Path

import pytest
from kivy.uix.label import Label

from kiosk.contract.topics import site_config_set
from kiosk.dev.broker import publish

pytestmark = pytest.mark.ui

SIZES = ((800, 480), (1024, 600), (1280, 800))
SITE_LANGUAGES = ["de", "en", "es", "fr"]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def overflowing(root) -> list[tuple[str, tuple, tuple]]:
    """Labels whose rendered text is larger than their box (a pixel of rounding allowed)."""
    found = []
    for widget in root.walk(restrict=True):
        if not isinstance(widget, Label) or not widget.text.strip() or widget.opacity == 0:
            continue
        if widget.width <= 1 or widget.height <= 1:
            continue
        widget.texture_update()
        width, height = widget.texture_size
        if width > widget.width + 1 or height > widget.height + 1:
            found.append((widget.text, tuple(widget.size), (width, height)))
    return found


@pytest.fixture
def four_languages(fresh):
    publish(fresh.broker, site_config_set(fresh.kiosk.settings.site),
            json.dumps({"version": "languages", "languages": SITE_LANGUAGES}))
    fresh.driver.until(lambda: list(fresh.app.languages) == SITE_LANGUAGES, what="the site's languages")
    yield fresh
    publish(fresh.broker, site_config_set(fresh.kiosk.settings.site), json.dumps({"version": "default"}))
    fresh.driver.until(lambda: list(fresh.app.languages) == ["en"], what="English only again")
    fresh.app.forget_member()
    fresh.driver.set_size(800, 480)


def tap_language(ui, tag: str) -> None:
    bar = ui.app.screen(ui.current()).ids.languages
    [button] = [b for b in bar.children if b.tag == tag]
    ui.driver.tap(button)
    ui.driver.until(lambda: ui.app.language == tag, what=f"the screen in {tag}")


def test_one_tap_switches_the_attract_screen_at_once_and_the_next_member_keeps_it(four_languages):
    ui, d, app = four_languages, four_languages.driver, four_languages.app
    attract = app.screen("attract")
    bar = attract.ids.languages
    assert sorted(b.text for b in bar.children) == ["Deutsch", "English", "español", "français"] or \
        sorted(b.text.lower() for b in bar.children) == ["deutsch", "english", "español", "français"]
    texts = lambda: [w.text for w in attract.walk() if isinstance(w, Label)]  # noqa: E731
    assert "Leg press" in texts()
    tap_language(ui, "de")
    d.frames(2)
    assert "Beinpresse" in texts() and "Leg press" not in texts()
    assert any(t.endswith("Einstellungen auf der Skizze prüfen") for t in texts())
    tap_language(ui, "fr")
    d.frames(2)
    assert "Presse à cuisses" in texts()
    # Sam has no language in his profile: the one tapped before his scan is his, saved as a new rev.
    before = ui.kiosk.profiles.book.rev("m-lang")
    ui.scan(ui.keyring.code("m-lang", "Sam"))
    d.until(lambda: ui.current() in ("checklist", "settings"), what="Sam's first screen")
    d.until(lambda: (p := ui.kiosk.profiles.book.get("m-lang")) is not None and p.language == "fr"
            and p.rev > before, what="French saved to Sam's profile")
    assert app.language == "fr"
    assert app.screen("checklist").rows[0].title == "Talons à plat"


def test_no_label_overflows_its_box_in_any_language_at_any_size(four_languages):
    ui, d, app = four_languages, four_languages.driver, four_languages.app
    problems = []
    for width, height in SIZES:
        d.set_size(width, height)
        for tag in SITE_LANGUAGES:
            tap_language(ui, tag)
            d.frames(3)
            problems += [(tag, width, height, *p) for p in overflowing(app.screen("attract"))]
            if tag == "de" and os.environ.get("LEGPRESS_SCREENSHOTS"):
                d.screenshot(str(SHOTS / f"de-attract-{width}x{height}.png"))
    assert problems == [], "\n".join(map(str, problems))
