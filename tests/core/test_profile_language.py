"""A language a member taps is held with their settings until published, and survives a cache made before
members had languages."""

import sqlite3

from kiosk.contract.profile import MachineSettings, MemberProfile
from kiosk.core.profiles.cache import ProfileBook, with_settings

SETTINGS = MachineSettings(backrest_notch=3, max_depth_mm=320, target_depth_mm=300, top_mm=40)
DEEPER = SETTINGS.model_copy(update={"backrest_notch": 4})


def test_a_cache_from_before_languages_keeps_its_held_saves(tmp_path):
    path = tmp_path / "profiles.sqlite3"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE pending (member TEXT NOT NULL, model TEXT NOT NULL, name TEXT NOT NULL, "
                "settings TEXT NOT NULL, PRIMARY KEY (member, model))")
    old.execute("INSERT INTO pending VALUES ('m_sam', 'generic-45', 'Sam', ?)", (SETTINGS.model_dump_json(),))
    old.commit()
    old.close()
    book = ProfileBook(path)
    try:
        [held] = book.pending()
        assert (held.member, held.settings, held.language) == ("m_sam", SETTINGS, None)
    finally:
        book.close()


def test_a_tapped_language_stays_held_when_the_settings_change_before_publishing(tmp_path):
    book = ProfileBook(tmp_path / "profiles.sqlite3")
    try:
        book.hold("m_sam", "Sam", "generic-45", SETTINGS, "de")
        book.hold("m_sam", "Sam", "generic-45", DEEPER)  # a later save without a tap keeps the tap
        [held] = book.pending()
        assert (held.settings, held.language) == (DEEPER, "de")
    finally:
        book.close()


def test_the_next_revision_carries_the_language_and_keeps_the_old_one_otherwise():
    before = MemberProfile(member="m_sam", name="Sam", rev=4, updated=1.0, language="fr",
                           machines={"generic-45": SETTINGS})
    tapped = with_settings(before, "m_sam", "Sam", "generic-45", SETTINGS, 2.0, "es")
    assert (tapped.rev, tapped.language, tapped.machines) == (5, "es", before.machines)
    assert with_settings(before, "m_sam", "Sam", "generic-45", DEEPER, 2.0).language == "fr"
    assert with_settings(None, "m_new", "New", "generic-45", SETTINGS, 2.0, "de").language == "de"
