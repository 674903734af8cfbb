"""`legpress-fleet keys` and `legpress-fleet members`, run as an operator would."""

import io
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

import pytest
import zxingcpp
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from PIL import Image

from kiosk.codes.member_codes import TrustedKeys, sign_code, verify_code
from kiosk.contract.base import encode
from kiosk.contract.member_code import MemberClaims
from kiosk.contract.profile import MemberProfile
from kiosk.contract.topics import member_profile
from kiosk.dev.broker import Broker, publish
from kiosk.fleet.cards import MARGIN, TITLE, TITLE_PX, card_png
from kiosk.fleet.cli import main
from tests.support.nothing_sent import all_before_a_marker

SVG = "{http://www.w3.org/2000/svg}"


def fleet(*argv: str) -> int:
    """Run the CLI in this process; argparse's own exits count as return codes."""
    try:
        return main(list(argv))
    except SystemExit as stop:
        return stop.code


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "keys"
    assert fleet("keys", "new", "--kid", "main", "--dir", str(folder)) == 0
    return folder


def issue(key_dir: Path, out: Path, *extra: str) -> int:
    return fleet("members", "issue", "--key", str(key_dir / "main.key"), "--member", "anna", "--name", "Anna",
                 "--out", str(out), *extra)


def test_keys_new_writes_a_private_key_only_its_owner_can_read_and_a_public_key(tmp_path: Path, capsys):
    assert fleet("keys", "new", "--kid", "spring", "--dir", str(tmp_path / "new")) == 0
    private, public = tmp_path / "new" / "spring.key", tmp_path / "new" / "spring.pem"
    assert private.stat().st_mode & 0o777 == 0o600
    assert public.stat().st_mode & 0o777 == 0o644
    assert isinstance(serialization.load_pem_private_key(private.read_bytes(), None), Ed25519PrivateKey)
    assert isinstance(serialization.load_pem_public_key(public.read_bytes()), Ed25519PublicKey)
    assert b"BEGIN PRIVATE KEY" in private.read_bytes() and b"BEGIN PUBLIC KEY" in public.read_bytes()
    assert "spring.pem" in capsys.readouterr().out


def test_keys_new_refuses_to_overwrite_an_existing_key(key_dir: Path, capsys):
    before = (key_dir / "main.key").read_bytes()
    assert fleet("keys", "new", "--kid", "main", "--dir", str(key_dir)) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and err.count("\n") == 1
    assert (key_dir / "main.key").read_bytes() == before


def test_keys_new_refuses_a_half_existing_pair(key_dir: Path, capsys):
    (key_dir / "main.key").unlink()
    assert fleet("keys", "new", "--kid", "main", "--dir", str(key_dir)) == 2
    assert not (key_dir / "main.key").exists()


def test_keys_new_refuses_a_key_id_the_contract_does_not_allow(tmp_path: Path, capsys):
    assert fleet("keys", "new", "--kid", "Main Key", "--dir", str(tmp_path)) == 2
    assert "key id 'Main Key' is not a valid id" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_issued_code_is_printed_and_verifies_with_the_public_keys(key_dir: Path, tmp_path: Path, capsys):
    assert issue(key_dir, tmp_path / "cards", "--role", "staff", "--days", "30") == 0
    code = capsys.readouterr().out.strip()
    assert code.startswith("LP1.") and "\n" not in code
    now = time.time()
    verdict = verify_code(code, TrustedKeys.load(key_dir), now)
    assert verdict.accepted
    claims = verdict.claims
    assert (claims.sub, claims.name, claims.role, claims.kid) == ("anna", "Anna", "staff", "main")
    assert claims.exp == pytest.approx(now + 30 * 86400, abs=5)
    assert verify_code(code, TrustedKeys.load(key_dir), now + 31 * 86400).reason == "expired"


def test_printed_card_png_decodes_back_to_the_issued_code(key_dir: Path, tmp_path: Path, capsys):
    assert issue(key_dir, tmp_path / "cards") == 0
    code = capsys.readouterr().out.strip()
    card = Image.open(tmp_path / "cards" / "anna.png")
    assert card.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    found = zxingcpp.read_barcodes(card)
    assert [(b.format, b.text) for b in found] == [(zxingcpp.BarcodeFormat.QRCode, code)]


def test_longest_possible_code_still_prints_as_a_card_that_scans():
    claims = MemberClaims(sub="m" * 32, name="Ł" * 40, role="staff", iat=1_760_000_000.123456,
                          exp=1_860_000_000.654321, kid="k" * 32)
    code = sign_code(claims, Ed25519PrivateKey.generate())
    card = Image.open(io.BytesIO(card_png(code, claims.sub, claims.name)))
    assert [b.text for b in zxingcpp.read_barcodes(card)] == [code]


def test_printed_card_svg_holds_the_title_name_id_and_code(key_dir: Path, tmp_path: Path, capsys):
    assert issue(key_dir, tmp_path / "cards") == 0
    root = ET.parse(tmp_path / "cards" / "anna.svg").getroot()
    assert root.tag == f"{SVG}svg"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts == [TITLE, "Anna", "anna"]
    assert root.find(f".//{SVG}path") is not None


def test_a_card_for_a_member_who_reads_spanish_says_so_in_spanish(key_dir: Path, tmp_path: Path, capsys):
    assert issue(key_dir, tmp_path / "cards", "--language", "es-MX") == 0
    code = capsys.readouterr().out.strip()
    root = ET.parse(tmp_path / "cards" / "anna.svg").getroot()
    assert [t.text for t in root.iter(f"{SVG}text")] == ["Prensa de piernas — escanea para empezar", "Anna", "anna"]
    card = Image.open(tmp_path / "cards" / "anna.png")
    assert [b.text for b in zxingcpp.read_barcodes(card)] == [code]


@pytest.mark.parametrize("language", ["de", "en", "es", "fr"])
def test_the_title_fits_across_the_card_in_every_language(language: str):
    """The title's ink stays inside the card's side margins: longer titles print smaller, never cut off."""
    code = sign_code(MemberClaims(sub="anna", name="Anna", role="member", iat=1_760_000_000, kid="k"),
                     Ed25519PrivateKey.generate())
    card = Image.open(io.BytesIO(card_png(code, "anna", "Anna", language))).convert("L")
    band = card.crop((0, MARGIN, card.width, MARGIN + TITLE_PX))
    inked = [x for x in range(band.width) if min(band.crop((x, 0, x + 1, band.height)).getdata()) < 128]
    assert inked, "the title is printed"
    assert min(inked) >= MARGIN // 2 and max(inked) < card.width - MARGIN // 2


def test_name_with_markup_characters_stays_text_in_the_svg(key_dir: Path, tmp_path: Path):
    assert fleet("members", "issue", "--key", str(key_dir / "main.key"), "--member", "tom", "--name", "Tom & <Jo>",
                 "--out", str(tmp_path)) == 0
    root = ET.parse(tmp_path / "tom.svg").getroot()
    assert "Tom & <Jo>" in [t.text for t in root.iter(f"{SVG}text")]


def test_expires_date_keeps_the_code_valid_through_that_day(key_dir: Path, tmp_path: Path, capsys):
    assert issue(key_dir, tmp_path, "--expires", "2099-12-31") == 0
    claims = verify_code(capsys.readouterr().out, TrustedKeys.load(key_dir), time.time()).claims
    assert claims.exp == datetime(2100, 1, 1).timestamp()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--days", "0"], "--days"),
        (["--days", "ten"], "--days"),
        (["--days", "3", "--expires", "2099-01-01"], "not allowed with"),
        (["--expires", "2001-01-01"], "already past"),
        (["--expires", "next tuesday"], "not an ISO date"),
        (["--role", "admin"], "invalid choice"),
        (["--member", "Anna Smith"], "member 'Anna Smith' is not a valid id"),
        (["--name", "A" * 41], "at most 40 characters"),
        (["--name", "  "], "must be printable text"),
        (["--language", "tlh"], "'tlh' has no catalogue here"),
        (["--language", "../de"], "has no catalogue here"),
    ],
    ids=["zero days", "words for days", "days and expires", "past expiry", "not a date", "unknown role",
         "bad member id", "long name", "blank name", "language without catalogue", "language not a tag"],
)
def test_bad_issue_arguments_exit_2_with_one_line(key_dir: Path, tmp_path: Path, capsys, extra: list[str],
                                                  message: str):
    assert issue(key_dir, tmp_path / "cards", *extra) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.err.count("\n") == 1
    assert captured.out == ""
    assert not (tmp_path / "cards").exists()


def test_issuing_with_a_missing_or_public_key_file_exits_2(key_dir: Path, tmp_path: Path, capsys):
    common = ["members", "issue", "--member", "anna", "--name", "Anna", "--out", str(tmp_path)]
    assert fleet(*common, "--key", str(key_dir / "absent.key")) == 2
    assert "absent.key" in capsys.readouterr().err
    assert fleet(*common, "--key", str(key_dir / "main.pem")) == 2
    assert "main.pem" in capsys.readouterr().err


def test_missing_subcommand_or_argument_exits_2(capsys):
    assert fleet() == 2
    assert fleet("members", "issue", "--member", "anna") == 2
    assert "--key" in capsys.readouterr().err


def test_bad_input_from_the_shell_shows_no_traceback(tmp_path: Path):
    run = subprocess.run(
        [sys.executable, "-c", "import sys; from kiosk.fleet.cli import main; sys.exit(main())",
         "members", "issue", "--key", str(tmp_path / "none.key"), "--member", "anna", "--name", "Anna"],
        capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[2],
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr and run.stderr.count("\n") == 1
    assert run.stderr.startswith("legpress-fleet: error:")


def test_erase_removes_the_retained_profile_from_the_broker(broker: Broker, collect, capsys):
    topic = member_profile("gym1", "anna")
    profile = MemberProfile(member="anna", name="Anna", rev=3, updated=time.time())
    publish(broker, topic, encode(profile), retain=True)
    assert collect(topic).wait_for(lambda m: m.retain).payload == encode(profile)

    assert fleet("members", "erase", "--member", "anna", "--site", "gym1", "--broker", broker.url) == 0
    assert topic in capsys.readouterr().out

    late_subscriber = collect(topic)
    assert all_before_a_marker(broker, late_subscriber, topic) == []  # nothing retained


def test_erase_without_a_broker_fails_with_exit_1(capsys):
    assert fleet("members", "erase", "--member", "anna", "--site", "gym1", "--broker", "mqtt://127.0.0.1:9",
                 "--timeout", "0.5") == 1
    err = capsys.readouterr().err
    assert "could not connect" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--member", "Anna", "--site", "gym1", "--broker", "mqtt://localhost:1883"], "member 'Anna'"),
        (["--member", "anna", "--site", "gym/1", "--broker", "mqtt://localhost:1883"], "site 'gym/1'"),
        (["--member", "anna", "--site", "gym1", "--broker", "http://localhost"], "mqtt://"),
    ],
    ids=["bad member", "bad site", "bad broker url"],
)
def test_bad_erase_arguments_exit_2(capsys, args: list[str], message: str):
    assert fleet("members", "erase", *args) == 2
    assert message in capsys.readouterr().err
