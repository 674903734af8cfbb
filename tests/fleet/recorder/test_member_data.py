"""A member's data is theirs: `members export` and `members erase --store` against a real broker, a real recorder
and a real store (both engines)."""

import csv
import re
import stat
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kiosk.contract.events import Alert, PainReport
from kiosk.contract.profile import MachineSettings, MemberProfile, Visit
from kiosk.contract.topics import member_profile
from kiosk.fleet.cli import main
from kiosk.fleet.member_data import MemberExport, retained_profile
from kiosk.fleet.recorder.member_record import PSEUDONYM_PREFIX
from kiosk.fleet.recorder.service import Recorder
from kiosk.fleet.recorder.store_url import open_store
from tests.fleet.recorder.kiosks import SITE, FakeKiosk, eventually, workout

YESTERDAY = date.today() - timedelta(days=1)
TABLES = ("events", "statuses", "telemetry", "profiles", "kiosk_info", "lost_events", "profile_erasures")


def at(hour: int, minute: int = 0) -> float:
    return datetime(YESTERDAY.year, YESTERDAY.month, YESTERDAY.day, hour, minute).timestamp()


def fleet(*args: str) -> int:
    try:
        return main(list(args))
    except SystemExit as stop:
        return int(stop.code or 0)


def profile_of(member: str) -> MemberProfile:
    settings = MachineSettings(backrest_notch=4, seat_notch=3, foot_height="mid", foot_width="shoulder",
                               toe_angle_deg=10, target_depth_mm=230, max_depth_mm=280, top_mm=30, load_kg=80,
                               history=[Visit(date=YESTERDAY.isoformat(), sets=2, reps=18, load_kg=80, best_reps=10,
                                              best_mean_velocity_mps=0.6)])
    return MemberProfile(member=member, name="Sam", rev=3, updated=at(6), machines={"hammer-45": settings})


@pytest.fixture
def gym(broker, store, store_url):
    """Two machines' day, published through a real broker to a running recorder: m1 twice on lp1 and once on
    lp2 (with a pain report, and an alert outside any session naming them), m12 and m2 beside them."""
    recorder = Recorder(store, broker.url, SITE, client_id="recorder-member-data")
    recorder.start()
    assert recorder.wait_connected(10)
    lp1, lp2 = FakeKiosk(broker, "lp1"), FakeKiosk(broker, "lp2")
    try:
        lp1.publish(member_profile(SITE, "m1"), profile_of("m1").model_dump(mode="json"), retain=True)
        lp1.publish(member_profile(SITE, "m12"), profile_of("m12").model_dump(mode="json"), retain=True)
        workout(lp1, "m1", "a1", at(8), [10, 8], {(1, 4): "liftoff_lumbar"}, pain="sharp", loads=[80, 82.5])
        workout(lp1, "m12", "a2", at(9), [12], {(1, 3): "liftoff_pelvis"})
        workout(lp1, "m1", "a3", at(10), [6], loads=[85])
        lp1.event(Alert(ts=at(10, 30), reason="stop_unacknowledged", waited_s=30, repeat=1, member="m1"))
        workout(lp2, "m2", "b1", at(8), [5, 5])
        workout(lp2, "m1", "b2", at(11), [8], loads=[60])
        for k in (lp1, lp2):
            k.flush()
        sent = len(lp1.sent) + len(lp2.sent)
        eventually(lambda: recorder.total.added.events == sent and recorder.total.added.profiles == 2, 20,
                   "every event and both profiles stored")
        yield {"lp1": lp1.sent, "lp2": lp2.sent}, recorder
    finally:
        lp1.close()
        lp2.close()
        recorder.stop()


def their_events(sent: dict[str, list[dict[str, Any]]], member: str) -> list[tuple[str, dict[str, Any]]]:
    """What the kiosks sent of `member`: every event of the sessions they started, and any naming them."""
    sessions = {(m, e["session"]) for m, events in sent.items() for e in events
                if e["type"] == "session_start" and e["member"] == member}
    return [(m, e) for m, events in sent.items() for e in events
            if (m, e.get("session")) in sessions or e.get("member") == member]


def test_export_holds_the_retained_profile_and_every_event_of_the_members_sessions(gym, broker, store_url,
                                                                                   tmp_path, capsys):
    sent, _recorder = gym
    out = tmp_path / "m1.json"
    assert fleet("members", "export", "--member", "m1", "--site", SITE, "--broker", broker.url,
                 "--store", store_url, "--out", str(out)) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    export = MemberExport.model_validate_json(out.read_text(encoding="utf-8"))
    assert export.member == "m1" and export.site == SITE
    assert export.profile == profile_of("m1").model_dump(mode="json")
    assert [r["rev"] for r in export.profile_revisions] == [3]
    assert [(s.machine, s.session) for s in export.sessions] == [("lp1", "a1"), ("lp1", "a3"), ("lp2", "b2")]
    exported = [(s.machine, e) for s in export.sessions for e in s.events] + [
        (o.machine, o.event) for o in export.other_events]
    expected = their_events(sent, "m1")
    assert sorted(exported, key=lambda me: (me[0], me[1]["eid"])) == sorted(expected,
                                                                             key=lambda me: (me[0], me[1]["eid"]))
    # Three sessions (1 start + 18 reps, a cue, 2 sets, a pain report, an end; 1 + 6 + 1 + 1; 1 + 8 + 1 + 1), an alert.
    assert len(exported) == 24 + 9 + 11 + 1
    assert [o.event["type"] for o in export.other_events] == ["alert"]
    assert {e["type"] for _m, e in exported} >= {"rep", "set_end", "pain_report", "session_end", "cue"}
    assert "m12" not in {e.get("member") for _m, e in exported}  # the member beside, with an id that starts alike
    assert capsys.readouterr().out == (f"wrote {out}: m1's profile (retained), 1 profile revision(s), 3 session(s), "
                                       f"{len(expected)} event(s)\n")


def test_export_of_a_member_the_site_does_not_know_writes_nothing(gym, broker, store_url, tmp_path, capsys):
    out = tmp_path / "nobody.json"
    assert fleet("members", "export", "--member", "m9", "--site", SITE, "--broker", broker.url,
                 "--store", store_url, "--out", str(out)) == 1
    assert "holds nothing about member m9" in capsys.readouterr().err
    assert not out.exists()


def daily_and_members(store_url: str, tmp_path: Path, name: str) -> tuple[list[list[str]], list[list[str]]]:
    out = tmp_path / f"{name}.csv"
    assert fleet("report", "--store", store_url, "--format", "csv", "--out", str(out), "--members") == 0
    with out.open(newline="") as daily, (tmp_path / f"{name}-members.csv").open(newline="") as members:
        return list(csv.reader(daily)), list(csv.reader(members))


def mentions(store_url: str, member: str) -> list[str]:
    """Every cell of every table that holds `member` as an id of its own."""
    word = re.compile(rf"(?<![a-z0-9_-]){re.escape(member)}(?![a-z0-9_-])")
    store = open_store(store_url)
    try:
        return [f"{table}: {cell}" for table in TABLES for row in store.read(f"SELECT * FROM {table}")
                for cell in row if isinstance(cell, str) and word.search(cell)]
    finally:
        store.close()


def test_erase_with_the_store_leaves_none_of_their_ids_and_every_machines_counts_unchanged(gym, broker, store_url,
                                                                                           tmp_path, capsys):
    sent, recorder = gym
    daily_before, members_before = daily_and_members(store_url, tmp_path, "before")
    assert mentions(store_url, "m1")
    capsys.readouterr()
    assert fleet("members", "erase", "--member", "m1", "--site", SITE, "--broker", broker.url,
                 "--store", store_url) == 0
    said = capsys.readouterr().out.splitlines()
    assert said[0] == f"erased m1's profile ({member_profile(SITE, 'm1')})"
    pseudonym = re.search(rf"{PSEUDONYM_PREFIX}[0-9a-f]{{12}}", said[1]).group(0)
    assert said[1] == (f"erased m1 from the store {store_url}: 1 profile revision(s) deleted; 3 session(s), "
                       f"{len(their_events(sent, 'm1'))} event(s) and 1 erasure record(s) kept for the machines' "
                       f"counts under the pseudonym {pseudonym}")
    assert recorder.total.added.profile_erasures == 1  # the recorder's tombstone came, and went under the pseudonym

    assert mentions(store_url, "m1") == []
    daily_after, members_after = daily_and_members(store_url, tmp_path, "after")
    assert daily_after == daily_before
    # The same sessions and figures; only the id changed, and the settings went with the profile.
    renamed = [[pseudonym if c == "m1" else c for c in row] for row in members_before]
    assert [r[:9] + r[10:] for r in members_after] == [r[:9] + r[10:] for r in renamed]
    assert [r[9] for r in members_after if r[3] == pseudonym] == ["", "", ""]
    assert [r[3] for r in members_after[1:] if r[3] != pseudonym] == ["m2", "m12"]
    assert mentions(store_url, "m12")  # the member beside keeps their record
    assert retained_profile(broker.url, SITE, "m1", 5) is None
    assert retained_profile(broker.url, SITE, "m12", 5) is not None

    # Again: nothing left anywhere, said in one line, exit 1.
    assert fleet("members", "erase", "--member", "m1", "--site", SITE, "--broker", broker.url,
                 "--store", store_url) == 1
    assert "holds nothing about member m1" in capsys.readouterr().err
    out = tmp_path / "after.json"
    assert fleet("members", "export", "--member", "m1", "--site", SITE, "--broker", broker.url,
                 "--store", store_url, "--out", str(out)) == 1


def test_copies_that_come_after_the_erasure_go_under_a_pseudonym_and_a_new_visit_keeps_the_id(
        gym, broker, store_url, capsys):
    """lp3 was offline during the erasure: its journal brings a whole session of m1 from yesterday, and a late
    copy of a pain report of session a1 (stored under the erasure's pseudonym) comes again without its eid.
    Both are stored under pseudonyms. m1 training again today, after the erasure, is a new visit: their id."""
    sent, recorder = gym
    assert fleet("members", "erase", "--member", "m1", "--site", SITE, "--broker", broker.url,
                 "--store", store_url) == 0
    pseudonym = re.search(rf"{PSEUDONYM_PREFIX}[0-9a-f]{{12}}", capsys.readouterr().out).group(0)
    before = recorder.total.added.events
    lp3, lp1 = FakeKiosk(broker, "lp3"), FakeKiosk(broker, "lp1")
    try:
        workout(lp3, "m1", "c1", at(12), [4], pain="dull")
        lp1.event(PainReport(ts=at(9, 59), session="a1", member="m1", kind="dull"), eid=False)
        late = len(lp3.sent) + 1
        for k in (lp3, lp1):
            k.flush()
        eventually(lambda: recorder.total.added.events == before + late, 20, "the late copies stored")
        assert mentions(store_url, "m1") == []
        store = open_store(store_url)
        try:
            c1 = {m for (m,) in store.read("SELECT DISTINCT member FROM events WHERE session = 'c1' "
                                           "AND member IS NOT NULL")}
            assert len(c1) == 1 and c1.pop().startswith(PSEUDONYM_PREFIX)
            (a1_late,) = store.read("SELECT member FROM events WHERE session = 'a1' AND type = 'pain_report' "
                                    "AND eid IS NULL")
            assert a1_late[0] == pseudonym  # the session's own pseudonym: its figures stay one member's
        finally:
            store.close()
        workout(lp3, "m1", "c2", time.time() + 1, [3])
        lp3.flush()
        eventually(lambda: recorder.total.added.events == before + late + 6, 20, "the new visit stored")
        assert {cell.split(": ")[0] for cell in mentions(store_url, "m1")} == {"events"}
        assert len(mentions(store_url, "m1")) == 4  # the new visit's start and end name them (column, payload)
    finally:
        lp3.close()
        lp1.close()


def test_erase_without_the_store_only_deletes_the_retained_profile(gym, broker, store_url, capsys):
    assert fleet("members", "erase", "--member", "m12", "--site", SITE, "--broker", broker.url) == 0
    assert capsys.readouterr().out == f"erased m12's profile ({member_profile(SITE, 'm12')})\n"
    assert retained_profile(broker.url, SITE, "m12", 5) is None
    assert mentions(store_url, "m12")  # the record stays: the operator did not ask for it
