"""Takes the console's pictures into docs/screenshots/: the floor with an alert, at tablet and desktop widths,
a member's card issued from the members page, and an operator's config page.

A real broker, a real console process and three in-process kiosks: Sam is
training on lp1 and presses the pain button, lp2 is out of order, lp3's kiosk
process is killed (lost). Headless Chromium signs in as the front desk, then as a trainer (Sam's card) and
an operator (lp1's config).

    .venv/bin/python docs/console_screenshot.py
"""

import re
import signal
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

from kiosk.contract.profile import MemberProfile  # noqa: E402
from kiosk.contract.topics import member_profile  # noqa: E402
from kiosk.dev.broker import Broker, publish  # noqa: E402
from tests.support.console_process import CHROMIUM_ARGS, PASSWORD, start_console  # noqa: E402
from tests.support.helpers import eventually  # noqa: E402
from tests.support.kiosk_harness import Keyring, make_kiosk  # noqa: E402
from tests.support.kiosk_process import kiosk_env, start_kiosk  # noqa: E402

OUT = REPO / "docs" / "screenshots"


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="console-shot-"))
    broker = Broker().start()
    keyring = Keyring(root)
    console = start_console(broker.url, root / "console", "testgym", "--signing-key", str(keyring.private))
    kiosks = {m: make_kiosk(broker.url, root / m, keyring, machine=m)[0] for m in ("lp1", "lp2")}
    lp3 = start_kiosk(kiosk_env(broker.url, root / "lp3", LEGPRESS_MACHINE="lp3"), root / "lp3.log")
    try:
        for k in kiosks.values():
            k.start()
            assert k.link.wait_connected(10)
        publish(broker, member_profile("testgym", "m_sam"),
                MemberProfile(member="m_sam", name="Sam Okafor", rev=1, updated=1_700_000_000.0).model_dump_json(),
                retain=True)
        publish(broker, kiosks["lp2"].topics.cmd("out_of_order"),
                '{"transaction": "shot", "reason": "Seat pin sticks"}')
        eventually(lambda: kiosks["lp2"].mode == "out_of_order", what="lp2 out of order")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for width, height in ((768, 1024), (1280, 800)):
                page = browser.new_context(viewport={"width": width, "height": height}).new_page()
                page.goto(f"{console.url}/login")
                if width == 768:
                    page.screenshot(path=OUT / "console-sign-in.png")
                page.get_by_label("User").fill("desk1")
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                expect(page.get_by_role("article", name="lp3")).to_be_visible()
                if width == 768:
                    lp1 = kiosks["lp1"]
                    lp1.scan(keyring.code("m_sam", "Sam"))
                    expect(page.get_by_role("article", name="lp1")).to_contain_text("Sam")
                    lp1.press_pain()
                    lp1.report_pain("radiating")
                    lp3.send_signal(signal.SIGKILL)
                    expect(page.get_by_role("article", name="lp3")).to_contain_text("lost")
                expect(page.get_by_role("alert").first).to_contain_text("Pain")
                page.screenshot(path=OUT / f"console-floor-{width}.png", full_page=True)
                page.get_by_role("alert").first.screenshot(path=OUT / "console-alert.png")
            trainer = _sign_in(browser, console.url, "trainer1", (768, 1024))
            trainer.goto(f"{console.url}/members?q=sam")
            trainer.get_by_role("button", name="Issue a card for Sam Okafor").click()
            expect(trainer.get_by_role("img", name=re.compile("^Member card of Sam Okafor"))).to_be_visible()
            trainer.screenshot(path=OUT / "console-card.png", full_page=True)
            ops = _sign_in(browser, console.url, "ops1", (1280, 800))
            ops.goto(f"{console.url}/config?machine=lp1")
            expect(ops.get_by_role("region", name="Config states")).to_contain_text("lp1: ok")
            ops.screenshot(path=OUT / "console-config.png", full_page=True)
            browser.close()
    finally:
        if lp3.poll() is None:
            lp3.kill()
        for k in kiosks.values():
            k.stop()
        console.stop()
        broker.close()


def _sign_in(browser: Browser, url: str, user: str, size: tuple[int, int]) -> Page:
    page = browser.new_context(viewport={"width": size[0], "height": size[1]}).new_page()
    page.goto(f"{url}/login")
    page.get_by_label("User").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Machines")).to_be_visible()
    return page


if __name__ == "__main__":
    main()
