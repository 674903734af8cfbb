"""Who may get in: plain membership ids, old codes and revoked codes, on a running kiosk over a real broker."""

import json
import time

import pytest

from kiosk.codes.member_codes import TrustedKeys, verify_code
from kiosk.contract.config import STAFF_CODE_MAX_AGE_HOURS
from kiosk.contract.member_code import MemberClaims
from kiosk.dev.broker import publish
from kiosk.fleet.members import DEFAULT_DAYS, DEFAULT_STAFF_HOURS
from kiosk.words.wording import CODE_REVOKED, CODE_TOO_OLD
from tests.fleet.test_fleet_cli import fleet
from tests.support.helpers import eventually

R = "gym/v1/testgym/lp1"
REVOCATIONS = "gym/v1/testgym/config/revocations"
DAY_S = 86400


def _scan(kiosk, collect, text: str) -> dict:
    """Scan `text`; the first session_start or scan_rejected it causes."""
    events = collect(f"{R}/kiosk/event")
    kiosk.scan(text)
    return json.loads(events.wait_for(lambda m: b"session_start" in m.payload or b"scan_rejected" in m.payload).payload)


def _push(broker, collect, body: dict, status: str) -> dict:
    """Push a kiosk config and return the config state that answers it (a taken push names its version)."""
    state = collect(f"{R}/kiosk/config/state")
    version = f"t{time.monotonic_ns()}"
    publish(broker, f"{R}/kiosk/config/set", json.dumps({"version": version, **body}), retain=True)

    def answer(m) -> bool:
        got = json.loads(m.payload)
        return got["status"] == status and (status == "error" or got["version"] == version)
    return json.loads(state.wait_for(answer).payload)


def _defences(broker, collect) -> dict:
    replies = collect(f"{R}/kiosk/res/diagnostics")
    transaction = f"d{time.monotonic_ns()}"
    publish(broker, f"{R}/kiosk/cmd/diagnostics", json.dumps({"transaction": transaction}))
    return json.loads(replies.wait_for(lambda m: transaction.encode() in m.payload).payload)["data"]["telemetry"][
        "defences"]


# -- plain membership ids ---------------------------------------------------------------------

@pytest.mark.parametrize("pattern", [".*", "", ".+", "[a-z0-9_-]+", r"\w{1,32}", "(?s).*", "[a-z][a-z0-9_-]{5,31}",
                                     "[a-z0-9]{6,12}"])
def test_a_pattern_that_lets_anyone_in_is_refused_and_typed_member_ids_stay_out(broker, collect, kiosk, pattern):
    refused = _push(broker, collect, {"member_id_pattern": pattern}, "error")
    assert "member_id_pattern" in refused["error"] and refused["config"]["member_id_pattern"] is None
    rejected = _scan(kiosk, collect, "m_sam")  # member ids are public: every kiosk event names them
    assert (rejected["type"], rejected["reason"]) == ("scan_rejected", "not_allowed")


def test_the_gyms_own_membership_cards_still_get_in(broker, collect, kiosk):
    _push(broker, collect, {"member_id_pattern": "gym[0-9]{6}"}, "ok")
    assert _scan(kiosk, collect, "gym123456")["type"] == "session_start", kiosk.screen.seen
    assert _scan(kiosk, collect, "m_sam")["reason"] == "not_allowed"


def test_a_backtracking_pattern_cannot_freeze_the_core(broker, collect, kiosk):
    # With Python's re, 26 characters of this took 6 s and doubled per character; RE2 is linear.
    _push(broker, collect, {"member_id_pattern": "(a|a)*b"}, "ok")
    started = time.monotonic()
    assert _scan(kiosk, collect, "a" * 32)["reason"] == "not_allowed"
    assert _scan(kiosk, collect, "a" * 31 + "b")["type"] == "session_start"
    assert time.monotonic() - started < 2.0


# -- how old a code may be ------------------------------------------------------------------------

def test_an_old_member_code_without_expiry_is_refused_and_a_fresh_one_works(broker, collect, kiosk):
    old = kiosk.keyring.code("m_sam", now=time.time() - 401 * DAY_S)
    rejected = _scan(kiosk, collect, old)
    assert rejected["reason"] == "expired" and "older than" in rejected["detail"]
    assert kiosk.screen.wait_for(lambda s: getattr(s, "message", None) == CODE_TOO_OLD)
    assert _scan(kiosk, collect, kiosk.keyring.code("m_sam"))["type"] == "session_start"


def test_a_screenshot_of_yesterdays_staff_code_no_longer_opens_maintenance(broker, collect, kiosk):
    stale = kiosk.keyring.code("s_ana", role="staff", now=time.time() - (STAFF_CODE_MAX_AGE_HOURS + 1) * 3600)
    assert _scan(kiosk, collect, stale)["reason"] == "expired"
    assert kiosk.mode == "idle"
    status = collect(f"{R}/kiosk/status")
    kiosk.scan(kiosk.keyring.code("s_ana", role="staff"))
    status.wait_for(lambda m: json.loads(m.payload)["mode"] == "maintenance")


def test_the_max_age_follows_the_config(broker, collect, kiosk):
    _push(broker, collect, {"code_max_age": {"member_days": 30}}, "ok")
    assert _scan(kiosk, collect, kiosk.keyring.code("m_sam", now=time.time() - 31 * DAY_S))["reason"] == "expired"
    assert _scan(kiosk, collect, kiosk.keyring.code("m_sam", now=time.time() - 29 * DAY_S))["type"] == "session_start"


def test_members_issue_sets_an_expiry_by_default(tmp_path, capsys):
    assert fleet("keys", "new", "--kid", "desk", "--dir", str(tmp_path / "keys")) == 0
    capsys.readouterr()
    key, keys = str(tmp_path / "keys" / "desk.key"), TrustedKeys.load(tmp_path / "keys")
    now = time.time()
    lifetimes = {}
    for role, extra in (("member", []), ("staff", []), ("staff", ["--hours", "2"]), ("member", ["--days", "7"])):
        assert fleet("members", "issue", "--key", key, "--member", "anna", "--name", "Anna", "--role", role,
                     "--out", str(tmp_path), *extra) == 0
        claims: MemberClaims = verify_code(capsys.readouterr().out.strip(), keys, now).claims
        lifetimes[(role, *extra)] = claims.exp - claims.iat
    assert lifetimes == {("member",): DEFAULT_DAYS * DAY_S, ("staff",): DEFAULT_STAFF_HOURS * 3600,
                         ("staff", "--hours", "2"): 7200, ("member", "--days", "7"): 7 * DAY_S}


# -- revocation --------------------------------------------------------------------------------------

def test_a_revoked_code_is_refused_at_once_and_the_replacement_works(broker, collect, kiosk):
    lost = kiosk.keyring.code("m_sam")
    assert _scan(kiosk, collect, lost)["type"] == "session_start"
    kiosk.end_session()
    cutoff = float(int(time.time()) + 1)
    publish(broker, REVOCATIONS, json.dumps({"updated": time.time(), "revoked": [
        {"member": "m_sam", "issued_before": cutoff, "note": "card lost"}]}), retain=True)
    eventually(lambda: _defences(broker, collect)["revocation_entries"] == 1, timeout=5,
               what="the revocation list applied")
    rejected = _scan(kiosk, collect, lost)
    assert rejected["reason"] == "not_allowed" and "revoked" in rejected["detail"]
    # Dates an operator reads, not epoch numbers.
    assert f"codes issued before {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(cutoff))} are withdrawn" in (
        rejected["detail"]), rejected["detail"]
    assert f"{cutoff:.0f}" not in rejected["detail"]
    assert kiosk.screen.wait_for(lambda s: getattr(s, "message", None) == CODE_REVOKED)
    replacement = kiosk.keyring.code("m_sam", now=cutoff)
    assert _scan(kiosk, collect, replacement)["type"] == "session_start"
    assert _scan(kiosk, collect, kiosk.keyring.code("m_other"))["type"] == "session_start"
    assert _defences(broker, collect)["codes_revoked"] == 1


def test_a_revoked_members_plain_id_is_refused_while_others_still_type_theirs(broker, collect, kiosk):
    _push(broker, collect, {"member_id_pattern": "gym[0-9]{3}"}, "ok")
    assert _scan(kiosk, collect, "gym100")["type"] == "session_start"
    kiosk.end_session()
    publish(broker, REVOCATIONS, json.dumps({"updated": time.time(), "revoked": [
        {"member": "gym100", "issued_before": time.time(), "note": "card lost"}]}), retain=True)
    eventually(lambda: _defences(broker, collect)["revocation_entries"] == 1, timeout=5,
               what="the revocation list applied")
    # The plain id carries no issue time: it cannot show it came after the withdrawal.
    rejected = _scan(kiosk, collect, "gym100")
    assert rejected["reason"] == "not_allowed" and rejected["detail"].startswith("revoked:")
    assert _scan(kiosk, collect, "gym101")["type"] == "session_start"
    kiosk.end_session()
    assert _scan(kiosk, collect, kiosk.keyring.code("gym100", now=time.time() + 1))["type"] == "session_start"


@pytest.mark.parametrize("pattern", ["m_[a-z0-9_-]{1,30}", "m_[a-z]{3}", "[mt]_[a-z]+", "(m_|gym)[a-z0-9]+",
                                     "t_[a-z]{1,8}"])
def test_a_pattern_that_matches_the_signed_code_form_is_refused_and_m_bob_stays_out(broker, collect, kiosk,
                                                                                     pattern):
    refused = _push(broker, collect, {"member_id_pattern": pattern}, "error")
    assert "the form signed member codes carry" in refused["error"]
    assert _scan(kiosk, collect, "m_bob")["reason"] == "not_allowed"


def test_a_plain_id_of_the_code_form_is_refused_whatever_pattern_the_kiosk_holds():
    # As from a config written before the floor: the scan itself still refuses it.
    verdict = verify_code("m_bob", TrustedKeys(), time.time(), plain_id_pattern="m_[a-z]+")
    assert verdict.reason == "not_allowed" and "signed-code form" in verdict.detail


def test_a_broken_revocation_list_is_refused_whole_and_the_old_one_stays(broker, collect, kiosk):
    publish(broker, REVOCATIONS, json.dumps({"updated": 1.0, "revoked": [
        {"member": "m_sam", "issued_before": time.time() + 1}]}), retain=True)
    lost = kiosk.keyring.code("m_sam")
    eventually(lambda: _defences(broker, collect)["revocation_entries"] == 1, timeout=5, what="the first list applied")
    publish(broker, REVOCATIONS, json.dumps({"updated": 2.0, "revoked": [{"member": "NOT AN ID", "issued_before": 1}]}),
            retain=True)
    eventually(lambda: _defences(broker, collect)["revocation_lists_refused"] == 1, timeout=10,
               what="the broken list refused")
    assert _scan(kiosk, collect, lost)["reason"] == "not_allowed"


def test_members_revoke_adds_to_the_sites_list_and_kiosks_apply_it(broker, collect, kiosk, capsys):
    # Issued two seconds ago: codes carry whole seconds, and the revocation (stamped now) must come strictly after.
    issued = time.time() - 2
    first, second = kiosk.keyring.code("m_sam", now=issued), kiosk.keyring.code("m_tom", now=issued)
    on_site = ["--site", "testgym", "--broker", broker.url]
    assert fleet("members", "revoke", "--member", "m_sam", "--note", "lost card", *on_site) == 0
    assert fleet("members", "revoke", "--member", "m_tom", *on_site) == 0
    assert "2 member(s) on the list" in capsys.readouterr().out
    listed = collect(REVOCATIONS).wait_for(lambda m: m.retain)
    assert {e["member"] for e in json.loads(listed.payload)["revoked"]} == {"m_sam", "m_tom"}
    eventually(lambda: _defences(broker, collect)["revocation_entries"] == 2, timeout=5,
               what="both revocations applied")
    assert _scan(kiosk, collect, first)["reason"] == "not_allowed"
    assert _scan(kiosk, collect, second)["reason"] == "not_allowed"
