"""An operator's reports page in real Chromium: the recorder's figures for a chosen range, and the CSV downloads.

The store is a real recorder's (SQLite), filled through a real broker; the
console reads it as `--store`, without writing to it.
"""

import csv
import hashlib
import io
import os
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from kiosk.contract.events import AssistTold, PainReport, RepDone, SessionStart
from kiosk.dev.broker import Broker
from kiosk.fleet.recorder.figures import DAILY_COLUMNS
from kiosk.fleet.recorder.pain_answers import PAIN_COLUMNS
from kiosk.fleet.recorder.service import Recorder
from kiosk.fleet.recorder.store_url import open_store
from tests.console.conftest import sign_in
from tests.fleet.recorder.kiosks import FakeKiosk, eventually
from tests.support.another_user import READERS_GID, Reader, needs_root, readable_by_all_above
from tests.support.console_process import ConsoleProcess, start_console

DAY = date.today() - timedelta(days=1)
SNEAKY = "=1+1<b>bold</b>"  # a spreadsheet formula and markup, as a staff display name from a kiosk's event


def at(hour: int, minute: int = 0, second: float = 0.0) -> float:
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute).timestamp() + second


@pytest.fixture
def store_path(broker: Broker, tmp_path: Path) -> Path:
    return recorded_store(broker, tmp_path / "record.sqlite")


def recorded_store(broker: Broker, path: Path) -> Path:
    """A real recorder's store at `path`, filled through the broker by two kiosks; the recorder stopped."""
    store = open_store(f"sqlite:{path}")
    store.migrate()
    recorder = Recorder(store, broker.url, "testgym", client_id="recorder-console")
    recorder.start()
    assert recorder.wait_connected(10)
    lp1, lp2 = FakeKiosk(broker, "lp1"), FakeKiosk(broker, "lp2")
    try:
        lp1.event(SessionStart(ts=at(9), session="a1", member="m_sam", role="member"))
        lp1.event(RepDone(ts=at(9, 1), session="a1", rep=1, depth_mm=220.0, eccentric_s=2.0, concentric_s=1.0))
        lp1.event(PainReport(ts=at(9, 5), session="a1", member="m_sam", kind="sharp"))
        lp1.event(AssistTold(ts=at(9, 5, 1.5), session="a1", state="seen", by="Front desk"))
        lp1.event(AssistTold(ts=at(9, 5, 12.0), session="a1", state="coming", by="Aoife"))
        lp2.event(SessionStart(ts=at(10), session="b1", member="m_kim", role="member"))
        lp2.event(PainReport(ts=at(10, 1), session="b1", member="m_kim", kind="dull"))
        lp2.event(AssistTold(ts=at(10, 1, 40.0), session="b1", state="coming", by=SNEAKY))
        lp2.event(PainReport(ts=at(11), session="b2", member="m_kim", kind="radiating"))
        for k in (lp1, lp2):
            k.flush()
        eventually(lambda: recorder.total.added.events == 9, 20, "every event stored")
    finally:
        lp1.close()
        lp2.close()
        recorder.stop()
        store.close()
    return path


@pytest.fixture
def reporting_console(broker: Broker, tmp_path: Path, store_path: Path) -> Iterator[ConsoleProcess]:
    c = start_console(broker.url, tmp_path / "console", "testgym", "--store", f"sqlite:{store_path}")
    yield c
    c.stop()


def test_an_operator_reads_the_report_for_a_range_with_the_waits_for_staff(browser, reporting_console, store_path):
    before = hashlib.sha256(store_path.read_bytes()).hexdigest()
    page = sign_in(browser, reporting_console, "ops1")
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Usage and safety")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("2 machine-days, 3 pain reports")
    daily = page.get_by_role("table", name="Per machine and day")
    expect(daily.get_by_role("row")).to_have_count(3)
    pain = page.get_by_role("table", name="Pain reports and how long until staff answered")
    sam = pain.get_by_role("row").filter(has_text="m_sam")
    expect(sam).to_contain_text("1.5")
    expect(sam).to_contain_text("12.0")
    expect(sam).to_contain_text("Aoife")
    kim = pain.get_by_role("row").filter(has_text="dull")
    expect(kim).to_contain_text(SNEAKY)  # shown as text
    expect(pain.locator("b")).to_have_count(0)

    page.get_by_label("From", exact=True).fill(DAY.isoformat())
    page.get_by_label("To", exact=True).fill(DAY.isoformat())
    page.get_by_label("Machine", exact=True).fill("lp2")
    page.get_by_role("button", name="Show report").click()
    expect(page.get_by_role("status")).to_contain_text("machine lp2: 1 machine-days, 2 pain reports")
    with page.expect_download() as got:
        page.get_by_role("link", name="Download the pain reports CSV").click()
    rows = list(csv.reader(io.StringIO(Path(got.value.path()).read_text(encoding="utf-8"))))
    assert tuple(rows[0]) == PAIN_COLUMNS
    assert [(r[2], r[5], r[8], r[9]) for r in rows[1:]] == [("lp2", "dull", "40.0", "'" + SNEAKY),
                                                           ("lp2", "radiating", "", "")]
    assert got.value.suggested_filename == f"legpress-pain-{DAY}-{DAY}-lp2.csv"
    with page.expect_download() as got:
        page.get_by_role("link", name="Download the daily CSV").click()
    daily_rows = list(csv.reader(io.StringIO(Path(got.value.path()).read_text(encoding="utf-8"))))
    assert tuple(daily_rows[0]) == DAILY_COLUMNS
    assert [r[:3] + [r[9]] for r in daily_rows[1:]] == [[DAY.isoformat(), "testgym", "lp2", "2"]]
    assert hashlib.sha256(store_path.read_bytes()).hexdigest() == before  # read only


def test_a_bad_range_is_said_on_the_page(browser, reporting_console):
    page = sign_in(browser, reporting_console, "ops1")
    page.goto(f"{reporting_console.url}/reports?from=2026-02-02&to=2026-02-01")
    expect(page.get_by_role("status")).to_contain_text("The range starts (2026-02-02) after it ends (2026-02-01).")
    answer = page.request.get(f"{reporting_console.url}/reports/daily.csv?machine=LP%201")
    assert answer.status == 400 and "machine id" in answer.text()


def test_without_a_store_the_page_says_so(browser, console: ConsoleProcess):
    page = sign_in(browser, console, "ops1")
    page.goto(f"{console.url}/reports")
    expect(page.get_by_role("status")).to_contain_text("This console has no recorder store")



@needs_root
def test_a_console_that_may_only_read_the_store_shows_the_reports(browser, broker, tmp_path):
    """As installed: the recorder's folder set-group-id and group-readable, the console another user in that
    group. Root (who runs the suite) writes anything, so the console here runs as nobody."""
    folder = tmp_path / "legpress-recorder"
    folder.mkdir()
    os.chown(folder, -1, READERS_GID)
    folder.chmod(0o2750)
    readable_by_all_above(folder)
    store = recorded_store(broker, folder / "records.sqlite3")
    assert (store.stat().st_mode & 0o777, store.stat().st_gid, store.stat().st_uid) == (0o640, READERS_GID, 0)
    before = hashlib.sha256(store.read_bytes()).hexdigest()
    console = start_console(broker.url, tmp_path / "console", "testgym", "--store", f"sqlite:{store}",
                            as_user=Reader())
    try:
        uid_line = next(line for line in Path(f"/proc/{console.proc.pid}/status").read_text().splitlines()
                        if line.startswith("Uid:"))
        assert set(uid_line.split()[1:]) == {"65534"}, uid_line  # nobody: it cannot write the 0640 store
        page = sign_in(browser, console, "ops1")
        page.get_by_role("link", name="Reports").click()
        expect(page.get_by_role("status")).to_contain_text("2 machine-days, 3 pain reports")
        expect(page.get_by_role("table", name="Pain reports and how long until staff answered")
               .get_by_role("row").filter(has_text="m_sam")).to_contain_text("Aoife")
    finally:
        console.stop()
    assert hashlib.sha256(store.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in folder.iterdir()) == ["records.sqlite3"]  # nothing made beside it


@needs_root
def test_a_console_outside_the_group_says_why_it_cannot_read(browser, broker, tmp_path):
    folder = tmp_path / "legpress-recorder"
    folder.mkdir()
    folder.chmod(0o2750)
    readable_by_all_above(folder)
    store = recorded_store(broker, folder / "records.sqlite3")
    # Not in the store's group: the check at start says why, in one line, and the console exits 2.
    console_dir = tmp_path / "console"
    with pytest.raises(AssertionError, match="may not read its folder"):
        start_console(broker.url, console_dir, "testgym", "--store", f"sqlite:{store}", as_user=Reader(groups=()))
