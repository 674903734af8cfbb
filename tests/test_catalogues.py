"""The member's languages: every catalogue complete and checked by GNU msgfmt, every English message of the
code in every catalogue, plurals and numbers as each language writes them."""

import shutil
import subprocess
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from kiosk.contract.events import SetEnd
from kiosk.words import language, wording
from kiosk.words.event_lines import EventLines

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = sorted(language.LOCALE_DIR.glob("*/LC_MESSAGES/kiosk.po"))
LANGS = [p.parent.parent.name for p in CATALOGUES]


def code_messages(root: Path = ROOT) -> set[tuple[str | None, str]]:
    """Every message id in the code, extracted as `pybabel extract -F babel.cfg` does."""
    with (root / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    for _file, _line, message, _comments, context in extract_from_dir(
            root, method_map, options_map, keywords={"_": None, "N_": None, "ngettext": (1, 2),
                                                    "pgettext": ((1, "c"), 2)}):
        found.add((context, message if isinstance(message, str) else message[0]))
    return found


def test_the_four_languages_have_catalogues():
    assert {"en", "de", "es", "fr"} <= set(LANGS)


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext's msgfmt is a Debian package of the bootstrap")
@pytest.mark.parametrize("po", CATALOGUES, ids=LANGS)
def test_msgfmt_finds_the_catalogue_complete_and_valid(po, tmp_path):
    run = subprocess.run(["msgfmt", "--check", "--statistics", "-o", str(tmp_path / "kiosk.mo"), str(po)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    # msgfmt names fuzzy and untranslated entries only when there are some.
    assert "fuzzy" not in run.stderr and "untranslated" not in run.stderr, run.stderr
    assert "translated message" in run.stderr


@pytest.mark.parametrize("po", CATALOGUES, ids=LANGS)
def test_every_english_message_of_the_code_is_in_the_catalogue(po):
    with po.open("rb") as f:
        catalogue = read_po(f)
    translated = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in catalogue
                  if m.id and "fuzzy" not in m.flags and all(m.string if isinstance(m.string, tuple) else [m.string])}
    in_code = code_messages()
    assert len(in_code) > 100  # the extraction really read wording.py
    assert in_code - translated == set(), "run pybabel extract/update and translate (docs/languages.md)"


def test_a_new_english_message_is_caught(tmp_path):
    """The check above fails for a sentence added to the code but to no catalogue."""
    (tmp_path / "kiosk").mkdir()
    (tmp_path / "kiosk" / "new.py").write_text('from kiosk.words.language import N_\nX = N_("Brand new line")\n')
    shutil.copy(ROOT / "babel.cfg", tmp_path / "babel.cfg")
    new = code_messages(tmp_path)
    assert (None, "Brand new line") in new
    with CATALOGUES[0].open("rb") as f:
        assert (None, "Brand new line") in new - {(m.context, m.id) for m in read_po(f)}


def test_plurals_follow_each_language():
    with language.speaking("en"):
        assert [wording.reps(1), wording.reps(2)] == ["1 rep", "2 reps"]
    with language.speaking("de"):
        assert [wording.reps(1), wording.sets(2)] == ["1 Wiederholung", "2 Sätze"]
    with language.speaking("fr"):
        # French counts zero as singular.
        assert [wording.reps(0), wording.reps(3)] == ["0 répétition", "3 répétitions"]


def test_numbers_are_written_as_the_locale_writes_them():
    with language.speaking("de"):
        assert wording.seconds(2.46) == "2,5 s"
    with language.speaking("en"):
        assert wording.seconds(2.46) == "2.5 s"


def test_one_word_two_meanings_translate_apart():
    """"Down" the lowering time and "Down the leg" the pain are different messages."""
    with language.speaking("de"):
        assert wording.set_stats(SetEnd(ts=1, session="s", set_number=1, reps=1, max_depth_mm=200, liftoffs=0),
                                 [])[3].startswith("Ablassen")
        assert wording.tr(dict(wording.PAIN_KINDS)["radiating"]) == "Ins Bein ziehend"


@pytest.mark.parametrize(("tag", "used"), [("de", "de"), ("de-AT", "de"), ("es-MX", "es"), ("pl", "en"),
                                           ("", "en"), (None, "en"), ("no such tag!", "en")])
def test_a_bcp47_tag_falls_to_its_catalogue_or_the_default(tag, used):
    assert language.supported(tag) == used


def test_the_language_is_per_context_and_the_default_is_english():
    """The operators' tools never switch: outside `speaking`, lines stay English."""
    lines = EventLines()
    stopped = SetEnd(ts=1, session="s", set_number=2, reps=1, max_depth_mm=240, liftoffs=2, stopped=True)
    with language.speaking("de"):
        german = lines.describe(stopped)
    assert german is not None and german.startswith("Satz 2 abgebrochen: 1 Wiederholung")
    assert lines.describe(stopped) == lines.describe(stopped)
    english = lines.describe(stopped)
    assert english is not None and english.startswith("set 2 stopped: 1 rep, deepest 240 mm, 2 lift-offs.")
    assert language.current() == "en"


def test_a_catalogue_without_its_compiled_file_still_speaks(tmp_path, monkeypatch):
    """A checkout that skipped the compile step reads the .po, not silent English."""
    for lang in ("de",):
        folder = tmp_path / lang / "LC_MESSAGES"
        folder.mkdir(parents=True)
        shutil.copy(language.LOCALE_DIR / lang / "LC_MESSAGES" / "kiosk.po", folder / "kiosk.po")
    monkeypatch.setattr(language, "LOCALE_DIR", tmp_path)
    language.catalogue.cache_clear()
    try:
        assert language.catalogue("de").gettext("Leg press") == "Beinpresse"
    finally:
        language.catalogue.cache_clear()


def test_a_profile_keeps_a_bcp47_language_and_old_profiles_still_load():
    from pydantic import ValidationError

    from kiosk.contract.profile import MemberProfile

    old = MemberProfile.model_validate({"member": "m_sam", "rev": 3, "updated": 1.0})
    assert old.language is None
    assert MemberProfile.model_validate({"member": "m_sam", "rev": 4, "updated": 1.0,
                                         "language": "de-AT"}).language == "de-AT"
    for bad in ("", "deutsch please", "de_AT", "x" * 40, "<script>"):
        with pytest.raises(ValidationError):
            MemberProfile.model_validate({"member": "m_sam", "rev": 4, "updated": 1.0, "language": bad})


def test_the_site_offers_languages_the_first_being_the_default():
    from pydantic import ValidationError

    from kiosk.contract.config import KioskConfig

    assert KioskConfig().languages == ["en"]
    assert KioskConfig.model_validate({"languages": ["de", "en"]}).languages[0] == "de"
    for bad in ([], ["de", "DE"], ["de", "not a tag"], ["x" * 36], ["en"] * 13):
        with pytest.raises(ValidationError):
            KioskConfig.model_validate({"languages": bad})
    # A first language without a catalogue reads English rather than nothing.
    assert language.supported(None, "pl") == "en" and language.supported("pl", "de") == "de"
