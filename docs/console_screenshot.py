"""Takes the console's pictures into docs/screenshots/: the floor with an alert, at tablet and desktop widths.

A real broker, a real console process and three in-process kiosks: Sam is
training on lp1 and presses the pain button, lp2 is out of order, lp3's kiosk
process is killed (lost). Headless Chromium signs in as the front desk.

    .venv/bin/python docs/console_screenshot.py
"""

import signal
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

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
    console = start_console(broker.url, root / "console")
    keyring = Keyring(root)
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
            browser.close()
    finally:
        if lp3.poll() is None:
            lp3.kill()
        for k in kiosks.values():
            k.stop()
        console.stop()
        broker.close()


if __name__ == "__main__":
    main()
