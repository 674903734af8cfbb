"""Sessions today and the last session's lift-off rate survive a restart: counted again from the journal.

Before, both lived in memory: a kiosk restarted at noon told Home Assistant 0 sessions while the report
counted the morning's.
"""

from kiosk.contract.events import SessionEnd, SessionStart
from tests.support.helpers import eventually
from tests.support.kiosk_harness import Keyring, make_kiosk
from tests.support.sled import a_member_mid_set


def test_a_restarted_kiosk_counts_todays_sessions_and_the_last_rate_from_its_journal(broker, collect, tmp_path):
    events = collect("gym/v1/testgym/lp1/kiosk/event")
    keyring, data = Keyring(tmp_path), tmp_path / "data"
    kiosk, _ = make_kiosk(broker.url, data, keyring)
    kiosk.start()
    try:
        assert kiosk.link.wait_connected(10)
        assert kiosk.usage_today(kiosk.clock.now()) == (0, None)
        a_member_mid_set(broker, kiosk)  # Sam: a rep done, a second under way
        kiosk.end_session()
        sam = events.wait_for_event(SessionEnd)
        assert sam.reps >= 1
        kiosk.scan(keyring.code("m_tom", "Tom"))
        events.wait_for_event(SessionStart, lambda e: e.member == "m_tom")
        kiosk.end_session()  # Tom did no rep: the rate stays Sam's
        events.wait_for_event(SessionEnd, lambda e: e.member == "m_tom")
        before = kiosk.usage_today(kiosk.clock.now())
    finally:
        kiosk.stop()
    assert before == (2, round(100 * sam.liftoffs / sam.reps, 1))

    again, _ = make_kiosk(broker.url, data, keyring)
    again.start()
    try:
        eventually(lambda: again.usage_today(again.clock.now()) == before, what="the counts read back")
    finally:
        again.stop()
