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
    ui.scan(ui.keyring.code("m-knees", "Wyn"))  # a member no other test has seen: a first visit
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


def test_maintenance_shows_whole_fault_lines_at_1024x600(fresh):
    import time

    from kiosk.contract.events import SensorFault

    ui, d, app = fresh, fresh.driver, fresh.app
    staff = ui.keyring.code("tech", "Robin", role="staff")
    details = ["9.4 samples/s; cues within a rep need at least 20", "no depth reading for 1.1 s; live cues are off",
               "12 refused so far; last: mm: Input should be less than or equal to 2000",
               "timestamp refused (3 so far): 40.2 s ahead of the kiosk's clock"]
    d.set_size(1024, 600)
    try:
        ui.scan(staff)
        d.until(lambda: ui.current() == "maintenance", what="maintenance screen")
        m = app.screen("maintenance")
        for n, detail in enumerate(details):
            app.on_core(SensorFault(ts=time.time() + n, fault="rate_low", detail=detail), time.time())
        newest = m.faults[0]
        d.until(lambda: m.ids.faults.text.startswith(newest), what="the newest fault shown")
        d.frames(3)
        shown = m.ids.faults.text.split("\n")
        assert shown and all(line in m.faults for line in shown)  # whole faults, none cut
        assert len(shown) < len(details)  # four long faults do not all fit at this size: the oldest went
        label = m.ids.faults
        label.texture_update()
        # What is drawn, word by word (Kivy drops lines past the box's bottom): every word of what is shown.
        drawn = " ".join(w.text for line in label._label._cached_lines for w in line.words).split()
        assert drawn == label.text.split()
    finally:
        ui.kiosk.leave_maintenance()
        d.set_size(800, 480)
    d.until(lambda: ui.current() == "attract", what="maintenance left")
