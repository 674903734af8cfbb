"""`legpress-fleet report --pain`: each pain report and how long until staff saw it and someone was on the way.

The events go through a real broker to a real recorder, on both engines; the
waits are the kiosk's own `assist` events after each report.
"""

import csv
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.contract.events import AssistTold, PainReport, SessionStart
from kiosk.fleet.cli import main
from kiosk.fleet.recorder.figures import Period
from kiosk.fleet.recorder.pain_answers import PAIN_COLUMNS, pain_answers
from kiosk.fleet.recorder.service import Recorder
from tests.fleet.recorder.kiosks import SITE, FakeKiosk, eventually

DAY = date.today() - timedelta(days=1)


def at(hour: int, minute: int = 0, second: float = 0.0) -> float:
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute).timestamp() + second


@pytest.fixture
def recorded(broker, store) -> None:
    """lp1: a pain report seen after 1.5 s and answered after 12.0 s, then a second one nobody answered.
    lp2: one answered by a name a spreadsheet would run as a formula."""
    recorder = Recorder(store, broker.url, SITE, client_id="recorder-pain")
    recorder.start()
    assert recorder.wait_connected(10)
    lp1, lp2 = FakeKiosk(broker, "lp1"), FakeKiosk(broker, "lp2")
    try:
        lp1.event(SessionStart(ts=at(9), session="a1", member="m_sam", role="member"))
        lp1.event(PainReport(ts=at(9, 5), session="a1", member="m_sam", kind="sharp"))
        lp1.event(AssistTold(ts=at(9, 5, 1.5), session="a1", state="seen", by="Front desk"))
        lp1.event(AssistTold(ts=at(9, 5, 12.0), session="a1", state="coming", by="Aoife"))
        lp1.event(PainReport(ts=at(17), session="a9", member="m_lee", kind="dull"))
        lp2.event(PainReport(ts=at(10), session="b1", member="m_kim", kind="numbness"))
        lp2.event(AssistTold(ts=at(10, 0, 30.25), session="b1", state="coming", by="=HYPERLINK(1)"))
        for k in (lp1, lp2):
            k.flush()
        eventually(lambda: recorder.total.added.events == 7, 20, "every event stored")
    finally:
        lp1.close()
        lp2.close()
        recorder.stop()


def test_each_pain_report_has_its_waits_and_who_came(recorded, store):
    answers = pain_answers(store, Period(DAY, DAY), now=at(23))
    assert [(a.machine, a.member, a.kind, a.seen_after_s, a.coming_after_s, a.coming_by) for a in answers] == [
        ("lp1", "m_sam", "sharp", 1.5, 12.0, "Aoife"),
        ("lp1", "m_lee", "dull", None, None, ""),  # the morning's answers are not this report's
        ("lp2", "m_kim", "numbness", None, 30.25, "=HYPERLINK(1)"),
    ]
    assert [a.machine for a in pain_answers(store, Period(DAY, DAY, "lp2"), now=at(23))] == ["lp2"]
    assert pain_answers(store, Period(DAY - timedelta(days=1), DAY - timedelta(days=1)), now=at(23)) == []


def test_the_cli_writes_the_pain_csv_beside_the_daily_one_formula_neutralised(recorded, store_url, tmp_path: Path,
                                                                                capsys):
    out = tmp_path / "usage.csv"
    day = DAY.isoformat()
    assert main(["report", "--store", store_url, "--from", day, "--to", day, "--format", "csv", "--out", str(out),
                 "--pain"]) == 0
    assert f"{tmp_path / 'usage-pain.csv'} (3 pain reports)" in capsys.readouterr().out
    with (tmp_path / "usage-pain.csv").open(newline="", encoding="utf-8") as f:
        header, *rows = list(csv.reader(f))
    assert tuple(header) == PAIN_COLUMNS
    assert [r[2:6] + r[7:] for r in rows] == [
        ["lp1", "m_sam", "a1", "sharp", "1.5", "12.0", "Aoife"],
        ["lp1", "m_lee", "a9", "dull", "", "", ""],
        ["lp2", "m_kim", "b1", "numbness", "", "30.2", "'=HYPERLINK(1)"],
    ]
    assert datetime.fromisoformat(rows[0][6]).timestamp() == at(9, 5)
    with out.open(newline="", encoding="utf-8") as f:
        assert next(csv.reader(f))[-1] == "sensor_faults"  # the daily CSV keeps the spec's columns


def test_the_html_report_shows_the_waits_escaped(recorded, store_url, tmp_path: Path):
    out = tmp_path / "usage.html"
    day = DAY.isoformat()
    assert main(["report", "--store", store_url, "--from", day, "--to", day, "--format", "html",
                 "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    section = html[html.index('<section id="pain-answers">'):]
    assert "<td>m_sam</td><td>a1</td><td>sharp</td>" in section
    assert "<td>1.5</td><td>12.0</td><td>Aoife</td>" in section
    assert "<td>=HYPERLINK(1)</td>" in section  # a page, not a spreadsheet: shown as it is, escaped
