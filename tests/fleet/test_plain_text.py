"""Text from kiosks never reaches a terminal or a spreadsheet raw: the contract checks it, `status` and `watch`
escape what they print, the members CSV neutralises formulas. Real broker, the operators' real commands."""

import json
import threading

import pytest
from pydantic import ValidationError

from kiosk.contract.events import KIOSK_EVENT, ScanRejected, SensorFault, SetEnd
from kiosk.contract.kiosk import KioskInfo, KioskStatus
from kiosk.contract.text import escape_controls, spreadsheet_cell
from kiosk.dev.broker import Recording, publish
from kiosk.fleet.watch import follow
from tests.fleet.test_fleet_cli import fleet
from tests.support.helpers import eventually

SITE = "gym/v1/testgym"
TITLE = "\x1b]0;owned\x07"  # retitles a terminal
CLEAR = "\x1b[2J"  # clears it


def test_a_kiosks_version_and_model_must_be_plain_text():
    for field in ("version", "machine_model", "config_version"):
        fields = dict(version="1.0", machine_model="hammer-45", config_version="c1", contract_version="gym/v1",
                      site="testgym", machine="lp1") | {field: f"1.0{TITLE}"}
        with pytest.raises(ValidationError, match="control or formatting character U\\+001B"):
            KioskInfo.model_validate(fields)
    with pytest.raises(ValidationError):
        KioskStatus(state="ready", ts=1.0, version="1.0\nforged line", boot=1)


def test_details_and_suggestions_are_escaped_not_refused_so_the_kiosk_always_reports_them():
    fault = SensorFault(ts=1.0, fault="invalid_payloads", detail=f"last: {CLEAR}\nboom")
    assert fault.detail == "last: \\u001b[2J\\u000aboom"
    scan = KIOSK_EVENT.validate_python({"type": "scan_rejected", "ts": 1, "reason": "malformed",
                                        "detail": "\u202eevil" + "x" * 500})
    assert isinstance(scan, ScanRejected) and scan.detail.startswith("\\u202eevil") and len(scan.detail) == 200
    assert SetEnd(ts=1, set=1, reps=1, max_depth_mm=100, liftoffs=0, suggestions=[TITLE]).suggestions == [
        "\\u001b]0;owned\\u0007"]


@pytest.mark.parametrize("session", ["a b", "s1\n", "=HYPERLINK(x)", "\x1b[2J", "x" * 65])
def test_an_events_session_is_an_id(session):
    with pytest.raises(ValidationError):
        KIOSK_EVENT.validate_python({"type": "rep", "ts": 1, "session": session, "rep": 1, "depth_mm": 1,
                                     "eccentric_s": 1, "concentric_s": 1})


@pytest.mark.parametrize("cell,shown", [("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
                                        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"), ("@SUM(A1)", "'@SUM(A1)"),
                                        ("-2-3", "'-2-3"), ("\tx", "'\tx"), ("-12.5", "-12.5"), ("+3", "+3"),
                                        ("backrest 5", "backrest 5"), ("", "")])
def test_spreadsheet_cells_that_start_like_a_formula_are_neutralised_and_numbers_stay(cell, shown):
    assert spreadsheet_cell(cell) == shown


def test_status_prints_hostile_text_escaped(broker, capsys):
    publish(broker, f"{SITE}/lp9/kiosk/status", json.dumps({"state": "ready", "mode": "idle", "ts": 1,
                                                             "version": f"1{TITLE}", "boot": 1}), retain=True)
    publish(broker, f"{SITE}/lp9/kiosk/info", json.dumps({"version": CLEAR, "machine_model": "m\nlp1 ready",
                                                           "config_version": "c", "contract_version": "gym/v1",
                                                           "site": "testgym", "machine": "lp9"}), retain=True)
    assert fleet("status", "--site", "testgym", "--broker", broker.url, "--wait", "0.5") == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert not any(line.startswith("lp1") for line in out.splitlines()), "a forged row"
    assert "bad payload" in out


def test_watch_prints_hostile_text_escaped_one_line_per_event(broker):
    lines: Recording[str] = Recording("watch lines")
    stop = threading.Event()
    watcher = threading.Thread(target=follow, args=(broker.url, "testgym", None, stop, lines.add), daemon=True)
    watcher.start()
    try:
        eventually(lambda: (publish(broker, f"{SITE}/lp1/kiosk/event",
                                    json.dumps({"type": "scan_rejected", "ts": 1, "reason": "malformed",
                                                "detail": "probe"})), lines.items)[1], what="watch listening")
        publish(broker, f"{SITE}/lp1/kiosk/event", json.dumps({"type": "scan_rejected", "ts": 1,
                                                               "reason": "malformed",
                                                               "detail": f"{TITLE}\n12:00:00 lp2  pain reported"}))
        publish(broker, f"{SITE}/lp1/kiosk/event", json.dumps({"type": "sensor_fault", "ts": 1, "fault": "stale",
                                                               "detail": CLEAR, "session": "\x1b[31m"}))
        publish(broker, f"{SITE}/lp1/kiosk/event", json.dumps({"type": "sensor_fault", "ts": 2, "fault": "stale",
                                                               "detail": CLEAR}))
        lines.wait_for(lambda line: "\\u001b[2J" in line)
    finally:
        stop.set()
        watcher.join(5)
    assert all("\x1b" not in line and "\n" not in line and "\x07" not in line for line in lines.items)
    assert any("\\u001b]0;owned\\u0007\\u000a12:00:00 lp2  pain reported" in line for line in lines.items)
    assert any("bad payload" in line for line in lines.items), "a session that is not an id is refused"
    assert escape_controls("plain") == "plain"
