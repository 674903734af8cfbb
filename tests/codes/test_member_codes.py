"""Member QR codes: what a kiosk accepts, and why it refuses everything else."""

import base64
import json
import logging
import shutil
import string
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.codes.member_codes import (
    MAX_CODE_CHARS,
    MESSAGES,
    PLAIN_ID_KID,
    Admitted,
    Refused,
    TrustedKeys,
    load_private_key,
    new_signing_key,
    sign_code,
    verify_code,
)
from kiosk.contract.member_code import MemberClaims
from kiosk.fleet.members import issue_code

NOW = 1_760_000_000.0
DAY = 86400.0
B64URL_ALPHABET = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
REASONS = {"bad_signature", "expired", "unknown_key", "malformed", "not_allowed"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hand_built(claims: dict | bytes, key: Ed25519PrivateKey) -> str:
    """A code made from the raw format with cryptography alone, not with the module under test."""
    body = claims if isinstance(claims, bytes) else json.dumps(claims).encode()
    return f"LP1.{b64(body)}.{b64(key.sign(body))}"


@pytest.fixture
def operator(tmp_path: Path) -> Path:
    """The operators' private key `main.key`, made the way `legpress-fleet keys new` makes it."""
    private_path, _ = new_signing_key("main", tmp_path / "operator")
    return private_path


@pytest.fixture
def trusted_dir(tmp_path: Path, operator: Path) -> Path:
    """A kiosk's trusted keys folder holding only the public half of `main`."""
    folder = tmp_path / "trusted"
    folder.mkdir()
    shutil.copy(operator.with_suffix(".pem"), folder / "main.pem")
    return folder


@pytest.fixture
def keys(trusted_dir: Path) -> TrustedKeys:
    return TrustedKeys.load(trusted_dir)


@pytest.fixture
def signing_key(operator: Path) -> Ed25519PrivateKey:
    return load_private_key(operator)


@pytest.fixture
def code(operator: Path) -> str:
    return issue_code(operator, "anna", "Anna", expires_at=NOW + 30 * DAY, now=NOW)


def claims_dict(**changes: object) -> dict:
    return {"sub": "anna", "name": "Anna", "role": "member", "iat": NOW, "exp": NOW + DAY, "kid": "main"} | changes


def test_code_issued_with_the_fleet_tool_lets_the_member_in(code: str, keys: TrustedKeys):
    verdict = verify_code(code, keys, NOW + 60)
    assert verdict.accepted
    expected = MemberClaims(sub="anna", name="Anna", role="member", iat=NOW, exp=NOW + 30 * DAY, kid="main")
    assert verdict.claims == expected
    assert "Anna" in verdict.message


def test_issued_code_follows_the_raw_format_and_verifies_with_plain_cryptography(code: str, trusted_dir: Path):
    prefix, body, signature = code.split(".")
    assert prefix == "LP1" and "=" not in code
    public_key = serialization.load_pem_public_key((trusted_dir / "main.pem").read_bytes())
    public_key.verify(unb64(signature), unb64(body))
    assert json.loads(unb64(body))["sub"] == "anna"


def test_code_built_by_hand_from_the_raw_format_is_accepted(signing_key: Ed25519PrivateKey, keys: TrustedKeys):
    verdict = verify_code(hand_built(claims_dict(role="staff"), signing_key), keys, NOW)
    assert verdict.accepted
    assert verdict.claims.role == "staff" and verdict.claims.kid == "main"


def test_surrounding_whitespace_from_a_scanner_is_ignored(code: str, keys: TrustedKeys):
    assert verify_code(f"  {code}\r\n", keys, NOW).accepted


def test_code_signed_by_another_key_under_a_trusted_kid_is_a_bad_signature(keys: TrustedKeys):
    forger = Ed25519PrivateKey.generate()
    verdict = verify_code(hand_built(claims_dict(kid="main"), forger), keys, NOW)
    assert (verdict.accepted, verdict.reason) == (False, "bad_signature")
    assert verdict.message == MESSAGES["bad_signature"]


def test_code_from_a_key_the_kiosk_does_not_have_is_an_unknown_key(tmp_path: Path, keys: TrustedKeys):
    other_site, _ = new_signing_key("other-site", tmp_path / "elsewhere")
    text = issue_code(other_site, "anna", "Anna", now=NOW)
    verdict = verify_code(text, keys, NOW)
    assert (verdict.accepted, verdict.reason) == (False, "unknown_key")
    assert "other-site" in verdict.detail


def changed_at(text: str, index: int, char: str) -> str:
    return text[:index] + char + text[index + 1:]


def claimed_kid(text: str) -> object:
    try:
        return json.loads(unb64(text.split(".")[1])).get("kid")
    except ValueError:
        return None


@pytest.mark.parametrize("part", ["claims", "signature"])
def test_every_one_character_change_of_a_code_is_refused(code: str, keys: TrustedKeys, part: str):
    start = code.index(".") + 1 if part == "claims" else code.rindex(".") + 1
    end = code.rindex(".") if part == "claims" else len(code)
    reasons = set()
    for index in range(start, end):
        for char in B64URL_ALPHABET:
            if char == code[index]:
                continue
            changed = changed_at(code, index, char)
            verdict = verify_code(changed, keys, NOW)
            assert not verdict.accepted, (index, char)
            if verdict.reason == "unknown_key":
                # The change rewrote the kid itself: no different from a foreign key's code.
                assert claimed_kid(changed) != "main", (index, char)
            else:
                assert verdict.reason == "bad_signature", (index, char, verdict.detail)
            reasons.add(verdict.reason)
    assert "bad_signature" in reasons


def test_changing_only_the_unused_bits_of_the_last_character_is_still_a_bad_signature(code: str, keys: TrustedKeys):
    # 64 signature bytes use 2 of the last character's 6 bits; flipping the lowest leaves the bytes as they were.
    changed = code[:-1] + B64URL_ALPHABET[B64URL_ALPHABET.index(code[-1]) ^ 1]
    assert unb64(changed.split(".")[2]) == unb64(code.split(".")[2])
    assert verify_code(changed, keys, NOW).reason == "bad_signature"


def test_a_character_outside_base64url_makes_the_code_malformed(code: str, keys: TrustedKeys):
    assert verify_code(changed_at(code, 10, "+"), keys, NOW).reason == "malformed"


def test_expired_code_is_refused_in_plain_words(signing_key: Ed25519PrivateKey, keys: TrustedKeys):
    text = hand_built(claims_dict(exp=NOW + DAY), signing_key)
    verdict = verify_code(text, keys, NOW + 2 * DAY)
    assert (verdict.accepted, verdict.reason) == (False, "expired")
    assert verdict.message == "This code has expired. Ask the front desk for a new one."


def test_expiry_allows_the_clock_leeway_and_no_more(signing_key: Ed25519PrivateKey, keys: TrustedKeys):
    text = hand_built(claims_dict(exp=NOW + DAY), signing_key)
    assert verify_code(text, keys, NOW + DAY + 59).accepted
    assert verify_code(text, keys, NOW + DAY + 61).reason == "expired"
    assert verify_code(text, keys, NOW + DAY + 61, leeway_s=0).reason == "expired"


def test_code_without_expiry_stays_valid(signing_key: Ed25519PrivateKey, keys: TrustedKeys):
    claims = claims_dict()
    del claims["exp"]
    assert verify_code(hand_built(claims, signing_key), keys, NOW + 3650 * DAY).accepted


def test_code_issued_in_the_future_is_not_allowed_yet(signing_key: Ed25519PrivateKey, keys: TrustedKeys):
    text = hand_built(claims_dict(iat=NOW + 3600, exp=NOW + DAY), signing_key)
    verdict = verify_code(text, keys, NOW)
    assert (verdict.accepted, verdict.reason) == (False, "not_allowed")
    assert "not valid yet" in verdict.message
    assert verify_code(text, keys, NOW + 3600 - 30).accepted


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \t\n",
        "LP1.",
        "LP1..",
        "LP1.abc",
        "LP1.a.b.c",
        "LP1.e30.!!!!",
        "LP1.e30." + "A" * 10,
        "LP1.e30." + "A" * 87,
        "LP1." + "A" * MAX_CODE_CHARS,
        "LP1.\x00\x01.\x02",
        "LP1.żółw.ąę",
    ],
    ids=lambda t: repr(t[:20]),
)
def test_text_that_is_not_shaped_like_a_code_is_malformed(text: str, keys: TrustedKeys):
    verdict = verify_code(text, keys, NOW)
    assert (verdict.accepted, verdict.reason) == (False, "malformed")
    assert verdict.message == MESSAGES["malformed"]


def test_unreadable_claims_under_a_trusted_signature_are_malformed(signing_key: Ed25519PrivateKey, keys: TrustedKeys):
    assert verify_code(hand_built(b"not json", signing_key), keys, NOW).reason == "malformed"
    assert verify_code(hand_built(b'["main"]', signing_key), keys, NOW).reason == "malformed"


def test_unreadable_claims_nobody_signed_are_a_bad_signature(keys: TrustedKeys):
    text = f"LP1.{b64(b'not json')}.{b64(bytes(64))}"
    assert verify_code(text, keys, NOW).reason == "bad_signature"


@pytest.mark.parametrize(
    "changes",
    [{"role": "admin"}, {"sub": "Anna"}, {"iat": "yesterday"}, {"exp": NOW - DAY}, {"extra": 1}, {"name": "x" * 41}],
    ids=["unknown role", "bad member id", "text time", "expiry before issue", "unknown field", "name too long"],
)
def test_signed_claims_that_break_the_contract_are_malformed(signing_key: Ed25519PrivateKey, keys: TrustedKeys,
                                                              changes: dict):
    verdict = verify_code(hand_built(claims_dict(**changes), signing_key), keys, NOW)
    assert (verdict.accepted, verdict.reason) == (False, "malformed")


def test_plain_membership_id_is_accepted_when_the_site_allows_it(keys: TrustedKeys):
    verdict = verify_code("m123456", keys, NOW, plain_id_pattern=r"m\d{6}")
    assert verdict.accepted
    assert verdict.claims == MemberClaims(sub="m123456", role="member", iat=NOW, kid=PLAIN_ID_KID)


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("m123456", None),
        ("m12345", r"m\d{6}"),
        ("M123456", r"M\d{6}"),
        ("m" + "1" * 40, r"m\d+"),
        ("https://example.com/join", r".*"),
        ("anna staff", r".*"),
    ],
    ids=["plain ids off", "pattern does not match", "not a contract id", "too long for an id", "a url", "spaces"],
)
def test_plain_text_the_site_does_not_allow_is_refused(keys: TrustedKeys, text: str, pattern: str | None):
    verdict = verify_code(text, keys, NOW, plain_id_pattern=pattern)
    assert (verdict.accepted, verdict.reason) == (False, "not_allowed")
    assert verdict.message


def test_trusted_keys_skip_files_that_are_not_ed25519_public_keys(tmp_path: Path, trusted_dir: Path,
                                                                  signing_key: Ed25519PrivateKey, caplog):
    (trusted_dir / "garbage.pem").write_text("hello")
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (trusted_dir / "rsa.pem").write_bytes(
        rsa_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    shutil.copy(tmp_path / "operator" / "main.key", trusted_dir / "private.pem")
    shutil.copy(trusted_dir / "main.pem", trusted_dir / "Bad Name.pem")
    with caplog.at_level(logging.WARNING, logger="kiosk.codes.member_codes"):
        keys = TrustedKeys.load(trusted_dir)
    assert keys.kids() == ["main"]
    warned = caplog.text
    for name in ("garbage.pem", "rsa.pem", "private.pem", "Bad Name.pem"):
        assert name in warned
    assert verify_code(hand_built(claims_dict(), signing_key), keys, NOW).accepted


def test_reload_picks_up_added_and_removed_keys(tmp_path: Path, trusted_dir: Path, keys: TrustedKeys):
    new_private, new_public = new_signing_key("spring", tmp_path / "ops2")
    text = issue_code(new_private, "bob", "Bob", now=NOW)
    assert verify_code(text, keys, NOW).reason == "unknown_key"
    shutil.copy(new_public, trusted_dir / "spring.pem")
    (trusted_dir / "main.pem").unlink()
    keys.reload()
    assert keys.kids() == ["spring"]
    assert verify_code(text, keys, NOW).accepted


def test_missing_trusted_keys_folder_refuses_codes_until_it_appears(tmp_path: Path, operator: Path, caplog):
    folder = tmp_path / "not-yet"
    with caplog.at_level(logging.WARNING, logger="kiosk.codes.member_codes"):
        keys = TrustedKeys.load(folder)
    assert len(keys) == 0 and "does not exist" in caplog.text
    text = issue_code(operator, "anna", "Anna", now=NOW)
    assert verify_code(text, keys, NOW).reason == "unknown_key"
    folder.mkdir()
    shutil.copy(operator.with_suffix(".pem"), folder / "main.pem")
    keys.reload()
    assert verify_code(text, keys, NOW).accepted


def test_reloading_an_unchanged_folder_does_not_warn_again(trusted_dir: Path, caplog):
    (trusted_dir / "garbage.pem").write_text("hello")
    with caplog.at_level(logging.WARNING, logger="kiosk.codes.member_codes"):
        keys = TrustedKeys.load(trusted_dir)
        for _ in range(5):
            keys.reload()
    assert caplog.text.count("garbage.pem") == 1
    assert keys.kids() == ["main"]


def test_signing_needs_an_ed25519_key():
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(TypeError, match="Ed25519"):
        sign_code(MemberClaims(sub="anna", iat=NOW, kid="main"), rsa_key)


def test_loading_a_public_key_as_the_signing_key_names_the_file(trusted_dir: Path):
    with pytest.raises(ValueError, match="main.pem"):
        load_private_key(trusted_dir / "main.pem")


def mutated(code: str) -> st.SearchStrategy[str]:
    """Valid codes with random damage: cut, extended, or with characters replaced."""
    positions = st.integers(0, len(code) - 1)
    return st.one_of(
        st.tuples(positions, st.characters()).map(lambda p: changed_at(code, p[0], p[1])),
        positions.map(lambda i: code[:i]),
        st.text().map(lambda tail: code + tail),
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_verify_never_raises_on_any_text(data: st.DataObject, keys: TrustedKeys, code: str):
    text = data.draw(
        st.one_of(
            st.text(),
            st.text(alphabet=B64URL_ALPHABET + ".").map(lambda t: "LP1." + t),
            st.text(min_size=MAX_CODE_CHARS - 5, max_size=MAX_CODE_CHARS + 5, alphabet=B64URL_ALPHABET),
            mutated(code),
        )
    )
    pattern = data.draw(st.sampled_from([None, r"m\d{6}", r".*"]))
    verdict = verify_code(text, keys, time.time(), plain_id_pattern=pattern)
    assert isinstance(verdict, Admitted | Refused)
    assert isinstance(verdict, Admitted) or verdict.reason in REASONS
    assert verdict.message
