"""The headless screen reads like the touch screen: every event becomes a plain sentence."""

from kiosk.contract.events import CueRaised, PainReport, RepDone, SessionEnd, SessionStart, SetEnd
from kiosk.contract.kiosk import KioskStatus
from kiosk.core.snapshot import OperatorNotice, ScanFeedback
from kiosk.core.text_presenter import TextPresenter


def test_a_whole_session_reads_as_sentences():
    lines: list[str] = []
    show = TextPresenter(lines.append)
    for model in (
        ScanFeedback(accepted=True, message="Welcome, Sam!", member="m_sam", name="Sam", role="member"),
        SessionStart(ts=1, session="s", member="m_sam", role="member"),
        RepDone(ts=2, session="s", rep=1, depth_mm=251.4, eccentric_s=2.6, concentric_s=1.2),
        CueRaised(ts=3, session="s", cue="descent_fast", severity="info", rep=2),
        SetEnd(ts=4, session="s", set_number=1, reps=2, max_depth_mm=255, liftoffs=0),
        PainReport(ts=5, session="s", member="m_sam", kind="radiating"),
        SessionEnd(ts=6, session="s", reason="timeout", sets=1, reps=2),
        KioskStatus(state="ready", mode="idle", ts=6, version="x", boot=1),
        OperatorNotice(kind="message", text="Closing soon", seconds=30),
    ):
        show(model)
    assert lines[0] == "scan accepted: Welcome, Sam!"
    assert lines[2] == "rep 1: 251 mm, down 2.6 s, up 1.2 s"
    assert lines[3].startswith("[INFO] Slower on the way down")
    assert "Next time: Lower more slowly" in lines[4]
    assert "safety handles" in lines[5] and "leg" in lines[5]
    assert lines[6] == "session ended (timeout): 1 set, 2 reps. Screen cleared."
    assert lines[7] == "mode: idle" and lines[8] == "message from staff for 30 s: Closing soon"


def test_a_stopped_set_gives_the_engines_suggestions():
    lines: list[str] = []
    TextPresenter(lines.append)(SetEnd(ts=1, session="s", set_number=2, reps=3, max_depth_mm=260, liftoffs=2,
                                       stopped=True, suggestions=["Recline the backrest one notch."]))
    assert lines == ["set 2 stopped: 3 reps, deepest 260 mm, 2 lift-offs. Next time: Recline the backrest one notch."]


def test_a_member_whose_profile_says_de_reads_german_lines_until_their_session_ends():
    lines: list[str] = []
    at_machine: list[str | None] = ["de"]
    show = TextPresenter(lines.append, lambda: at_machine[0])
    show(CueRaised(ts=3, session="s", cue="liftoff_lumbar", severity="warn", rep=2))
    show(SetEnd(ts=4, session="s", set_number=1, reps=1, max_depth_mm=255.5, liftoffs=1))
    at_machine[0] = None  # the session's end is told after the member has left the snapshot
    show(SessionEnd(ts=6, session="s", reason="timeout", sets=1, reps=1))
    show(SessionEnd(ts=7, session="t", reason="timeout", sets=2, reps=2))
    assert lines[0] == ("[WARN] Unterer Rücken hebt ab: hochdrücken. "
                        "Rücken flach am Polster lassen. Ihr Weg ist jetzt kürzer.")
    assert lines[1].startswith("Satz 1 geschafft: 1 Wiederholung, am tiefsten 256 mm, 1-mal abgehoben.")
    assert lines[2] == "Training beendet (timeout): 1 Satz, 1 Wiederholung. Bildschirm geleert."
    # The next member, without a language, reads the default.
    assert lines[3] == "session ended (timeout): 2 sets, 2 reps. Screen cleared."
