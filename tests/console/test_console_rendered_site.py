"""The console on a rendered site: its own `console` login and ACL, a real kiosk behind its own bridged broker.

Killing the kiosk's broker ends the bridge; the site broker's notification
says so, and the page shows the machine lost. The ACL lets the console do
what it does and nothing else.
"""

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from kiosk.dev.broker import end_process
from kiosk.fleet.broker.acl import CONSOLE_COMMANDS
from tests.console.conftest import sign_in, tile
from tests.support.broker_gym import SITE, Gym, machine_root
from tests.support.console_process import ConsoleProcess, start_console
from tests.support.kiosk_process import kiosk_env, start_kiosk

R1 = machine_root("lp-1")


@pytest.fixture
def gym(tmp_path) -> Iterator[Gym]:
    g = Gym(tmp_path, machines=("lp-1",))
    assert g.render() == 0
    g.start("site")
    g.start("lp-1")
    yield g
    g.close()


@pytest.fixture
def site_console(gym: Gym, tmp_path) -> Iterator[ConsoleProcess]:
    secrets = gym.out / "secrets" / "console.toml"
    c = start_console("", tmp_path / "console", SITE, "--broker-secrets", str(secrets), "--inventory",
                      str(gym.inventory))
    yield c
    c.stop()


def test_a_killed_kiosk_broker_shows_lost_through_the_bridge_notification(browser, gym, site_console, tmp_path):
    secrets = gym.out / "secrets" / "kiosk-lp-1.toml"
    env = kiosk_env("", tmp_path / "lp-1", LEGPRESS_SITE=SITE, LEGPRESS_MACHINE="lp-1",
                    LEGPRESS_BROKER_SECRETS=str(secrets))
    del env["LEGPRESS_BROKER"]  # the secrets file names the kiosk's own broker
    proc = start_kiosk(env, tmp_path / "kiosk-lp-1.log")
    try:
        page = sign_in(browser, site_console, "ops1")
        expect(tile(page, "lp-1")).to_contain_text("Kiosk online", timeout=30_000)
        # Out of order from the page reaches the kiosk through the site broker and its bridge.
        page.goto(f"{site_console.url}/machines/lp-1")
        page.get_by_label("Reason").fill("belt worn")
        page.get_by_role("button", name="Out of order").click()
        expect(page.get_by_role("region", name="Reply to out of order")).to_contain_text("ok")
        expect(tile(page, "lp-1")).to_contain_text("Out of order: belt worn")
        page.goto(site_console.url)
        gym.brokers["lp-1"].stop()  # the machine's power cut: its broker and bridge go with it
        expect(tile(page, "lp-1")).to_contain_text("lost", timeout=30_000)
    finally:
        end_process(proc)


def test_the_console_login_sends_its_commands_and_nothing_else(gym):
    console = gym.peer("console", "site-local", subscribe=(f"gym/v1/{SITE}/#",))
    watcher = gym.peer("op-ops", "site", subscribe=(f"gym/v1/{SITE}/#",))
    for name in CONSOLE_COMMANDS:
        console.publish(f"{R1}/kiosk/cmd/{name}", b'{"transaction": "t"}')
    # A trainer's revoke and erase: the revocation list and an erase request for the profile desk (it may
    # not write a profile itself); an operator's config push.
    allowed = [f"gym/v1/{SITE}/config/revocations", f"gym/v1/{SITE}/members/m_sam/erase",
               f"gym/v1/{SITE}/config/set", f"{R1}/kiosk/config/set"]
    for topic in allowed:
        console.publish(topic, b"{}")
    for topic in (f"{R1}/kiosk/cmd/replay", f"{R1}/kiosk/config/state", f"gym/v1/{SITE}/config/other",
                  f"gym/v1/{SITE}/members/m_sam/profile",
                  f"gym/v1/{SITE}/broadcast/cmd/restart", f"{R1}/kiosk/status", f"{R1}/kiosk/event"):
        console.publish(topic, b"{}")
    watcher.sync()
    # (The kiosk broker's bridge notification, retained, is the one message here nobody in this test sent.)
    sent = {t for t in watcher.topics() if ("/kiosk/" in t or "config" in t or "members" in t)
            and not t.endswith("/kiosk/bridge")}
    assert sent == {f"{R1}/kiosk/cmd/{name}" for name in CONSOLE_COMMANDS} | set(allowed)
    # It reads what the floor shows.
    watcher.publish(f"{R1}/kiosk/event", b'{"type": "x"}')
    console.wait_for(f"{R1}/kiosk/event")
