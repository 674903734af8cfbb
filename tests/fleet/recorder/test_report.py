"""`legpress-fleet report` from what a real recorder stored, checked against figures computed here from the events sent.

Every test runs on both engines, except the HTML rendering (the same figures,
drawn): that one is opened by a real headless Chromium.
"""

import csv
import shutil
import subprocess
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from kiosk.contract.events import CueRaised
from kiosk.contract.kiosk import KioskInfo
from kiosk.contract.profile import MachineSettings, MemberProfile
from kiosk.contract.topics import member_profile
from kiosk.fleet.cli import main
from kiosk.fleet.recorder.figures import DAILY_COLUMNS, MEMBER_COLUMNS
from kiosk.fleet.recorder.service import Recorder
from tests.fleet.recorder.kiosks import SITE, FakeKiosk, eventually, sensor_fault, workout

LIFTOFFS = {"liftoff_lumbar", "liftoff_pelvis"}
TWO_DAYS_AGO = date.today() - timedelta(days=2)
YESTERDAY = date.today() - timedelta(days=1)


def at(day: date, hour: int, minute: int = 0) -> float:
    return datetime(day.year, day.month, day.day, hour, minute).timestamp()


@dataclass
class Recorded:
    """What the kiosks sent, and the out-of-order spans their statuses made, for computing figures here."""

    events: list[tuple[str, dict[str, Any]]]
    out_of_order: list[tuple[str, float, float]]  # machine, from, to


@pytest.fixture
def recorded(broker, store, store_url) -> Recorded:
    """Two days of two machines, published through a real broker to a real recorder, all stored."""
    recorder = Recorder(store, broker.url, SITE, client_id="recorder-report")
    recorder.start()
    assert recorder.wait_connected(10)
    lp1, lp2 = FakeKiosk(broker, "lp1"), FakeKiosk(broker, "lp2")
    try:
        lp1.publish(lp1.topics.kiosk_info, KioskInfo(version="0.1.0", machine_model="hammer-45", config_version="c1",
                                                     contract_version="gym/v1", site=SITE, machine="lp1")
                    .model_dump(mode="json"), retain=True)
        settings = MachineSettings(backrest_notch=5, seat_notch=2, foot_height="high", foot_width="wide",
                                   toe_angle_deg=10, target_depth_mm=240, max_depth_mm=290, top_mm=30)
        profile = MemberProfile(member="m1", name="Sam", rev=2, updated=at(TWO_DAYS_AGO, 6),
                                machines={"hammer-45": settings})
        lp1.publish(member_profile(SITE, "m1"), profile.model_dump(mode="json"), retain=True)
        # The settings used are the profile the recorder held when a session started. lp1 and lp2 are two
        # connections, so on a loaded machine lp2's events could reach the broker before lp1's profile does.
        eventually(lambda: recorder.total.added.profiles == 1 and recorder.total.added.kiosk_info == 1, 20,
                   "the profile and the info stored before any session")

        lp1.status("idle", at(TWO_DAYS_AGO, 7))
        end = workout(lp1, "m1", "a1", at(TWO_DAYS_AGO, 8), [10, 8],
                      {(1, 4): "liftoff_lumbar", (2, 7): "liftoff_pelvis", (2, 8): "too_deep"}, pain="sharp")
        workout(lp1, "m2", "a2", end + 60, [12], {(1, 12): "liftoff_pelvis"})
        workout(lp1, "m1", "a3", at(TWO_DAYS_AGO, 9), [5])  # m1 again: two sessions, one member
        sensor_fault(lp1, at(TWO_DAYS_AGO, 9, 30))
        lp1.status("out_of_order", at(TWO_DAYS_AGO, 10))
        lp1.status("idle", at(TWO_DAYS_AGO, 10, 45))

        lp2.status("idle", at(TWO_DAYS_AGO, 7))
        workout(lp2, "m3", "b1", at(TWO_DAYS_AGO, 18), [6, 6, 6], {(3, 5): "liftoff_lumbar", (3, 6): "liftoff_lumbar"})
        lp2.status("out_of_order", at(TWO_DAYS_AGO, 23, 30))  # through midnight: 30 min on one day, 20 on the next
        lp2.status("idle", at(YESTERDAY, 0, 20))
        workout(lp2, "m1", "b2", at(YESTERDAY, 7), [7], {(1, 3): "liftoff_lumbar"}, pain="dull")
        # An older kiosk's event, without eid: counted all the same.
        lp2.event(CueRaised(ts=at(YESTERDAY, 7, 1), session="b2", cue="liftoff_pelvis", severity="warn", rep=4),
                  eid=False)
        sensor_fault(lp2, at(YESTERDAY, 8))
        sensor_fault(lp2, at(YESTERDAY, 8, 5))
        for k in (lp1, lp2):
            k.flush()
        sent = [(k.machine, e) for k in (lp1, lp2) for e in k.sent]
        eventually(lambda: recorder.total.added.events == len(sent), 20, "every event stored")
        eventually(lambda: recorder.total.added.statuses == 6, 20, "every status stored")
        eventually(lambda: recorder.total.added.profiles == 1 and recorder.total.added.kiosk_info == 1, 20,
                   "the profile and the info stored")
    finally:
        lp1.close()
        lp2.close()
        recorder.stop()
    spans = [("lp1", at(TWO_DAYS_AGO, 10), at(TWO_DAYS_AGO, 10, 45)),
             ("lp2", at(TWO_DAYS_AGO, 23, 30), at(YESTERDAY, 0, 20))]
    return Recorded(sent, spans)


def expected_daily(recorded: Recorded) -> list[list[str]]:
    """The CSV rows, computed from the events sent, not from the store."""
    figures: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {"sessions": 0, "members": set(), "sets": 0, "reps": 0, "liftoffs": 0, "pain": 0, "faults": 0,
                 "out": 0.0})
    for machine, e in recorded.events:
        f = figures[(date.fromtimestamp(e["ts"]).isoformat(), machine)]
        if e["type"] == "session_start":
            f["sessions"] += 1
            f["members"].add(e["member"])
        f["sets"] += e["type"] == "set_end"
        f["reps"] += e["type"] == "rep"
        f["liftoffs"] += e["type"] == "cue" and e["cue"] in LIFTOFFS
        f["pain"] += e["type"] == "pain_report"
        f["faults"] += e["type"] == "sensor_fault"
    for machine, start, end in recorded.out_of_order:
        day = date.fromtimestamp(start)
        while datetime.combine(day, datetime.min.time()).timestamp() < end:
            day_start = datetime.combine(day, datetime.min.time()).timestamp()
            day_end = datetime.combine(day + timedelta(days=1), datetime.min.time()).timestamp()
            figures[(day.isoformat(), machine)]["out"] += (min(end, day_end) - max(start, day_start)) / 60
            day += timedelta(days=1)
    rows = []
    for (day, machine), f in sorted(figures.items()):
        rate = (Decimal(100 * f["liftoffs"]) / Decimal(f["reps"])).quantize(Decimal("0.1"), ROUND_HALF_UP) \
            if f["reps"] else Decimal("0.0")
        rows.append([day, SITE, machine, str(f["sessions"]), str(len(f["members"])), str(f["sets"]), str(f["reps"]),
                     str(f["liftoffs"]), str(rate), str(f["pain"]), f"{f['out']:.1f}", str(f["faults"])])
    return rows


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as f:
        header, *rows = list(csv.reader(f))
    return header, rows


def report(store_url: str, out: Path, *extra: str) -> int:
    try:
        return main(["report", "--store", store_url, "--out", str(out), *extra])
    except SystemExit as stop:
        return int(stop.code or 0)


def test_csv_has_one_row_per_machine_and_day_with_the_spec_columns_and_figures_from_the_events(
        recorded, store_url, tmp_path, capsys):
    out = tmp_path / "usage.csv"
    assert report(store_url, out, "--format", "csv") == 0
    header, rows = read_csv(out)
    assert header == ["date", "site", "machine", "sessions", "members", "sets", "reps", "liftoffs", "liftoff_rate",
                      "pain_reports", "out_of_order_min", "sensor_faults"]
    assert tuple(header) == DAILY_COLUMNS
    assert rows == expected_daily(recorded)
    # Spot checks a person can follow: lp1's first day, lp2's midnight spanning out-of-order time.
    lp1 = rows[0]
    assert lp1[2:9] == ["lp1", "3", "2", "4", "35", "3", "8.6"] and lp1[10] == "45.0"
    assert [r[10] for r in rows if r[2] == "lp2"] == ["30.0", "20.0"]
    assert f"wrote {out} (3 machine-days)" in capsys.readouterr().out


def test_from_to_and_machine_narrow_the_report(recorded, store_url, tmp_path):
    out = tmp_path / "lp2.csv"
    day = YESTERDAY.isoformat()
    assert report(store_url, out, "--format", "csv", "--from", day, "--to", day, "--machine", "lp2") == 0
    _, rows = read_csv(out)
    assert rows == [r for r in expected_daily(recorded) if r[0] == day and r[2] == "lp2"]
    assert rows[0][7:10] == ["2", "28.6", "1"]  # two lift-offs in 7 reps, one pain report


def test_members_adds_one_row_per_member_session_with_the_settings_used(recorded, store_url, tmp_path):
    out = tmp_path / "usage.csv"
    assert report(store_url, out, "--format", "csv", "--members") == 0
    header, rows = read_csv(tmp_path / "usage-members.csv")
    assert tuple(header) == MEMBER_COLUMNS
    by_session = {r[4]: r for r in rows}
    assert [r[4] for r in rows] == ["a1", "a2", "a3", "b1", "b2"]  # in the order they started
    settings = "backrest 5, seat 2, feet high wide 10 deg, target 240 mm, max 290 mm"
    assert by_session["a1"] == [TWO_DAYS_AGO.isoformat(), SITE, "lp1", "m1", "a1", "2", "18", "271", "2", settings,
                                "", "10", "", ""]  # no load entered: the best set's reps, nothing more
    assert by_session["b1"][5:9] == ["3", "18", "245", "2"]
    assert by_session["a2"][9] == ""  # m2 has no recorded profile: safe defaults, nothing to show
    # lp2 never said its model; m1's profile holds one machine's settings, taken as these.
    assert by_session["b2"][8:10] == ["2", settings]


def test_a_bad_date_or_machine_ends_with_one_line_and_exit_2(store_url, tmp_path, capsys):
    assert report(store_url, tmp_path / "x.csv", "--format", "csv", "--from", "yesterday") == 2
    assert "'yesterday' is not a date" in capsys.readouterr().err
    assert report(store_url, tmp_path / "x.csv", "--format", "csv", "--from", "2026-02-02", "--to", "2026-02-01") == 2
    assert "--from 2026-02-02 is after --to 2026-02-01" in capsys.readouterr().err
    assert report(store_url, tmp_path / "x.csv", "--format", "csv", "--machine", "LP 1") == 2


def test_an_empty_store_gives_the_header_only(store, store_url, tmp_path):
    out = tmp_path / "empty.csv"
    assert report(store_url, out, "--format", "csv") == 0
    assert read_csv(out) == (list(DAILY_COLUMNS), [])


def test_a_store_that_is_not_there_is_said_in_one_line_and_nothing_is_created(tmp_path, capsys):
    missing = tmp_path / "typo.sqlite"
    assert report(f"sqlite:{missing}", tmp_path / "x.csv", "--format", "csv") == 1
    err = capsys.readouterr().err
    assert err == f"legpress-fleet: no recorder store at {missing} (is that the recorder's --store?)\n"
    assert not missing.exists()


def test_a_postgresql_store_that_cannot_be_reached_is_one_line_without_its_password(tmp_path, capsys):
    from kiosk.dev.broker import free_port

    url = f"postgresql://recorder:s3cret@127.0.0.1:{free_port()}/legpress"
    assert report(url, tmp_path / "x.csv", "--format", "csv") == 1
    err = capsys.readouterr().err
    assert err.startswith("legpress-fleet: cannot open the store postgresql://recorder:***@127.0.0.1:")
    assert "s3cret" not in err and err.count("\n") == 1


def chromium(*args: str, user_dir: Path) -> subprocess.CompletedProcess:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    assert binary, "chromium is not installed: run deploy/test.sh (it installs it)"
    return subprocess.run([binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                           "--disable-component-update", "--disable-sync", "--no-first-run",
                           f"--user-data-dir={user_dir}", *args], capture_output=True, text=True, timeout=90,
                          check=False)


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_html_report_is_one_file_whose_charts_render_in_headless_chromium(recorded, store_url, tmp_path):
    out = tmp_path / "usage.html"
    assert report(store_url, out, "--format", "html") == 0
    html = out.read_text(encoding="utf-8")
    # Self-contained: nothing to fetch, so it opens with no network.
    for outside in ("<script", "<link", 'src="http', "@import", "url(http"):
        assert outside not in html
    dom = chromium("--dump-dom", out.as_uri(), user_dir=tmp_path / "profile-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    for chart in ("sessions-per-day", "liftoff-rate", "pain-reports", "out-of-order"):
        section = dom.stdout.split(f'id="{chart}"', 1)[1].split("</section>", 1)[0]
        assert "<svg" in section and "<path" in section, chart
    assert dom.stdout.count("<svg") == 4
    assert "<td>lp2</td>" in dom.stdout
    shot = tmp_path / "report.png"
    result = chromium(f"--screenshot={shot}", "--window-size=1100,1800", "--hide-scrollbars", out.as_uri(),
                      user_dir=tmp_path / "profile-shot")
    assert result.returncode == 0, result.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    assert image.size == (1100, 1800)
    # Drawn, not blank: the chart colours are there, not only white and text grey.
    colours = image.getcolors(maxcolors=1_000_000) or []
    assert len(colours) > 50
    assert any(r < 100 and g > 100 and b > 150 for _count, (r, g, b) in colours)  # matplotlib's first colour, blue


def test_a_real_kiosks_session_is_recorded_and_reported(broker, kiosk, store, store_url, tmp_path):
    recorder = Recorder(store, broker.url, "testgym", client_id="recorder-real-kiosk")
    recorder.start()
    try:
        assert recorder.wait_connected(10)
        kiosk.scan(kiosk.keyring.code("m_sam"))  # tap in
        eventually(lambda: recorder.total.added.events >= 1, what="the session start recorded")
        kiosk.scan(kiosk.keyring.code("m_sam"))  # tap out
        eventually(lambda: recorder.total.added.events >= 2, what="the session end recorded")
    finally:
        recorder.stop()
    out = tmp_path / "today.csv"
    today = date.today().isoformat()
    assert report(store_url, out, "--format", "csv", "--from", today, "--members") == 0
    _, rows = read_csv(out)
    assert [r[:5] for r in rows] == [[today, "testgym", "lp1", "1", "1"]]
    _, sessions = read_csv(tmp_path / "today-members.csv")
    assert [s[3] for s in sessions] == ["m_sam"]


@pytest.mark.parametrize("out_name,report_format,members_name", [
    ("daily.txt", "csv", "daily-members.txt"), ("daily", "csv", "daily-members"),
    ("week.csv", "csv", "week-members.csv"), ("week.html", "html", "week-members.csv")])
def test_the_members_file_is_named_as_the_spec_says(recorded, store_url, tmp_path, out_name, report_format,
                                                    members_name):
    assert report(store_url, tmp_path / out_name, "--format", report_format, "--members") == 0
    header, rows = read_csv(tmp_path / members_name)
    assert tuple(header) == MEMBER_COLUMNS and len(rows) == 5
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(out_name.split(".")[0])) == sorted(
        {out_name, members_name})


def test_a_session_id_that_starts_like_a_formula_never_reaches_the_members_csv_as_one(broker, store, store_url,
                                                                                      tmp_path):
    recorder = Recorder(store, broker.url, SITE, client_id="recorder-formula", log_every_s=3600)
    recorder.start()
    assert recorder.wait_connected(10)
    lp1 = FakeKiosk(broker, "lp1")
    try:
        workout(lp1, "m1", "-2-3", at(YESTERDAY, 8), [3])  # an id, as the contract allows, yet a formula
        lp1.flush()
        eventually(lambda: recorder.total.added.events >= 6, what="the session stored")
    finally:
        lp1.close()
        recorder.stop()
    assert report(store_url, tmp_path / "usage.csv", "--format", "csv", "--members") == 0
    _, rows = read_csv(tmp_path / "usage-members.csv")
    assert [r[4] for r in rows] == ["'-2-3"]
    assert [r[5:8] for r in rows] == [["1", "3", "222"]]  # numbers stay numbers
