"""Words a member reads on the idle screen and in the guided setup, in the real window (issue 22, item 11)."""

import re

import pytest

from kiosk.words import wording as words

pytestmark = pytest.mark.ui


def test_the_idle_screen_names_the_machine_in_a_members_words(fresh):
    ui, app = fresh, fresh.app
    attract = app.screen("attract")
    labels = [w.text for w in attract.walk() if hasattr(w, "text") and isinstance(w.text, str)]
    assert attract.machine_line == words.machine_line(ui.kiosk.settings.machine)
    assert ui.kiosk.settings.site not in attract.machine_line and "/" not in attract.machine_line
    assert words.LINK_UP in labels and "connected" not in labels


def test_the_guided_setup_shows_how_far_the_knees_bend_not_where_the_sled_is(fresh):
    ui, d, app = fresh, fresh.driver, fresh.app
    ui.scan(ui.keyring.code("m-wrd", "Wyn"))
    d.until(lambda: ui.current() == "checklist", what="checklist first")
    d.tap(app.screen("checklist").ids.start)
    setup = app.screen("setup")
    d.until(lambda: ui.current() == "setup", what="guided setup")
    d.tap(setup.ids.primary)
    d.until(lambda: setup.stage == "reps", what="counting reps")
    texts = [w.text for w in setup.walk() if isinstance(getattr(w, "text", None), str)]
    assert not any(text.startswith("Sled at") for text in texts)
    live = [text for text in texts if re.fullmatch(r"Depth now: \d+ mm", text)]
    assert live and live[0] == words.sled_now(float(live[0].split()[2]))
