"""Fixtures of the console's tests: a real broker, a real console process, a kiosk, and headless Chromium."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from kiosk.dev.broker import Broker
from tests.support.console_process import CHROMIUM_ARGS, PASSWORD, ConsoleProcess, start_console
from tests.support.kiosk_harness import Keyring, KioskUnderTest, make_kiosk

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def console(broker: Broker, tmp_path: Path) -> Iterator[ConsoleProcess]:
    c = start_console(broker.url, tmp_path / "console")
    yield c
    c.stop()


@pytest.fixture
def lp1(broker: Broker, tmp_path: Path) -> Iterator[KioskUnderTest]:
    """A started in-process kiosk `lp1` on the test's broker (the pain button is pressed from the test)."""
    k, _ = make_kiosk(broker.url, tmp_path / "lp1", Keyring(tmp_path))
    k.start()
    assert k.link.wait_connected(10)
    yield k
    k.stop()


def sign_in(browser: Browser, console: ConsoleProcess, user: str, password: str = PASSWORD) -> Page:
    """A fresh browser context signed in as `user`, on the floor."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{console.url}/login")
    page.get_by_label("User").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Machines")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text=re.compile("^Live$"))).to_be_visible()
    return page


def tile(page: Page, machine: str):
    return page.get_by_role("article", name=machine, exact=True)
