"""The replay budgets on their own (kiosk/core/site/replay_limits.py): per requester, per kiosk, each eid
once per window, a bounded share of the link. The kiosk's journal answering real requests through a
broker is in test_event_journal.py and tests/broker/test_replay_storm.py."""

from kiosk.core.site import replay_limits
from kiosk.core.site.replay_limits import ReplayLimits, requester_of

RECORDER = requester_of("gym/v1/downtown/lp-1/kiosk/res/replay", "recorder-0f3a")
ROOM = replay_limits.IN_FLIGHT


def test_a_requester_is_its_response_topic_and_the_name_its_transaction_starts_with():
    assert requester_of(None, "recorder-0f3a") == requester_of(None, "recorder-99") == "|recorder"
    assert requester_of(None, "0f3a9c") == requester_of(None, "Robert'); DROP-x") == "|"
    assert requester_of("a/res/replay", "recorder-1") != requester_of("a/res/replay/x", "recorder-1")


def test_an_eid_replayed_in_the_window_is_not_sent_again_whoever_asks():
    limits = ReplayLimits()
    first = limits.admit(RECORDER, 1, 100, now=0.0, room=ROOM)
    assert (first.allowed, first.upto, first.reason) == (ROOM, 100, None)
    limits.served(RECORDER, 1, 100, sent=100, now=0.0)
    again = limits.admit(requester_of(None, "op-1"), 50, 80, now=3.0, room=ROOM)
    assert again.allowed == 0 and again.reason == "repeat" and again.retry_after_s == 7.0
    # A range that runs into one just sent stops before it, so the requester never takes it as missing.
    overlapping = ReplayLimits()
    overlapping.served(RECORDER, 40, 60, sent=21, now=0.0)
    cut = overlapping.admit(RECORDER, 10, 100, now=1.0, room=ROOM)
    assert cut.upto == 39 and cut.reason is None
    assert limits.admit(RECORDER, 1, 100, now=10.0, room=ROOM).reason is None, "out of the window: sent again"
    assert limits.refused == {"repeat": 1}


def test_one_requesters_budget_is_its_own_and_renaming_gains_nothing_past_the_kiosks():
    limits = ReplayLimits()
    eid = 1
    for _ in range(4):  # the recorder uses its whole burst, in the link's shares
        admitted = limits.admit(RECORDER, eid, eid + 10_000, now=0.0, room=ROOM)
        limits.served(RECORDER, eid, eid + admitted.allowed - 1, admitted.allowed, now=0.0)
        eid += admitted.allowed
    held = limits.admit(RECORDER, eid, eid + 10, now=0.0, room=ROOM)
    assert held.reason == "requester_rate" and held.retry_after_s is not None and held.retry_after_s > 0
    other = limits.admit(requester_of(None, "console-1"), eid, eid + 10, now=0.0, room=ROOM)
    assert other.reason is None and other.allowed > 0 and other.upto == eid + 10, "another requester is served"
    for n in range(40):  # a requester renaming itself: fresh own budgets, one kiosk budget
        admitted = limits.admit(requester_of(None, f"x{n}-1"), eid, eid + 10_000, now=0.0, room=ROOM)
        if admitted.allowed:
            limits.served(requester_of(None, f"x{n}-1"), eid, eid + admitted.allowed - 1, admitted.allowed, 0.0)
            eid += admitted.allowed
    assert eid - 1 <= replay_limits.KIOSK_BURST, "all requesters together stay within the kiosk's burst"
    assert limits.refused["kiosk_rate"] > 0
    # The budgets come back with time: the kiosk's rate a second.
    assert limits.admit(RECORDER, eid, eid + 10_000, now=5.0, room=ROOM).allowed == ROOM


def test_a_link_still_full_of_copies_holds_the_request_back():
    limits = ReplayLimits()
    busy = limits.admit(RECORDER, 1, 10, now=0.0, room=0)
    assert busy.reason == "busy" and busy.retry_after_s == replay_limits.BUSY_RETRY_S
    assert limits.admit(RECORDER, 1, 10, now=0.0, room=3).allowed == 3


def test_a_request_that_found_nothing_costs_one_and_holds_no_range(monkeypatch):
    monkeypatch.setattr(replay_limits, "REQUESTER_BURST", 2.0)
    monkeypatch.setattr(replay_limits, "REQUESTER_EVENTS_PER_S", 0.01)
    limits = ReplayLimits()
    for _ in range(2):
        assert limits.admit(RECORDER, 50, 2**53 - 1, now=0.0, room=ROOM).reason is None
        limits.served(RECORDER, 50, 49, sent=0, now=0.0)  # nothing held from eid 50 on
    # Each empty answer still cost the journal a read: the third in a row waits for the budget...
    assert limits.admit(RECORDER, 50, 2**53 - 1, now=0.0, room=ROOM).reason == "requester_rate"
    # ...and no range was held as replayed: another requester asking for eid 50 on is not refused as a repeat.
    assert limits.admit(requester_of(None, "op-1"), 50, 60, now=0.0, room=ROOM).reason is None
