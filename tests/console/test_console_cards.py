"""A member's card issued from the console's members page, printed, and scanned at a real kiosk.

The page is screenshotted in real Chromium (what a printer would get), its QR
decoded with zxing-cpp, and the text handed to an in-process kiosk on the same
broker, as its camera would: the member's session starts.
"""

import io
import json
import re
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from kiosk.codes.member_codes import Admitted, TrustedKeys, verify_code
from kiosk.contract.profile import MemberProfile
from kiosk.contract.topics import member_profile, site_config_set
from kiosk.dev.broker import Broker, publish
from tests.console.conftest import sign_in
from tests.support.console_process import ConsoleProcess, start_console
from tests.support.helpers import eventually
from tests.support.kiosk_harness import Keyring, KioskUnderTest, make_kiosk

# Group-readable on purpose: the console must read the key as it is, not "fix" (or loosen) its mode.
KEY_MODE = 0o640


@pytest.fixture
def keyring(tmp_path: Path) -> Keyring:
    ring = Keyring(tmp_path / "ring")
    ring.private.chmod(KEY_MODE)
    return ring


@pytest.fixture
def carding_console(broker: Broker, tmp_path: Path, keyring: Keyring) -> Iterator[ConsoleProcess]:
    c = start_console(broker.url, tmp_path / "console", "testgym", "--signing-key", str(keyring.private))
    yield c
    c.stop()


@pytest.fixture
def kiosk(broker: Broker, tmp_path: Path, keyring: Keyring) -> Iterator[KioskUnderTest]:
    k, _ = make_kiosk(broker.url, tmp_path / "lp1", keyring)
    k.start()
    assert k.link.wait_connected(10)
    yield k
    k.stop()


def _decode(png: bytes) -> list[str]:
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return [b.text for b in found if b.format == zxingcpp.BarcodeFormat.QRCode]


def test_a_card_printed_from_the_members_page_starts_the_members_session(
        browser, broker, carding_console: ConsoleProcess, kiosk: KioskUnderTest, keyring: Keyring):
    profile = MemberProfile(member="m_sam", name="Sam Okafor", rev=1, updated=1_700_000_000.0)
    publish(broker, member_profile("testgym", "m_sam"), profile.model_dump_json(), retain=True)
    page = sign_in(browser, carding_console, "trainer1")
    page.goto(f"{carding_console.url}/members?q=sam")
    page.get_by_role("button", name="Issue a card for Sam Okafor").click()
    expect(page.get_by_role("status")).to_contain_text("A new card for Sam Okafor is ready")
    card = page.get_by_role("img", name=re.compile(r"^Member card of Sam Okafor \(m_sam\)"))
    expect(card).to_be_visible()
    html = page.content()
    assert "PRIVATE KEY" not in html and "LP1." not in html  # only the rendered QR leaves the host
    texts = _decode(card.screenshot())
    assert len(texts) == 1
    verdict = verify_code(texts[0], TrustedKeys.load(keyring.trusted), now=time.time())
    assert isinstance(verdict, Admitted) and verdict.claims.sub == "m_sam" and verdict.claims.exp is not None

    assert kiosk.scan(texts[0])
    eventually(lambda: kiosk.snapshot.member is not None and kiosk.snapshot.member.member == "m_sam",
               what="Sam's session started by the printed card")
    assert kiosk.snapshot.member is not None and kiosk.snapshot.member.name == "Sam Okafor"

    assert stat.S_IMODE(keyring.private.stat().st_mode) == KEY_MODE
    audit = sign_in(browser, carding_console, "ops1")
    audit.goto(f"{carding_console.url}/audit")
    expect(audit.get_by_text("issue card", exact=True)).to_be_visible()


def test_a_new_member_gets_a_card_from_the_form(browser, carding_console: ConsoleProcess, keyring: Keyring):
    page = sign_in(browser, carding_console, "ops1")
    page.goto(f"{carding_console.url}/members")
    page.get_by_label("Member id").fill("m_new")
    page.get_by_label("Name on the card").fill("Noor")
    page.get_by_label("Valid for (days)").fill("30")
    page.get_by_role("button", name="Issue card", exact=True).click()
    card = page.get_by_role("img", name=re.compile(r"^Member card of Noor \(m_new\)"))
    texts = _decode(card.screenshot())
    verdict = verify_code(texts[0], TrustedKeys.load(keyring.trusted), now=time.time())
    assert isinstance(verdict, Admitted)
    assert verdict.claims.exp is not None and 29 * 86400 < verdict.claims.exp - verdict.claims.iat <= 30 * 86400


def test_a_bad_card_request_is_refused_with_a_reason(browser, carding_console: ConsoleProcess):
    page = sign_in(browser, carding_console, "trainer1")
    page.goto(f"{carding_console.url}/members")
    page.get_by_label("Member id").fill("Not An Id")
    page.get_by_label("Name on the card").fill("<script>document.title='owned'</script>")
    page.get_by_role("button", name="Issue card", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("No card issued: The member id must be")
    assert page.title() != "owned"
    expect(page.get_by_role("img")).to_have_count(0)


def test_issuing_needs_a_trainer_and_the_csrf_token(browser, carding_console: ConsoleProcess):
    desk = sign_in(browser, carding_console, "desk1")
    csrf = desk.locator('meta[name="csrf-token"]').get_attribute("content")
    form = {"member": "m_sam", "name": "Sam", "days": "365"}
    refused = desk.request.post(f"{carding_console.url}/cards", form=form, headers={"X-CSRF-Token": csrf or ""})
    assert refused.status == 403 and "trainer" in refused.json()["error"]
    trainer = sign_in(browser, carding_console, "trainer1")
    no_token = trainer.request.post(f"{carding_console.url}/cards", form=form)
    assert no_token.status == 403 and "CSRF" in no_token.json()["error"]
    assert b"image/png" not in no_token.body()


def test_without_a_signing_key_the_page_says_to_use_the_cli(browser, console: ConsoleProcess):
    page = sign_in(browser, console, "trainer1")
    page.goto(f"{console.url}/members")
    page.get_by_label("Member id").fill("m_sam")
    page.get_by_label("Name on the card").fill("Sam")
    page.get_by_role("button", name="Issue card", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("This console has no signing key")


def test_the_words_on_a_card_are_in_the_members_language_else_the_sites_default(
        browser, broker, carding_console: ConsoleProcess, keyring: Keyring):
    """Léa's profile says French: her card's title is French. Sam's says nothing: the site's default (German,
    the first of the site config's `languages`). The page's own words, for staff, stay English."""
    publish(broker, site_config_set("testgym"), json.dumps({"languages": ["de", "en", "fr"]}), retain=True)
    for member, name, language in (("m_lea", "Léa", "fr"), ("m_sam", "Sam", None)):
        profile = MemberProfile(member=member, name=name, rev=1, updated=1_700_000_000.0, language=language)
        publish(broker, member_profile("testgym", member), profile.model_dump_json(), retain=True)
    page = sign_in(browser, carding_console, "trainer1")
    for query, name, printed in (("lea", "Léa", "Presse à cuisses — scannez pour commencer"),
                                 ("sam", "Sam", "Beinpresse — zum Starten scannen")):
        page.goto(f"{carding_console.url}/members?q={query}")
        page.get_by_role("button", name=f"Issue a card for {name}").click()
        expect(page.get_by_role("status")).to_contain_text(f"A new card for {name} is ready")
        expect(page.locator("[data-card-words]")).to_have_text(
            f"Printed on the card, in the member's language: {printed}")
        card = page.get_by_role("img", name=re.compile(rf"^Member card of {name} "))
        texts = _decode(card.screenshot())
        assert isinstance(verify_code(texts[0], TrustedKeys.load(keyring.trusted), now=time.time()), Admitted)
