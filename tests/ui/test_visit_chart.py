"""The member's visits at tap-in, on the real window (issue 24, step 5): a small chart of the best set's load
per visit (and its fastest push) under the machine drawing, with the same in words beside it, in the site's
unit; a first-timer's settings screen has no chart and gives it no room."""

import os
from pathlib import Path

import pytest

from kiosk.contract.config import KG_PER_LB
from kiosk.contract.profile import MachineSettings, Visit
from kiosk.ui.widgets.visit_chart import charted
from kiosk.words import wording
from kiosk.words.language import speaking
from tests.ui.members import SAVED, push_config, start_member

pytestmark = pytest.mark.ui

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

# Five visits, newest last: the third is the heaviest and the slowest; the fourth had no load entered, so it
# has no bar (and the chart says "Last 4 visits").
VISITS = [
    Visit(date="2026-11-03", sets=3, reps=30, load_kg=80, best_reps=10, best_mean_velocity_mps=0.52),
    Visit(date="2026-11-10", sets=3, reps=30, load_kg=85, best_reps=10, best_mean_velocity_mps=0.47),
    Visit(date="2026-11-17", sets=3, reps=24, load_kg=95, best_reps=8, best_mean_velocity_mps=0.31),
    Visit(date="2026-11-20", sets=2, reps=20),
    Visit(date="2026-11-24", sets=3, reps=30, load_kg=87.5, best_reps=10, best_mean_velocity_mps=0.44),
]


def test_the_chart_follows_the_members_loads_and_speeds_and_says_so_in_words(fresh, tmp_path):
    ui, d, app = fresh, fresh.driver, fresh.app
    start_member(ui, "m-vic", "Vic", SAVED.model_copy(update={"history": VISITS}))
    screen = app.screen("settings")
    chart = screen.ids.visit_chart
    d.until(lambda: len(chart.bars) == 4 and screen.ids.visits_row.height > 0, what="four bars drawn")
    d.until(lambda: not app.manager.transition.is_active, what="the settings screen in place")
    d.frames(2)
    heights = [h for _x, _y, _w, h in chart.bars]
    loads = [80, 85, 95, 87.5]
    assert sorted(range(4), key=heights.__getitem__) == sorted(range(4), key=loads.__getitem__)
    assert max(heights) == heights[2] and heights[2] > heights[3] > heights[1] > heights[0] > 0
    xs = [x for x, _y, _w, _h in chart.bars]
    assert xs == sorted(xs), "oldest on the left"
    assert all(chart.collide_point(x + w / 2, y + h - 1) for x, y, w, h in chart.bars), "every bar inside"
    # One dot per bar for the fastest push: the heaviest visit was the slowest, its dot the lowest.
    dot_ys = [y for _x, y in chart.dots]
    assert len(dot_ys) == 4 and min(dot_ys) == dot_ys[2] and max(dot_ys) == dot_ys[0]
    assert screen.ids.visits_text.text == "Last 4 visits: from 80 kg to 87.5 kg"
    # It fits: the rows stay in view and the text in its box.
    rows = screen.ids.rows
    assert rows.height <= rows.parent.height + 1
    label = screen.ids.visits_text
    label.texture_update()
    assert label.texture_size[1] <= label.height + 1 and label.texture_size[0] <= label.width + 1
    d.screenshot(str(tmp_path / "settings-visit-chart-800x480.png"))
    if os.environ.get("LEGPRESS_SCREENSHOTS"):
        d.screenshot(str(SHOTS / "settings-visit-chart-800x480.png"))


def test_the_chart_text_is_in_pounds_where_the_site_shows_pounds(fresh):
    ui, d, app = fresh, fresh.driver, fresh.app
    push_config(ui, {"load_unit": "lb"})
    try:
        history = [Visit(date="2026-11-0" + str(i + 1), sets=2, reps=20, load_kg=round(lb * KG_PER_LB, 4),
                         best_reps=10) for i, lb in enumerate((100, 110, 105))]
        start_member(ui, "m-lbs", "Lou", SAVED.model_copy(update={"history": history}))
        screen = app.screen("settings")
        d.until(lambda: screen.ids.visits_text.text == "Last 3 visits: from 100 lb to 105 lb", what="pounds")
        heights = [h for _x, _y, _w, h in screen.ids.visit_chart.bars]
        assert heights[1] > heights[2] > heights[0]
        assert screen.ids.visit_chart.dots == [], "no speeds kept, no dots"
    finally:
        push_config(ui, None)


@pytest.mark.parametrize("history", [[], VISITS[:1], [VISITS[0], VISITS[3]]], ids=["first", "one", "one-load"])
def test_a_first_timer_or_one_visit_gets_no_chart_and_no_room_for_it(fresh, history):
    ui, d, app = fresh, fresh.driver, fresh.app
    start_member(ui, f"m-new-{len(history)}", "Neo", SAVED.model_copy(update={"history": history}))
    screen = app.screen("settings")
    d.until(lambda: not app.manager.transition.is_active, what="the settings screen in place")
    d.frames(2)
    assert screen.ids.visit_chart.bars == [] and screen.ids.visit_chart.dots == []
    assert screen.ids.visits_row.height == 0 and screen.ids.visits_text.text == ""


def test_the_words_beside_the_chart_count_only_visits_with_a_load_in_each_language():
    drawn = charted(MachineSettings(**{**SAVED.model_dump(), "history": [v.model_dump() for v in VISITS]}))
    assert [v.date for v in drawn] == ["2026-11-03", "2026-11-10", "2026-11-17", "2026-11-24"]
    told = {}
    for tag in ("en", "de", "es", "fr"):
        with speaking(tag):
            told[tag] = wording.visits_chart_text(drawn)
    assert told == {"en": "Last 4 visits: from 80 kg to 87.5 kg", "de": "Letzte 4 Besuche: von 80 kg auf 87,5 kg",
                    "es": "Últimas 4 visitas: de 80 kg a 87,5 kg",
                    "fr": "4 dernières visites : de 80 kg à 87,5 kg"}
    assert wording.visits_chart_text(drawn[:1]) == "" and charted(None) == []
