"""An operator's config page in real Chromium against an in-process kiosk: the form comes from the pydantic
models, a value past a safety floor is refused before anything is sent, a good one is applied by the kiosk,
and each kiosk's `config/state` is shown beside the form."""

import json
import re

from playwright.sync_api import expect

from kiosk.dev.broker import Collector
from tests.console.conftest import sign_in
from tests.support.console_process import ConsoleProcess
from tests.support.helpers import eventually
from tests.support.kiosk_harness import KioskUnderTest


def _lp1_config(browser, console: ConsoleProcess):
    page = sign_in(browser, console, "ops1")
    page.get_by_role("link", name="Config").click()
    expect(page.get_by_role("heading", name="Config: every kiosk of the site")).to_be_visible()
    page.get_by_role("navigation", name="Config of").get_by_role("link", name="lp1").click()
    expect(page.get_by_role("heading", name="Config: machine lp1")).to_be_visible()
    expect(page.get_by_role("region", name="Config states")).to_contain_text("lp1: ok, config version")
    return page


def test_a_value_past_a_safety_floor_is_refused_before_it_is_sent(browser, broker, console, lp1: KioskUnderTest):
    page = _lp1_config(browser, console)
    field = page.get_by_label("cues.sensor_lost_s", exact=True)
    expect(field).to_have_accessible_description(re.compile(r"floor: at most 2 s"))
    pushes = Collector(broker, "gym/v1/testgym/#")
    try:
        field.fill("5")
        page.get_by_role("button", name="Push config to lp1").click()
        expect(page.get_by_role("status")).to_contain_text(re.compile(r"Not sent: .*sensor_lost_s"))
        page.get_by_label("cues.lumbar_liftoffs_to_stop", exact=True).fill("three")
        page.get_by_role("button", name="Push config to lp1").click()
        expect(page.get_by_role("status")).to_contain_text(
            "cues.lumbar_liftoffs_to_stop: 'three' is not a whole number")
        # The refused values are kept in the form, to be corrected.
        expect(page.get_by_label("cues.lumbar_liftoffs_to_stop", exact=True)).to_have_value("three")
        page.get_by_label("cues.lumbar_liftoffs_to_stop", exact=True).fill("3")
        page.get_by_label("cues.sensor_lost_s", exact=True).fill("")
        page.get_by_role("button", name="Push config to lp1").click()
        expect(page.get_by_role("status")).to_contain_text(re.compile(r"Not sent: .*lumbar_liftoffs_to_stop"))
        assert not any(m.topic.endswith("config/set") for m in pushes.messages)
    finally:
        pushes.close()


def test_a_good_value_is_pushed_applied_and_shown_beside_the_form(browser, broker, console, lp1: KioskUnderTest):
    page = _lp1_config(browser, console)
    row = page.get_by_role("row").filter(has=page.get_by_label("idle_timeout_s", exact=True))
    expect(row.get_by_role("cell").last).to_have_text("90")
    page.get_by_label("idle_timeout_s", exact=True).fill("120")
    page.get_by_label("sound", exact=True).select_option("no")
    page.get_by_role("button", name="Push config to lp1").click()
    result = page.get_by_role("region", name="Result of the push")
    expect(result).to_contain_text("Pushed and applied.")
    expect(result).to_contain_text("idle_timeout_s: (not set) -> 120.0")
    expect(result).to_contain_text("lp1: applied")
    eventually(lambda: lp1.config.idle_timeout_s == 120.0 and lp1.config.sound is False,
               what="lp1 applying the pushed config")
    expect(row.get_by_role("cell").last).to_have_text("120")
    page.goto(f"{console.url}/audit")
    expect(page.get_by_role("row").filter(has_text="config push")).to_contain_text("lp1: applied")


def test_the_desk_and_requests_without_the_token_cannot_push(browser, console: ConsoleProcess):
    desk = sign_in(browser, console, "desk1")
    assert desk.goto(f"{console.url}/config").status == 403
    expect(desk.get_by_role("link", name="Config")).to_have_count(0)
    ops = sign_in(browser, console, "ops1")
    answer = ops.request.post(f"{console.url}/config", form={"idle_timeout_s": "100"})
    assert answer.status == 403 and "CSRF" in answer.json()["error"]


def test_a_machines_setting_is_unset_back_to_the_site_value(browser, broker, console, lp1: KioskUnderTest):
    page = _lp1_config(browser, console)
    page.get_by_label("idle_timeout_s", exact=True).fill("120")
    page.get_by_role("button", name="Push config to lp1").click()
    expect(page.get_by_role("region", name="Result of the push")).to_contain_text("Pushed and applied.")
    eventually(lambda: lp1.config.idle_timeout_s == 120.0, what="lp1 applying 120 s")
    layers = Collector(broker, "gym/v1/testgym/lp1/kiosk/config/set")
    try:
        # Given a value and unset at once: refused, nothing sent.
        page.get_by_label("idle_timeout_s", exact=True).fill("100")
        page.get_by_label("Unset idle_timeout_s").check()
        page.get_by_role("button", name="Push config to lp1").click()
        expect(page.get_by_role("status")).to_contain_text("idle_timeout_s: give it a value or unset it, not both")
        # Unset alone: out of lp1's layer, so lp1 is back on the default.
        page.get_by_label("idle_timeout_s", exact=True).fill("")
        expect(page.get_by_label("Unset idle_timeout_s")).to_be_checked()  # kept across the refusal
        page.get_by_role("button", name="Push config to lp1").click()
        result = page.get_by_role("region", name="Result of the push")
        expect(result).to_contain_text("Pushed and applied.")
        expect(result).to_contain_text("idle_timeout_s: 120.0 -> (not set)")
        eventually(lambda: lp1.config.idle_timeout_s == 90.0, what="lp1 back on its default")
        assert b'"idle_timeout_s":120' in layers.wait_for(lambda m: m.retain).payload  # the layer before
        layer = json.loads(layers.wait_for(lambda m: not m.retain).payload)  # the layer pushed now
        assert "idle_timeout_s" not in layer
        # Unsetting what the layer does not set says so and sends nothing.
        sent = len(layers.messages)
        page.get_by_label("Unset cues.sensor_lost_s").check()
        page.get_by_role("button", name="Push config to lp1").click()
        expect(page.get_by_role("status")).to_contain_text("cues.sensor_lost_s is not set in this layer")
        assert len(layers.messages) == sent
    finally:
        layers.close()
    page.goto(f"{console.url}/audit")
    expect(page.get_by_role("row").filter(has_text="config push").first).to_contain_text("(not set)")
