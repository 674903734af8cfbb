"""The HTML report's charts read right for a day, a week and a season: one label per day or week, counts from 0.

The figures are drawn exactly as the report draws them (`html.chart`), then
the whole report is opened in headless Chromium.
"""

from datetime import date, datetime, timedelta

import pytest
from PIL import Image

from kiosk.fleet.recorder.figures import MachineDay, Period
from kiosk.fleet.recorder.html import chart, render
from tests.fleet.recorder.test_report import chromium

CHARTS = ("sessions-per-day", "liftoff-rate", "pain-reports", "out-of-order")
LAST = date.today() - timedelta(days=1)


def recorded_days(count: int, pain: bool = False) -> list[MachineDay]:
    """Two machines used every day of the last `count` days; no pain reports unless asked."""
    first = LAST - timedelta(days=count - 1)
    return [MachineDay(date=(first + timedelta(days=i)).isoformat(), site="downtown", machine=machine,
                       sessions=3 + (i + k) % 4, members=2, sets=6, reps=60, liftoffs=(i + k) % 3,
                       liftoff_rate=round(100 * ((i + k) % 3) / 60, 1), pain_reports=int(pain and i % 5 == 0),
                       out_of_order_min=0.0, sensor_faults=0)
            for i in range(count) for k, machine in enumerate(("lp-1", "lp-2"))]


def x_labels(chart_id: str, days: list[MachineDay], span: tuple[date, date]) -> list[str]:
    figure = chart(chart_id, days, span)
    figure.draw_without_rendering()
    return [label.get_text() for label in figure.axes[0].get_xticklabels()]


@pytest.mark.parametrize("count,expected_labels", [(1, 1), (7, 7), (90, None)])
def test_each_chart_has_one_label_per_day_or_week_within_the_report(count, expected_labels):
    days = recorded_days(count)
    span = (LAST - timedelta(days=count - 1), LAST)
    for chart_id in CHARTS:
        labels = x_labels(chart_id, days, span)
        assert len(labels) == len(set(labels)), (chart_id, labels)  # no "04 Dec 04 Dec 05 Dec"
        shown = [datetime.strptime(f"{label} {LAST.year}", "%d %b %Y").date() for label in labels]
        # Dated within the report (a label in January of a report spanning New Year reads as this year).
        assert all(span[0] <= d.replace(year=d.year - (d > LAST)) <= LAST for d in shown), (chart_id, labels)
        if expected_labels is not None:
            assert len(labels) == expected_labels, (chart_id, labels)
        else:
            assert 12 <= len(labels) <= 14 and all(d.weekday() == 0 for d in
                                                   (s.replace(year=s.year - (s > LAST)) for s in shown))


def test_a_chart_of_nothing_runs_from_0_to_1_and_counts_never_go_below_0():
    days = recorded_days(1)  # no pain reports, no time out of order
    span = (LAST, LAST)
    for chart_id in ("pain-reports", "out-of-order"):
        assert chart(chart_id, days, span).axes[0].get_ylim() == (0.0, 1.0), chart_id
    for chart_id in CHARTS:
        assert chart(chart_id, recorded_days(7, pain=True), (LAST - timedelta(days=6), LAST)).axes[0].get_ylim()[0] == 0


def test_an_empty_lift_off_chart_is_not_an_epoch_axis():
    quiet = [MachineDay(date=LAST.isoformat(), site="downtown", machine="lp-1", sessions=1, members=1, sets=0,
                        reps=0, liftoffs=0, liftoff_rate=0.0, pain_reports=0, out_of_order_min=0.0, sensor_faults=0)]
    assert x_labels("liftoff-rate", quiet, (LAST, LAST)) == [LAST.strftime("%d %b")]


@pytest.mark.parametrize("count", [1, 7, 90])
def test_the_report_renders_in_headless_chromium_for_a_day_a_week_and_a_season(count, tmp_path):
    page = tmp_path / f"report-{count}.html"
    period = Period(first=LAST - timedelta(days=count - 1), last=LAST)
    page.write_text(render(recorded_days(count), period, "today"), encoding="utf-8")
    shot = tmp_path / f"report-{count}.png"
    result = chromium(f"--screenshot={shot}", "--window-size=1100,1500", "--hide-scrollbars", page.as_uri(),
                      user_dir=tmp_path / "profile")
    assert result.returncode == 0, result.stderr[-2000:]
    colours = Image.open(shot).convert("RGB").getcolors(maxcolors=1_000_000) or []
    assert len(colours) > 50  # drawn, not blank
