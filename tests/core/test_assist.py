"""`assist`: a console's answer to an alert reaches the member's screen and the session's events."""

import json
import uuid

import pytest

from kiosk.contract.commands import CommandReply
from kiosk.contract.events import AssistTold, PainReport, SessionStart
from kiosk.contract.replies import AssistShown
from kiosk.dev.broker import publish
from kiosk.words import wording
from kiosk.words.event_lines import EventLines

R = "gym/v1/testgym/lp1"


def _assist(broker, collect, **body: object) -> CommandReply:
    replies = collect(f"{R}/kiosk/res/assist")
    tx = uuid.uuid4().hex[:8]
    publish(broker, f"{R}/kiosk/cmd/assist", json.dumps({"transaction": tx, **body}))
    return replies.wait_for(lambda m: tx.encode() in m.payload).decode(CommandReply)


def test_seen_then_coming_reach_the_members_session_and_the_log(broker, collect, kiosk):
    events = collect(f"{R}/kiosk/event")
    kiosk.scan(kiosk.keyring.code("m_sam"))
    start = events.wait_for_event(SessionStart)
    kiosk.press_pain()
    kiosk.report_pain("sharp")
    events.wait_for_event(PainReport)

    seen = _assist(broker, collect, state="seen", by="Front desk")
    assert seen.status == "ok"
    assert AssistShown.model_validate(seen.data) == AssistShown(state="seen", by="Front desk", session=start.session)
    coming = _assist(broker, collect, state="coming", by="Aoife")
    assert coming.status == "ok" and coming.data is not None and coming.data["session"] == start.session

    told = [events.wait_for_event(AssistTold, lambda e, s=s: e.state == s) for s in ("seen", "coming")]
    assert [(e.session, e.by) for e in told] == [(start.session, "Front desk"), (start.session, "Aoife")]
    # Headless, the member's screen is the log: it names who is coming, and never claims more than was said.
    line = EventLines().describe(told[1])
    assert line is not None and "Aoife is on the way" in line
    assert kiosk.screen.wait_for(lambda m: isinstance(m, AssistTold) and m.state == "coming").by == "Aoife"


def test_assist_with_nobody_at_the_machine_is_answered_in_no_session(broker, collect, kiosk):
    events = collect(f"{R}/kiosk/event")
    reply = _assist(broker, collect, state="coming", by="Sam")
    assert reply.status == "ok" and reply.data == {"state": "coming", "by": "Sam", "session": None}
    assert events.wait_for_event(AssistTold).session is None


@pytest.mark.parametrize("body, reason", [
    ({"state": "coming", "by": "x" * 41}, "40"),
    ({"state": "coming", "by": "Sam\nINFO all fine"}, "control or formatting character"),
    ({"state": "coming", "by": ""}, "at least 1"),
    ({"state": "running", "by": "Sam"}, "state"),
    ({"state": "seen"}, "by"),
])
def test_a_bad_assist_is_refused_with_its_reason_and_nothing_is_shown(broker, collect, kiosk, body, reason):
    reply = _assist(broker, collect, **body)
    assert reply.status == "error" and reply.error is not None and reason in reply.error
    kiosk.inbox.call(lambda: None)
    assert not any(isinstance(m, AssistTold) for m in kiosk.screen.seen)


def test_the_member_is_told_to_call_out_until_staff_answer():
    # Never the claim that staff know before a console said so: that is only in the answer's words.
    assert "staff know" not in wording.CALL_OUT.lower() and "nearby" in wording.CALL_OUT
    assert "Front desk" in wording.assist_line("seen", "Front desk")
    assert wording.assist_line("coming", "Aoife").startswith("Aoife is on the way")
