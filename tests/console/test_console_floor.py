"""The console in real headless Chromium, against a real broker and real kiosks: the floor, alerts, machines."""

import re
import signal
from datetime import datetime, timedelta

from playwright.sync_api import expect

from kiosk.console.alerts import MAX_OPEN_PER_MACHINE
from kiosk.contract.commands import CommandReply
from kiosk.contract.events import AssistTold, CueRaised, SessionStart
from kiosk.contract.profile import MemberProfile
from kiosk.contract.topics import member_profile
from kiosk.dev.broker import publish
from tests.console.conftest import sign_in, tile
from tests.support.console_process import PASSWORD
from tests.support.helpers import eventually
from tests.support.kiosk_process import kiosk_env, start_kiosk

R = "gym/v1/testgym/lp1"
SECOND = 1000  # ms: what "live" means for the floor


def test_a_pain_report_raises_an_alert_and_on_my_way_reaches_the_member(browser, broker, collect, console, lp1):
    events = collect(f"{R}/kiosk/event")
    replies = collect(f"{R}/kiosk/res/assist")
    page = sign_in(browser, console, "desk1")
    expect(tile(page, "lp1")).to_contain_text("Kiosk online")

    lp1.scan(lp1.keyring.code("m_sam", "Sam"))
    session = events.wait_for_event(SessionStart).session
    expect(tile(page, "lp1")).to_contain_text("set 1", timeout=SECOND)
    lp1.press_pain()
    lp1.report_pain("sharp")

    alert = page.get_by_role("alert").filter(has_text="lp1")
    expect(alert).to_contain_text("Pain", timeout=SECOND)
    expect(alert).to_contain_text("sharp")
    # The screen showed it: the kiosk may now tell the member that staff know, and no sooner.
    seen = events.wait_for_event(AssistTold, lambda e: e.state == "seen")
    assert (seen.session, seen.by) == (session, "Front desk")

    alert.get_by_role("button", name=re.compile("^On my way")).click()
    coming = events.wait_for_event(AssistTold, lambda e: e.state == "coming", timeout=2)
    assert (coming.session, coming.by) == (session, "Desk1")
    answered = replies.wait_for(lambda m: b'"coming"' in m.payload).decode(CommandReply)
    assert answered.status == "ok" and answered.data == {"state": "coming", "by": "Desk1", "session": session}
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.get_by_text("Desk1 is on the way")).to_be_visible()
    # The kiosk told its member (headless: its screen is the log).
    lp1.screen.wait_for(lambda m: isinstance(m, AssistTold) and m.by == "Desk1")


def test_out_of_order_from_the_page_changes_the_kiosks_mode_and_shows_the_reply(browser, console, lp1):
    page = sign_in(browser, console, "ops1")
    tile(page, "lp1").get_by_role("link", name="Manage lp1").click()
    page.get_by_label("Reason").fill("cable frayed")
    page.get_by_role("button", name="Out of order").click()
    expect(page.get_by_role("region", name="Reply to out of order")).to_contain_text("ok")
    eventually(lambda: lp1.mode == "out_of_order", what="the kiosk out of order")
    expect(tile(page, "lp1")).to_contain_text("Out of order: cable frayed")

    page.get_by_role("button", name="In service").click()
    expect(page.get_by_role("region", name="Reply to in service")).to_contain_text("ok")
    eventually(lambda: lp1.mode == "idle", what="the kiosk back in service")

    page.get_by_role("button", name="Diagnostics").click()
    reply = page.get_by_role("region", name="Reply to diagnostics")
    expect(reply).to_contain_text("Self-test")
    expect(reply).to_contain_text("connected to the broker")


def test_a_killed_kiosk_shows_lost_within_a_second_and_raises_an_alert(browser, broker, console, tmp_path):
    proc = start_kiosk(kiosk_env(broker.url, tmp_path / "lp2", LEGPRESS_MACHINE="lp2"), tmp_path / "lp2.log")
    try:
        page = sign_in(browser, console, "desk1")
        expect(tile(page, "lp2")).to_contain_text("Kiosk online", timeout=20 * SECOND)
        proc.send_signal(signal.SIGKILL)  # its socket closes with it: the broker publishes its Will
        proc.wait(5)
        expect(tile(page, "lp2")).to_contain_text("lost", timeout=2 * SECOND)
        expect(page.get_by_role("alert").filter(has_text="lp2")).to_contain_text("Kiosk lost")
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_lost_bridge_shows_the_kiosk_lost_though_its_status_says_ready(browser, broker, console, lp1):
    page = sign_in(browser, console, "desk1")
    expect(tile(page, "lp1")).to_contain_text("Kiosk online")
    # What the site broker's bridge publishes when the kiosk's broker is gone (a power cut at the machine).
    publish(broker, f"{R}/kiosk/bridge", b"0", retain=True)
    expect(tile(page, "lp1")).to_contain_text("lost", timeout=SECOND)
    publish(broker, f"{R}/kiosk/bridge", b"1", retain=True)
    expect(tile(page, "lp1")).to_contain_text("Kiosk online", timeout=SECOND)


def test_html_in_a_member_name_or_a_reason_is_shown_as_text_and_never_runs(browser, broker, collect, console, lp1):
    name = "<img/src=x/onerror=window.pwned=1>Eve"  # one word: the tile shows first names
    profile = MemberProfile(member="m_eve", name=name, rev=1, updated=1_700_000_000.0)
    publish(broker, member_profile("testgym", "m_eve"), profile.model_dump_json(), retain=True)
    page = sign_in(browser, console, "ops1")
    events = collect(f"{R}/kiosk/event")
    lp1.scan(lp1.keyring.code("m_eve", "Eve"))
    events.wait_for_event(SessionStart)
    expect(tile(page, "lp1")).to_contain_text(name, timeout=SECOND)

    page.goto(f"{console.url}/machines/lp1")
    page.get_by_label("Reason").fill("<script>window.pwned=2</script><b>frayed</b>")
    page.get_by_role("button", name="Out of order").click()
    expect(tile(page, "lp1")).to_contain_text("<script>window.pwned=2</script><b>frayed</b>")
    assert page.evaluate("() => window.pwned") is None
    assert tile(page, "lp1").locator("b, img, script").count() == 0


def test_members_names_show_on_their_machine_and_go_when_the_session_ends(browser, broker, collect, console, lp1):
    profile = MemberProfile(member="m_sam", name="Sam Smith", rev=1, updated=1_700_000_000.0)
    publish(broker, member_profile("testgym", "m_sam"), profile.model_dump_json(), retain=True)
    page = sign_in(browser, console, "desk1")
    lp1.scan(lp1.keyring.code("m_sam", "Sam"))
    expect(tile(page, "lp1")).to_contain_text("Sam: set 1, 0 reps", timeout=SECOND)
    assert "Smith" not in tile(page, "lp1").inner_text()  # the first name is enough at the front desk
    lp1.end_session()
    expect(tile(page, "lp1")).to_contain_text("Free", timeout=SECOND)


# Counts the alert sound's plays: headless Chromium has no speaker, so the page's calls are what we can hear.
COUNT_PLAYS = """
window.plays = 0;
HTMLMediaElement.prototype.play = function () { window.plays += 1; return Promise.resolve(); };
"""


def test_a_new_alert_sounds_after_the_first_touch_and_unanswered_pain_again_every_30_s(browser, collect, console, lp1):
    context = browser.new_context()
    context.add_init_script(COUNT_PLAYS)
    page = context.new_page()
    # The page's time stands still but for what the test runs: installed, the fake clock would otherwise
    # flow with real time, and a loaded machine's seconds between the pain and `run_for` would count.
    page.clock.install()
    page.clock.pause_at(datetime.now() + timedelta(seconds=1))
    page.goto(f"{console.url}/login")
    page.get_by_label("User").fill("desk1")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(tile(page, "lp1")).to_contain_text("Kiosk online")
    assert page.evaluate("() => window.plays") == 0  # the sign-in click was on another page
    page.get_by_role("button", name="Turn on alert sound").click()
    expect(page.get_by_role("button", name="Alert sound on")).to_be_visible()

    events = collect(f"{R}/kiosk/event")
    lp1.scan(lp1.keyring.code("m_sam", "Sam"))
    events.wait_for_event(SessionStart)
    lp1.press_pain()
    expect(page.get_by_role("alert").filter(has_text="lp1")).to_contain_text("Pain")
    assert page.evaluate("() => window.plays") == 1
    page.clock.run_for(29_000)
    assert page.evaluate("() => window.plays") == 1
    page.clock.run_for(2_000)
    assert page.evaluate("() => window.plays") == 2
    page.get_by_role("button", name=re.compile("^On my way")).click()
    expect(page.get_by_role("alert")).to_have_count(0)
    page.clock.run_for(60_000)
    assert page.evaluate("() => window.plays") == 2  # answered: quiet
    context.close()


def test_a_command_the_kiosk_refuses_shows_its_reason_and_raises_an_alert(browser, console, lp1):
    page = sign_in(browser, console, "ops1")
    page.goto(f"{console.url}/machines/lp1")
    page.get_by_label("Message").fill("Closing in 10 minutes")
    page.get_by_role("button", name="Show message").click()
    expect(page.get_by_role("region", name="Reply to message")).to_contain_text("ok")
    page.get_by_role("button", name="Restart").click()  # an in-process kiosk has no supervisor to restart it
    expect(page.get_by_role("region", name="Reply to restart")).to_contain_text("not started by a supervisor")
    page.goto(console.url)
    expect(page.get_by_role("alert").filter(has_text="restart")).to_contain_text("Command failed on lp1")


def test_a_kiosk_inventing_alerts_gets_a_few_listed_and_cannot_bury_another_machines(browser, broker, console):
    page = sign_in(browser, console, "desk1")
    # A stolen (or broken) kiosk login makes up sessions, each with a member in pain.
    for n in range(MAX_OPEN_PER_MACHINE + 3):
        forged = CueRaised(ts=1_700_000_000.0 + n, session=f"s-forged-{n}", cue="pain_stop", severity="stop")
        publish(broker, "gym/v1/testgym/lp9/kiosk/event", forged.model_dump_json())
    real = CueRaised(ts=1_700_000_100.0, session="s-real", cue="liftoff_lumbar", severity="stop")
    publish(broker, "gym/v1/testgym/lp2/kiosk/event", real.model_dump_json())
    expect(page.get_by_role("alert").filter(has_text="lp2")).to_have_count(1, timeout=SECOND)
    expect(page.get_by_role("alert").filter(has_text="lp9")).to_have_count(MAX_OPEN_PER_MACHINE)
    expect(page.get_by_role("status").filter(has_text="lp9 sent 3 more alerts")).to_be_visible()
