"""Every member in their own language, in the real window (issue 25): one tap on the attract screen switches
every label at once, the member who scans next keeps it in their profile, and no label's text runs out of
its box in any language at 800x480, 1024x600 or 1280x800."""

import json
import os
import time
from pathlib import Path

import pytest
from kivy.core.text import Label as CoreLabel
from kivy.uix.label import Label

from kiosk.contract.events import CueRaised, ScanRejected
from kiosk.contract.profile import MAX_VISITS, MemberProfile, Visit
from kiosk.contract.topics import site_config_set
from kiosk.core.snapshot import OperatorNotice, ScanFeedback
from kiosk.dev.broker import publish
from kiosk.words import wording
from kiosk.words.language import speaking
from tests.ui.members import MODEL, SAVED, start_member

pytestmark = pytest.mark.ui

SIZES = ((800, 480), (1024, 600), (1280, 800))
SITE_LANGUAGES = ["de", "en", "es", "fr"]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# A member with a full history: the longest "last time" line and the visit chart with its words must fit too.
REGULAR = SAVED.model_copy(update={"history": [
    Visit(date=f"2026-11-{day:02d}", sets=3, reps=30, load_kg=100 + 2.5 * (day % 4), best_reps=10,
          best_mean_velocity_mps=0.45) for day in range(1, MAX_VISITS + 1)]})


def word_width(label: Label, word: str) -> float:
    text = CoreLabel(text=word, font_size=label.font_size, font_name=label.font_name, bold=label.bold)
    text.refresh()
    return float(text.texture.size[0])


def overflowing(root) -> list[tuple[str, tuple, tuple]]:
    """Labels whose rendered text is larger than their box (a pixel of rounding allowed), or that wrap
    inside a word ("Françai / s") because one word is wider than the width they wrap at."""
    found = []
    for widget in root.walk(restrict=True):
        if not isinstance(widget, Label) or not widget.text.strip() or widget.opacity == 0:
            continue
        if widget.width <= 1 or widget.height <= 1:
            continue
        widget.texture_update()
        width, height = widget.texture_size
        if width > widget.width + 1 or height > widget.height + 1:
            found.append((widget.text, tuple(widget.size), (width, height)))
        wrap_at = widget.text_size[0]
        if wrap_at and any(word_width(widget, word) > wrap_at + 1 for word in widget.text.split()):
            found.append((widget.text, tuple(widget.size), ("a word wider than", wrap_at)))
    return found


@pytest.fixture
def four_languages(fresh):
    publish(fresh.broker, site_config_set(fresh.kiosk.settings.site),
            json.dumps({"version": "languages", "languages": SITE_LANGUAGES}))
    fresh.driver.until(lambda: list(fresh.app.languages) == SITE_LANGUAGES, what="the site's languages")
    yield fresh
    publish(fresh.broker, site_config_set(fresh.kiosk.settings.site), json.dumps({"version": "default"}))
    fresh.driver.until(lambda: list(fresh.app.languages) == ["en"], what="English only again")
    fresh.app.forget_member()
    fresh.driver.set_size(800, 480)


def tap_language(ui, tag: str) -> None:
    bar = ui.app.screen(ui.current()).ids.languages
    [button] = [b for b in bar.children if b.tag == tag]
    ui.driver.tap(button)
    ui.driver.until(lambda: ui.app.language == tag, what=f"the screen in {tag}")


def test_one_tap_switches_the_attract_screen_at_once_and_the_next_member_keeps_it(four_languages):
    ui, d, app = four_languages, four_languages.driver, four_languages.app
    attract = app.screen("attract")
    bar = attract.ids.languages
    assert sorted(b.text for b in bar.children) == ["Deutsch", "English", "español", "français"] or \
        sorted(b.text.lower() for b in bar.children) == ["deutsch", "english", "español", "français"]
    texts = lambda: [w.text for w in attract.walk() if isinstance(w, Label)]  # noqa: E731
    assert "Leg press" in texts()
    tap_language(ui, "de")
    d.frames(2)
    assert "Beinpresse" in texts() and "Leg press" not in texts()
    assert any(t.endswith("Einstellungen auf der Skizze prüfen") for t in texts())
    tap_language(ui, "fr")
    d.frames(2)
    assert "Presse à cuisses" in texts()
    # Sam has no language in his profile: the one tapped before his scan is his, saved as a new rev.
    before = ui.kiosk.profiles.book.rev("m-lang")
    ui.scan(ui.keyring.code("m-lang", "Sam"))
    d.until(lambda: ui.current() in ("checklist", "settings"), what="Sam's first screen")
    d.until(lambda: (p := ui.kiosk.profiles.book.get("m-lang")) is not None and p.language == "fr"
            and p.rev > before, what="French saved to Sam's profile")
    assert app.language == "fr"
    assert app.screen("checklist").rows[0].title == "Talons à plat"


def show_summary(app) -> None:
    """The busiest summary: a stopped set with every suggestion, its stats and bars."""
    from kiosk.contract.events import RepDone, SetEnd

    reps = [RepDone(ts=1, session="s", rep=i, depth_mm=240 + i, eccentric_s=2.4, concentric_s=1.3)
            for i in range(1, 9)]
    end = SetEnd(ts=9, session="s", set_number=2, reps=8, max_depth_mm=248, liftoffs=2, stopped=True,
                 suggestions=list(wording.STOP_SUGGESTIONS))
    app.screen("summary").show_set(end, reps, ["too_deep", "lockout"])


def show_session_summary(app) -> None:
    """The session's summary after two sets: its own bars title, stats, today against last time, the load for
    next time with its longest reason, and the standing-up tip."""
    from kiosk.contract.events import RepDone, SessionEnd, SetEnd
    from kiosk.contract.profile import Visit
    from kiosk.core.snapshot import VisitDone
    from kiosk.core.training.session import SetRecord

    reps = (RepDone(ts=1, session="s", rep=1, depth_mm=241, eccentric_s=2.4, concentric_s=1.3),)
    sets = [SetRecord(end=SetEnd(ts=n, session="s", set_number=n, reps=1, max_depth_mm=241, liftoffs=0),
                      reps=reps, cues=("too_deep",)) for n in (1, 2)]
    end = SessionEnd(ts=9, session="s", reason="logout", sets=2, reps=2, member="m", duration_s=600,
                     max_depth_mm=241, liftoffs=0)
    done = VisitDone(session="s", member="m", today=Visit(date="2026-12-06", sets=2, reps=20, load_kg=182.5,
                                                         best_reps=10, best_mean_velocity_mps=0.48),
                     before=Visit(date="2026-12-01", sets=2, reps=20, load_kg=180, best_reps=10,
                                  best_mean_velocity_mps=0.46),
                     next_load_kg=185, why="all_sets_done", target_reps=10)
    app.screen("summary").show_session(end, sets[-1], sets=sets, done=done)


# The member's screens, each as the member sees it; the pain screen is reached only by a real pain report.
SCREENS = ("attract", "settings", "checklist", "set", "summary", "session summary")


def test_no_label_overflows_its_box_in_any_language_at_any_size(four_languages):
    ui, d, app = four_languages, four_languages.driver, four_languages.app
    problems = []
    for width, height in SIZES:
        d.set_size(width, height)
        for tag in SITE_LANGUAGES:
            if ui.kiosk.session is None:
                d.until(lambda: ui.current() == "attract", what="attract")
            app.go("attract")
            tap_language(ui, tag)
            start_member(ui, f"m-fit-{tag}", settings=REGULAR)
            d.until(lambda tag=tag: app.language == tag, what="the member keeps the language tapped")
            for name in SCREENS:
                if name == "summary":
                    show_summary(app)
                if name == "session summary":
                    show_session_summary(app)
                screen = name.split()[-1]
                app.go(screen)
                d.until(lambda screen=screen: ui.current() == screen, what=name)
                d.frames(4)
                problems += [(tag, width, height, name, *p) for p in overflowing(app.screen(screen))]
                if screen == "settings":  # every setting in view, none scrolled away by the language bar
                    rows = app.screen("settings").ids.rows
                    if rows.height > rows.parent.height + 1:
                        problems.append((tag, width, height, name, "rows scroll", rows.height, rows.parent.height))
                if tag == "de" and os.environ.get("LEGPRESS_SCREENSHOTS"):
                    d.screenshot(str(SHOTS / f"de-{name.replace(' ', '-')}-{width}x{height}.png"))
            ui.kiosk.end_session("logout")
            d.until(lambda: ui.kiosk.session is None, what="session closed")
            app.forget_member()
    assert problems == [], "\n".join(map(str, problems))


def test_a_refused_scan_is_told_in_the_screen_language_and_follows_a_tap(four_languages, events):
    """Why a code was refused, on the attract screen in its language, and again in the next one tapped while
    it is still up; `scan_rejected` keeps its English reason on the wire."""
    ui, d, app = four_languages, four_languages.driver, four_languages.app
    attract = app.screen("attract")
    tap_language(ui, "de")
    before = len(ui.screen.items)
    ui.scan("this-is-not-a-member-code")
    feedback = ui.screen.wait_for(lambda m: isinstance(m, ScanFeedback) and not m.accepted
                                  and any(seen is m for seen in ui.screen.items[before:]))
    label = attract.ids.feedback
    with speaking("de"):
        german = feedback.text()
    assert german != feedback.message, "the reason has a German catalogue entry"
    d.until(lambda: label.text == german, what="the reason in German")
    tap_language(ui, "fr")
    with speaking("fr"):
        french = feedback.text()
    d.until(lambda: label.text == french, what="the reason still up, now in French")
    assert french not in (german, feedback.message)
    rejected = events.wait_for_event(ScanRejected)
    assert rejected.reason in wording.SCAN_REFUSED
    assert feedback.message == wording.SCAN_REFUSED[rejected.reason]


def test_a_stop_up_follows_a_tap_and_a_goodbye_stays_in_the_leaving_members_language(four_languages):
    """A stop and a message already up are worded again when the member taps another language; their goodbye
    stays in their language on the attract screen (back in the site's default) until someone taps one."""
    ui, d, app = four_languages, four_languages.driver, four_languages.app
    profile = MemberProfile(member="m-lang-es", name="Pia", rev=1, updated=time.time(), language="es",
                            machines={MODEL: SAVED})
    publish(ui.broker, ui.kiosk.topics.profile("m-lang-es"), profile.model_dump_json(), retain=True)
    d.until(lambda: ui.kiosk.inbox.call(lambda: ui.kiosk.profiles.book.get("m-lang-es")) is not None,
            what="Pia's profile")
    ui.scan(ui.keyring.code("m-lang-es", "Pia"))
    d.until(lambda: ui.current() == "settings" and app.language == "es", what="Pia's Spanish")

    app.on_core(CueRaised(ts=time.time(), session=app.session_id, cue="liftoff_lumbar", severity="stop"), 0.0)
    d.until(lambda: app.stop_overlay.shown, what="the stop")
    # The kiosk's own notice (its storage failing), as the core sends it.
    app.on_core(OperatorNotice(kind="message", text=wording.STORAGE_TROUBLE, seconds=30), 0.0)
    d.frames(2)
    in_spanish = (app.stop_overlay.headline, app.stop_overlay.detail, app.toast.text)
    assert in_spanish[0] == "Serie detenida"
    app.choose_language("de")  # what the language bar's button calls
    d.frames(2)
    with speaking("de"):
        expected = (*wording.cue_text("liftoff_lumbar", "stop"), wording.tr(wording.STORAGE_TROUBLE),
                    wording.tr(wording.STOP_WORD))
    assert (app.stop_overlay.headline, app.stop_overlay.detail, app.toast.text) == expected[:3]
    assert expected[3] == "STOPP" and "STOPP" in [w.text for w in app.stop_overlay.walk() if isinstance(w, Label)]
    assert all(new != old for new, old in zip(expected, in_spanish, strict=False))
    app.stop_overlay.dismiss()
    app.toast.hide()

    app.choose_language("es")
    ui.scan(ui.keyring.code("m-lang-es", "Pia"))  # the same code again: she logs out
    label = app.screen("attract").ids.feedback
    d.until(lambda: ui.current() == "attract" and label.text, what="her goodbye")
    assert app.language == "de", "the screen is back in the site's default"
    assert label.text == "Adiós, Pia. ¡Hasta la próxima!"
    tap_language(ui, "fr")
    d.until(lambda: label.text == "Au revoir, Pia. À la prochaine !", what="the goodbye follows the tap")


def test_a_member_without_a_name_is_called_one_in_the_screen_language(four_languages):
    """A plain membership id carries no name, nor does this profile: the corner of the member's screens calls
    them a member, in the screen's language, and again after a tap."""
    ui, d, app = four_languages, four_languages.driver, four_languages.app
    publish(ui.broker, site_config_set(ui.kiosk.settings.site),
            json.dumps({"version": "plain-ids", "languages": SITE_LANGUAGES, "member_id_pattern": "gym[0-9]{6}"}))
    d.until(lambda: ui.kiosk.config.member_id_pattern == "gym[0-9]{6}", what="plain ids accepted")
    tap_language(ui, "es")
    profile = MemberProfile(member="gym424242", name="", rev=1, updated=time.time(), machines={MODEL: SAVED})
    publish(ui.broker, ui.kiosk.topics.profile("gym424242"), profile.model_dump_json(), retain=True)
    d.until(lambda: ui.kiosk.inbox.call(lambda: ui.kiosk.profiles.book.get("gym424242")) is not None,
            what="the profile")
    ui.scan("gym424242")
    d.until(lambda: ui.current() == "settings", what="the settings screen")
    labels = lambda: [w.text for w in app.screen("settings").walk() if isinstance(w, Label)]  # noqa: E731
    d.until(lambda: "Socio" in labels(), what="called a member in Spanish")
    app.choose_language("fr")
    d.until(lambda: "Membre" in labels() and "Socio" not in labels(), what="...and in French after a tap")


def test_the_maintenance_screen_follows_the_staff_members_tap_fits_and_forgets_it_for_the_next_member(
        four_languages):
    """Robin taps a language on the maintenance screen: its heading, readings and buttons switch at once, fit
    their boxes at every size, and Robin's choice is not the next member's."""
    ui, d, app = four_languages, four_languages.driver, four_languages.app
    ui.scan(ui.keyring.code("tech", "Robin", role="staff"))
    d.until(lambda: ui.current() == "maintenance", what="maintenance screen")
    try:
        robin_taps_languages(ui)
    finally:
        if app.mode == "maintenance":
            d.set_size(800, 480)
            ui.kiosk.leave_maintenance()
            d.until(lambda: ui.current() == "attract" and app.mode == "idle", what="maintenance left")
    assert app.language == "de", "the next member starts in the site's default, not Robin's Spanish"
    start_member(ui, "m-after-staff")  # her profile names no language (rev 1)
    d.frames(10)
    assert app.language == "de"
    profile = ui.kiosk.profiles.book.get("m-after-staff")
    assert profile is not None and profile.language is None and profile.rev == 1, "nothing of Robin's saved"


def robin_taps_languages(ui) -> None:
    d, app = ui.driver, ui.app
    m = app.screen("maintenance")
    assert app.language == "de", "maintenance opens in the site's default"
    labels = lambda: [w.text for w in m.walk() if isinstance(w, Label)]  # noqa: E731
    tap_language(ui, "fr")
    d.until(lambda: "Maintenance" in labels() and m.ids.self_test.text == "Autotest", what="French")
    assert m.ids.done.text == "Terminé" and "Annuler la dernière étape" in labels()
    problems = []
    for width, height in SIZES:
        d.set_size(width, height)
        for tag in SITE_LANGUAGES:
            app.choose_language(tag)
            d.frames(4)
            problems += [(tag, width, height, *p) for p in overflowing(m)]
    assert problems == [], "\n".join(map(str, problems))
    d.set_size(800, 480)
    tap_language(ui, "es")
    d.until(lambda: m.ids.done.text == "Listo", what="Spanish")
    d.tap(m.ids.done)
    d.until(lambda: ui.current() == "attract" and app.mode == "idle", what="maintenance left by Done")
