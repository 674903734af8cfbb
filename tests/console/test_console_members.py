"""A trainer's members page in real Chromium: find, withdraw codes, erase after a confirmation naming the member."""

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from kiosk.contract.profile import MemberProfile
from kiosk.contract.revocations import RevocationList
from kiosk.contract.topics import member_profile, site_revocations
from kiosk.dev.broker import Collector, publish
from kiosk.fleet.recorder.service import Recorder
from kiosk.fleet.recorder.store import Store
from kiosk.fleet.recorder.store_url import open_store
from tests.console.conftest import sign_in
from tests.support.console_process import PASSWORD, ConsoleProcess
from tests.support.helpers import eventually


def _sam(broker) -> None:
    profile = MemberProfile(member="m_sam", name="Sam Okafor", rev=3, updated=1_700_000_000.0)
    publish(broker, member_profile("testgym", "m_sam"), profile.model_dump_json(), retain=True)


def test_a_trainer_finds_a_member_and_withdraws_their_codes(browser, broker, console: ConsoleProcess):
    _sam(broker)
    page = sign_in(browser, console, "trainer1")
    page.get_by_role("link", name="Members").click()
    page.get_by_label("Find member").fill("okaf")
    page.get_by_role("button", name="Find", exact=True).click()
    sam = page.get_by_role("listitem", name="Sam Okafor")
    expect(sam).to_contain_text("m_sam")
    lists = Collector(broker, site_revocations("testgym"))
    try:
        sam.get_by_role("button", name="Withdraw codes of Sam Okafor").click()
        expect(page.get_by_role("status")).to_contain_text(
            "Every code of Sam Okafor (m_sam) issued until now is withdrawn")
        revoked = lists.wait_for(lambda m: bool(m.payload)).decode(RevocationList)
        assert [e.member for e in revoked.revoked] == ["m_sam"]
    finally:
        lists.close()


@pytest.fixture
def profile_desk(broker, tmp_path) -> Iterator[Store]:
    """The recorder, which erases for the console (the console's login may not write profiles); yields its
    store as another reader sees it."""
    url = f"sqlite:{tmp_path / 'record.sqlite'}"
    store = open_store(url)
    recorder = Recorder(store, broker.url, "testgym", client_id="desk-for-the-console", log_every_s=3600)
    recorder.start()
    reader = open_store(url)
    try:
        assert recorder.wait_connected(10)
        yield reader
    finally:
        reader.close()
        recorder.stop()
        store.close()


def test_erasing_asks_with_the_members_name_and_needs_their_id_typed_back(browser, broker, console: ConsoleProcess,
                                                                          profile_desk: Store):
    _sam(broker)
    # The desk erases only a member it has a profile of: it has had Sam's retained copy.
    eventually(lambda: profile_desk.latest_rev("testgym", "m_sam") == 3, what="Sam's profile recorded")
    page = sign_in(browser, console, "trainer1")
    page.goto(f"{console.url}/members?q=sam")
    page.get_by_role("button", name="Erase Sam Okafor").click()
    expect(page.get_by_role("heading", name="Erase Sam Okafor (m_sam)?")).to_be_visible()
    page.get_by_label("Type m_sam to confirm").fill("m_sal")
    page.get_by_role("button", name="Erase Sam Okafor").click()
    expect(page.get_by_role("status")).to_contain_text("nothing was erased")
    profiles = Collector(broker, member_profile("testgym", "m_sam"))
    try:
        profiles.wait_for(lambda m: bool(m.payload))  # still there
        page.get_by_label("Type m_sam to confirm").fill("m_sam")
        page.get_by_role("button", name="Erase Sam Okafor").click()
        expect(page.get_by_role("status")).to_contain_text("Sam Okafor (m_sam) is erased")
        profiles.wait_for(lambda m: m.payload == b"")
    finally:
        profiles.close()
    page.goto(f"{console.url}/members?q=sam")
    expect(page.get_by_text(re.compile("No member's id or name contains"))).to_be_visible()


def test_the_desk_cannot_reach_members(browser, console: ConsoleProcess):
    page = sign_in(browser, console, "desk1", PASSWORD)
    expect(page.get_by_role("link", name="Members")).to_have_count(0)
    assert page.goto(f"{console.url}/members").status == 403
