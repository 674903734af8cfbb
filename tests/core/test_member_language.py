"""A member reads the kiosk in their profile's language: through a real broker and a real headless kiosk
process, a profile that says `de` gets German screen lines; a member without a language, or with one the kiosk
has no catalogue for, gets the site's default (the first of `languages`)."""

import json
import signal

from kiosk.contract.base import encode
from kiosk.contract.events import PainReport, SessionEnd, SessionStart
from kiosk.contract.kiosk import KioskStatus
from kiosk.contract.profile import MachineSettings, MemberProfile
from kiosk.dev.broker import publish
from tests.support.helpers import eventually
from tests.support.kiosk_harness import Keyring
from tests.support.kiosk_process import kiosk_env, start_kiosk

STATUS = "gym/v1/testgym/lp1/kiosk/status"
SAVES = "gym/v1/testgym/lp1/kiosk/profile"  # the kiosk's saves, for the site's profile desk
EVENTS = "gym/v1/testgym/lp1/kiosk/event"
SETTINGS = MachineSettings(backrest_notch=3, max_depth_mm=320, target_depth_mm=300, top_mm=40)


def test_a_member_whose_profile_says_de_reads_german_and_one_without_reads_the_default(broker, tmp_path, collect):
    # French first: the site's default. Codes read again at once are new scans here (Alex comes back).
    site = {"languages": ["fr", "de", "en"], "scan_repeat_s": 0}
    publish(broker, "gym/v1/testgym/config/set", json.dumps(site), retain=True)
    for member, name, lang in (("m_jonas", "Jonas", "de"), ("m_alex", "Alex", None), ("m_ola", "Ola", "pl")):
        profile = MemberProfile(member=member, name=name, rev=2, updated=1.0, language=lang,
                                machines={"generic-45": SETTINGS})
        publish(broker, f"gym/v1/testgym/members/{member}/profile", encode(profile), retain=True)
    keyring = Keyring(tmp_path)
    env = kiosk_env(broker.url, tmp_path / "data", LEGPRESS_TRUSTED_KEYS=str(keyring.trusted))
    status, events, saves = collect(STATUS), collect(EVENTS), collect(SAVES)
    log = tmp_path / "kiosk.log"
    proc = start_kiosk(env, log)
    try:
        assert proc.stdin is not None
        status.wait_for(lambda m: bool(m.payload) and m.decode(KioskStatus).state == "ready")
        for member, name in (("m_jonas", "Jonas"), ("m_alex", "Alex"), ("m_ola", "Ola")):
            proc.stdin.write((keyring.code(member, name) + "\n").encode())
            proc.stdin.flush()
            eventually(lambda member=member: any(isinstance(e, SessionStart) and e.member == member
                                                 for e in events.events()), what=f"{name}'s session")
            proc.stdin.write(b"/pain radiating\n/finish\n")
            proc.stdin.flush()
            eventually(lambda member=member: any(isinstance(e, SessionEnd) and e.member == member
                                                 for e in events.events()), what=f"{name}'s session end")
        eventually(lambda: log.read_text().count("screen: séance terminée (logout)") == 2, what="Ola's goodbye")
        text = log.read_text()
        assert sum(isinstance(e, PainReport) for e in events.events()) == 3
        # Jonas: German, from the catalogue, with German plurals; the payloads stayed English ids.
        assert ("screen: Schmerz gemeldet (radiating): Nicht weiterdrücken. Gewicht auf die Sicherheitsgriffe "
                "legen.") in text
        assert "screen: Training beendet (logout): 0 Sätze, 0 Wiederholungen. Bildschirm geleert." in text
        # Alex has no language, Ola's has no catalogue here: the site's default, French (0 is singular there).
        assert text.count("screen: douleur signalée (radiating) : Arrêtez de pousser.") == 2
        assert text.count("screen: séance terminée (logout) : 0 série, 0 répétition. Écran effacé.") == 2
        # The log's own lines and the payloads stay English.
        assert "session ended (logout)" not in text and "typed: finish pressed" in text

        # Alex taps German: saved to the profile as a new revision, and his lines are German at once.
        proc.stdin.write((keyring.code("m_alex", "Alex") + "\n").encode())
        proc.stdin.flush()
        eventually(lambda: sum(isinstance(e, SessionStart) and e.member == "m_alex" for e in events.events()) == 2,
                   what="Alex back at the machine")
        proc.stdin.write(b"/language de_DE\n/language tlh\n/language es\n/pain dull\n/finish\n")
        proc.stdin.flush()
        saved = saves.wait_for(lambda m: MemberProfile.model_validate_json(m.payload).member == "m_alex")
        profile = MemberProfile.model_validate_json(saved.payload)
        assert (profile.language, profile.rev, profile.machines["generic-45"]) == ("es", 3, SETTINGS)
        eventually(lambda: "screen: sesión terminada (logout): 0 series, 0 repeticiones." in log.read_text(),
                   what="Alex's goodbye in Spanish")
        text = log.read_text()
        assert "screen: dolor indicado (dull): Deja de empujar." in text
        assert text.count("typed: refused: /language takes one of de, en, es, fr") == 2
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


def test_a_member_whose_profile_says_de_hears_the_german_cue_files(broker, tmp_path, collect):
    """The simulator's butt-wink set, over a real broker, for a member whose profile says `de`: every warn and
    stop cue is the German file for that cue, none English, none a bare tone."""
    import subprocess
    import sys

    from kiosk.contract.events import CueRaised, SetEnd
    from kiosk.sim.traces import TRACE_SETTINGS
    from kiosk.words.wording import spoken_key
    from tests.support.kiosk_harness import make_kiosk

    profile = MemberProfile(member="m_jonas", name="Jonas", rev=3, updated=1.0, language="de",
                            machines={"generic-45": TRACE_SETTINGS})
    publish(broker, "gym/v1/testgym/members/m_jonas/profile", encode(profile), retain=True)
    keyring = Keyring(tmp_path)
    kiosk, _screen = make_kiosk(broker.url, tmp_path / "data", keyring)
    events = collect(EVENTS)
    kiosk.start()
    try:
        eventually(lambda: kiosk.profiles.book.rev("m_jonas") == 3, what="Jonas's profile at the kiosk")
        kiosk.scan(keyring.code("m_jonas", "Jonas"))
        events.wait_for_event(SessionStart)
        run = subprocess.run([sys.executable, "-m", "kiosk.sim.cli", "--broker", broker.url, "--site", "testgym",
                              "--machine", "lp1", "--scenario", "butt-wink", "--seed", "2", "--fast"],
                             capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        events.wait_for_event(SetEnd, timeout=30)
        loud = [e for e in events.events() if isinstance(e, CueRaised) and e.severity != "info"]
        assert loud, "the butt-wink set raised warn or stop cues"
        expected = [f"de/{spoken_key(e.cue, e.severity)}.wav" for e in loud]
        eventually(lambda: all(name in kiosk.sound.played for name in expected), what="the German files")
        assert all(name.startswith("de/") for name in kiosk.sound.played), list(kiosk.sound.played)
    finally:
        kiosk.stop()


def test_scan_lines_are_in_the_site_default_until_the_member_is_known_then_in_theirs(broker, tmp_path, collect):
    """Through a real broker and a headless kiosk process: a refused code and a welcome are told in the site's
    default (German here); once Jonas's profile (Spanish) is at the machine, a refusal and his goodbye are in
    Spanish. `scan_rejected` keeps its English reason and detail on the wire."""
    from kiosk.contract.events import ScanRejected
    from kiosk.words import wording
    from kiosk.words.language import speaking

    site = {"languages": ["de", "en", "es"], "scan_repeat_s": 0}
    publish(broker, "gym/v1/testgym/config/set", json.dumps(site), retain=True)
    profile = MemberProfile(member="m_jonas", name="Jonas", rev=2, updated=1.0, language="es",
                            machines={"generic-45": SETTINGS})
    publish(broker, "gym/v1/testgym/members/m_jonas/profile", encode(profile), retain=True)
    keyring = Keyring(tmp_path)
    env = kiosk_env(broker.url, tmp_path / "data", LEGPRESS_TRUSTED_KEYS=str(keyring.trusted))
    status, events = collect(STATUS), collect(EVENTS)
    log = tmp_path / "kiosk.log"
    proc = start_kiosk(env, log)

    def typed(line: str) -> None:
        assert proc.stdin is not None
        proc.stdin.write((line + "\n").encode())
        proc.stdin.flush()

    def rejected() -> list[ScanRejected]:
        return [e for e in events.events() if isinstance(e, ScanRejected)]

    try:
        status.wait_for(lambda m: bool(m.payload) and m.decode(KioskStatus).state == "ready")
        typed("LP1.not-a-real-code.at-all")
        eventually(lambda: len(rejected()) == 1, what="the first refusal on the wire")
        first = rejected()[0]
        assert first.reason in wording.SCAN_REFUSED and first.detail.isascii()
        with speaking("de"):
            german = wording.tr(wording.SCAN_REFUSED[first.reason])
        with speaking("es"):
            spanish = wording.tr(wording.SCAN_REFUSED[first.reason])
        eventually(lambda: f"screen: scan refused: {german}" in log.read_text(), what="the refusal in German")

        typed(keyring.code("m_jonas", "Jonas"))
        eventually(lambda: any(isinstance(e, SessionStart) for e in events.events()), what="Jonas's session")
        eventually(lambda: "screen: scan accepted: Hallo, Jonas!" in log.read_text(), what="a German welcome")
        typed("LP1.not-a-real-code.at-all")
        eventually(lambda: f"screen: scan refused: {spanish}" in log.read_text(), what="the refusal in Spanish")
        typed(keyring.code("m_jonas", "Jonas"))
        eventually(lambda: "screen: scan accepted: Adiós, Jonas. ¡Hasta la próxima!" in log.read_text(),
                   what="Jonas's goodbye in Spanish")
        # The screen's log line comes first; the event reaches this test's subscriber through the broker after.
        eventually(lambda: len(rejected()) == 2, what="the second refusal on the wire")
        assert [e.reason for e in rejected()] == [first.reason, first.reason]
        assert "¡Hola" not in log.read_text(), "the welcome came before his profile: the site's default"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
