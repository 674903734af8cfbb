"""Headless is the same kiosk as the screen: every button the member or technician presses can be typed.

A real `legpress-kiosk --headless` process takes the lines a script types; the events reach a real broker.
"""

import signal

from kiosk.contract.events import PainReport, SessionEnd, SessionStart
from kiosk.contract.kiosk import KioskStatus
from kiosk.contract.profile import MemberProfile
from kiosk.core.headless_input import HeadlessInput
from kiosk.core.machine.depth_limits import TARGET_MARGIN_MM
from tests.support.helpers import eventually
from tests.support.kiosk_harness import Keyring
from tests.support.kiosk_process import kiosk_env, start_kiosk

STATUS = "gym/v1/testgym/lp1/kiosk/status"
EVENTS = "gym/v1/testgym/lp1/kiosk/event"
SAVES = "gym/v1/testgym/lp1/kiosk/profile"  # the kiosk's saves, for the site's profile desk


def test_a_scripted_headless_session_presses_pain_radiating_and_staff_get_that_kind(broker, tmp_path, collect):
    keyring = Keyring(tmp_path)
    env = kiosk_env(broker.url, tmp_path / "data", LEGPRESS_TRUSTED_KEYS=str(keyring.trusted))
    status, events = collect(STATUS), collect(EVENTS)
    log = tmp_path / "kiosk.log"
    proc = start_kiosk(env, log)
    try:
        assert proc.stdin is not None
        status.wait_for(lambda m: bool(m.payload) and m.decode(KioskStatus).state == "ready")
        proc.stdin.write((keyring.code("m_sam", "Sam") + "\n").encode())
        proc.stdin.flush()
        session = events.wait_for_event(SessionStart).session
        proc.stdin.write(b"\xff\xfe not utf-8\n/pain 'unclosed\n/pain stabbing\n/pain radiating\n/finish\n")
        proc.stdin.flush()
        report = events.wait_for_event(PainReport)
        assert (report.kind, report.session, report.member) == ("radiating", session, "m_sam")
        assert events.wait_for_event(SessionEnd).reason == "logout"
        eventually(lambda: "typed: finish pressed" in log.read_text(), what="the kiosk's answer to /finish")
        text = log.read_text()
        assert "typed: refused: /pain takes one of sharp, radiating, numbness, dull, or nothing" in text
        assert "typed: refused: No closing quotation" in text
        assert sum(isinstance(e, PainReport) for e in events.events()) == 1, "the refused kind told nothing"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0, "a refused line never stops the kiosk"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


def test_typed_settings_are_held_to_what_the_member_could_set_on_the_screen(kiosk, collect):
    profiles = collect(SAVES)
    typed = HeadlessInput(kiosk)
    assert typed.line("/settings backrest_notch=3") == "refused: no member at the machine"
    kiosk.scan(kiosk.keyring.code("m_sam", "Sam"))
    member = eventually(lambda: kiosk.snapshot.member, what="Sam at the machine")
    eventually(lambda: kiosk.snapshot.setup, what="a first visit's guided setup")
    assert typed.line("/setup skip") == "guided setup: skip pressed"
    eventually(lambda: kiosk.snapshot.setup is None, what="the guided setup skipped")

    assert typed.line("/settings max_depth_mm=900").startswith("refused: 'max_depth_mm=900': give FIELD=VALUE")
    assert typed.line("/settings backrest_notch=9") == "refused: backrest_notch 9: this machine has 8 notches"
    assert typed.line("/settings foot_height=sky").startswith("refused: foot_height: ")
    too_deep = member.settings.max_depth_mm
    assert typed.line(f"/settings target_depth_mm={too_deep:g}").startswith(f"refused: target_depth_mm {too_deep:g}")
    target = member.settings.max_depth_mm - TARGET_MARGIN_MM - 20
    assert typed.line(f"/settings backrest_notch=3 target_depth_mm={target:g}") == (
        f"settings saved: backrest_notch=3, target_depth_mm={target:g}")
    saved = eventually(lambda: kiosk.snapshot.member and kiosk.snapshot.member.settings.backrest_notch == 3
                       and kiosk.snapshot.member.settings, what="the settings in force")
    assert saved.target_depth_mm == target and saved.max_depth_mm == member.settings.max_depth_mm
    model = kiosk.settings.machine_model
    profiles.wait_for(lambda m: MemberProfile.model_validate_json(m.payload).machines.get(model) == saved)
    assert typed.line("/nonsense") == "refused: no command '/nonsense'; /help lists them"
    assert typed.line("/done").startswith("refused: /done is the maintenance screen's button")
