"""The training record in the recorder's store: stored from real kiosks' events, backfilled into an old store
in place, and reported as each member session's progress (both engines, a real broker)."""

import csv
import json
from datetime import date, datetime, timedelta
from pathlib import Path

from kiosk.contract.events import RepDone, SessionEnd, SessionStart, SetEnd
from kiosk.fleet.cli import main
from kiosk.fleet.recorder.figures import MEMBER_COLUMNS
from kiosk.fleet.recorder.intake import EventRow, to_row
from kiosk.fleet.recorder.schema import LATEST, TRAINING_COLUMNS
from kiosk.fleet.recorder.service import Recorder
from kiosk.fleet.recorder.store import Store
from kiosk.fleet.recorder.store_url import open_store
from tests.fleet.recorder.kiosks import SITE, FakeKiosk, eventually, rep_velocity, workout

YESTERDAY = date.today() - timedelta(days=1)
# The events table as the recorder wrote it before the training record (schema version 4).
VERSION_4_COLUMNS = ("site", "machine", "type", "ts", "session", "eid", "replayed", "received_at", "payload",
                     "member", "cue", "rep", "depth_mm")
PROGRESS = list(MEMBER_COLUMNS[-4:])


def at(hour: int, minute: int = 0) -> float:
    return datetime(YESTERDAY.year, YESTERDAY.month, YESTERDAY.day, hour, minute).timestamp()


def members_csv(store_url: str, tmp_path: Path, *extra: str) -> list[dict[str, str]]:
    out = tmp_path / "usage.csv"
    assert main(["report", "--store", store_url, "--format", "csv", "--out", str(out), "--members", *extra]) == 0
    with (tmp_path / "usage-members.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def insert_as_version_4(store: Store, rows: list[EventRow]) -> None:
    with store._transaction() as cursor:
        cursor.executemany(store._sql(
            f"INSERT INTO events ({', '.join(VERSION_4_COLUMNS)}) VALUES ({', '.join('?' * len(VERSION_4_COLUMNS))})"),
            [tuple(getattr(r, c) for c in VERSION_4_COLUMNS) for r in rows])


def test_the_recorder_keeps_each_reps_push_each_sets_load_and_the_sessions_volume(broker, store, store_url,
                                                                                   tmp_path):
    recorder = Recorder(store, broker.url, SITE, client_id="recorder-training")
    recorder.start()
    assert recorder.wait_connected(10)
    lp1 = FakeKiosk(broker, "lp1")
    try:
        workout(lp1, "m1", "t1", at(8), [10, 8, 8], loads=[80.0, 82.5, 82.5])
        workout(lp1, "m2", "t2", at(9), [12])  # no load entered: velocity unknown too
        lp1.flush()
        eventually(lambda: recorder.total.added.events == len(lp1.sent), what="every event stored")
    finally:
        lp1.close()
        recorder.stop()
    reps = store.read("SELECT rep, mean_velocity_mps, peak_velocity_mps, rom_mm, power_w FROM events "
                      "WHERE session = 't1' AND type = 'rep' ORDER BY ts")
    assert len(reps) == 26
    assert reps[0] == (1, 0.6, 0.84, 171.0, round(80 * 9.81 * 0.707 * 0.6, 1))
    assert [r[1] for r in reps[:10]] == [rep_velocity(n) for n in range(1, 11)]
    sets = store.read("SELECT load_kg, reps_counted, best_mean_velocity_mps, velocity_loss_pct, tut_s FROM events "
                      "WHERE session = 't1' AND type = 'set_end' ORDER BY ts")
    assert sets == [(80.0, 10, 0.6, 30.0, 30.0), (82.5, 8, 0.6, 23.3, 24.0), (82.5, 8, 0.6, 23.3, 24.0)]
    assert store.read("SELECT volume_kg, reps_counted FROM events WHERE type = 'session_end' ORDER BY ts") == [
        (80 * 10 + 82.5 * 16, 26), (None, 12)]
    rows = {r["session"]: r for r in members_csv(store_url, tmp_path)}
    # The heaviest set is the best (82.5 kg, 8 reps at 0.60 m/s); volume: 800 + 1320 kg.
    assert [rows["t1"][c] for c in PROGRESS] == ["82.5", "8", "0.60", "2120.0"]
    assert [rows["t2"][c] for c in PROGRESS] == ["", "12", "", ""]


def test_an_old_store_upgrades_in_place_and_its_events_get_their_figures_from_their_payloads(store_url, tmp_path):
    old = open_store(store_url)
    assert old.migrate(up_to=4) == 4
    topic = f"gym/v1/{SITE}/lp1/kiosk/event"
    events = [
        SessionStart(ts=at(7), session="o1", member="m1", role="member"),
        RepDone(ts=at(7, 1), session="o1", rep=1, depth_mm=240, eccentric_s=2, concentric_s=1,
                mean_velocity_mps=0.55, peak_velocity_mps=0.8, rom_mm=190, power_w=300.5),
        SetEnd(ts=at(7, 2), session="o1", set_number=1, reps=1, max_depth_mm=240, liftoffs=0, load_kg=60,
               best_mean_velocity_mps=0.55, velocity_loss_pct=0, tut_s=3.1),
        SessionEnd(ts=at(7, 3), session="o1", reason="logout", sets=1, reps=1, member="m1", volume_kg=60),
    ]
    rows = [to_row(topic, json.dumps({**e.model_dump(mode="json", by_alias=True), "eid": n}).encode(), at(8))
            for n, e in enumerate(events, start=1)]
    # A kiosk's rep that fits no contract (a newer kiosk's?), kept by its envelope: skipped by the backfill.
    odd = json.dumps({"type": "rep", "ts": at(7, 4), "session": "o1", "rep": "first", "mean_velocity_mps": "fast",
                      "x": "\u0000"})
    rows.append(EventRow(SITE, "lp1", "rep", at(7, 4), "o1", 9, False, at(8), odd))
    insert_as_version_4(old, [r for r in rows if isinstance(r, EventRow)])
    old.close()

    again = open_store(store_url)
    try:
        assert again.migrate() == LATEST
        assert again.count("events") == 5  # every row kept
        figures = {kind: values for kind, *values in again.read(
            f"SELECT type, {', '.join(TRAINING_COLUMNS)} FROM events WHERE eid < 9 AND type <> 'session_start'")}
        named = {kind: {c: v for c, v in zip(TRAINING_COLUMNS, values, strict=True) if v is not None}
                 for kind, values in figures.items()}
        assert named == {
            "rep": {"mean_velocity_mps": 0.55, "peak_velocity_mps": 0.8, "rom_mm": 190.0, "power_w": 300.5},
            "set_end": {"load_kg": 60.0, "best_mean_velocity_mps": 0.55, "velocity_loss_pct": 0.0, "tut_s": 3.1,
                        "reps_counted": 1},
            "session_end": {"volume_kg": 60.0, "reps_counted": 1},
        }
        assert again.read(f"SELECT {', '.join(TRAINING_COLUMNS)} FROM events WHERE eid = 9") == [
            (None,) * len(TRAINING_COLUMNS)]
    finally:
        again.close()
    (session,) = members_csv(store_url, tmp_path)
    assert [session[c] for c in PROGRESS] == ["60.0", "1", "0.55", "60.0"]


def test_the_html_report_for_one_member_charts_their_progress_session_by_session(broker, store, store_url,
                                                                                 tmp_path):
    recorder = Recorder(store, broker.url, SITE, client_id="recorder-progress")
    recorder.start()
    assert recorder.wait_connected(10)
    lp1 = FakeKiosk(broker, "lp1")
    try:
        for hour, load in ((7, 80.0), (9, 82.5), (11, 85.0)):
            workout(lp1, "m1", f"p{hour}", at(hour), [10, 10], loads=[load, load])
        workout(lp1, "m2", "q1", at(8), [12], loads=[120.0])
        lp1.flush()
        eventually(lambda: recorder.total.added.events == len(lp1.sent), what="every event stored")
    finally:
        lp1.close()
        recorder.stop()
    out = tmp_path / "m1.html"
    assert main(["report", "--store", store_url, "--format", "html", "--out", str(out), "--member", "m1"]) == 0
    html = out.read_text(encoding="utf-8")
    for outside in ("<script", "<link", 'src="http', "@import", "url(http"):
        assert outside not in html
    section = html.split('id="member-progress"', 1)[1].split("</section>", 1)[0]
    assert "<h2>Progress of member m1</h2>" in section
    assert "<svg" in section and "<path" in section
    rows = [row.split("</td><td>") for row in section.split("<tbody>")[1].split("</tbody>")[0][8:-10].split(
        "</td></tr><tr><td>")]
    # One row per session of m1 only (m2's heavier set is not theirs), the load rising 2.5 kg each time.
    assert [r[2] for r in rows] == ["p7", "p9", "p11"]
    assert [r[5:] for r in rows] == [["80.0", "10", "0.60", "1600.0"], ["82.5", "10", "0.60", "1650.0"],
                                     ["85.0", "10", "0.60", "1700.0"]]
    assert not (tmp_path / "m1-members.csv").exists()  # no --members: the chart only


def test_member_with_a_csv_report_needs_the_members_csv(store_url, store, tmp_path, capsys):
    assert main(["report", "--store", store_url, "--format", "csv", "--out", str(tmp_path / "x.csv"),
                 "--member", "m1"]) == 2
    assert "--member needs --members" in capsys.readouterr().err
    rows = members_csv(store_url, tmp_path, "--member", "m1")
    assert rows == []
