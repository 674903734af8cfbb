"""What a member reads or hears, all of it from kiosk/words/wording.py: no doubled words, no broken joins,
no "1 reps", as the screens and the headless presenter put the pieces together."""

import re

import pytest

from kiosk.codes.member_codes import MESSAGES
from kiosk.contract.events import CueRaised, PainReport, RepDone, SessionEnd, SetEnd
from kiosk.core.cues.safety import STOP_SUGGESTIONS
from kiosk.core.snapshot import SetupProgress
from kiosk.core.text_presenter import TextPresenter
from kiosk.words import wording

DOUBLED = re.compile(r"\b(\w+(?: \w+)?)\W+\1\b", re.IGNORECASE)
BROKEN_JOIN = re.compile(r"[.!?][;,:]|\s[.;,:!?]|\S {2,}\S|;\s*;|\.\.(?!\.)")
ONE_PLURAL = re.compile(r"(?<![\d.])\b1 (reps|sets|times|lift-offs|connects|drops|seconds|minutes|notches)\b")


def strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in strings(k) + strings(v)]
    if isinstance(value, (tuple, list, frozenset, set)):
        return [s for v in value for s in strings(v)]
    return []


def every_text() -> list[str]:
    texts = [s for name, value in vars(wording).items() if name.isupper() for s in strings(value)]
    texts += list(MESSAGES.values())
    stopped = SetEnd(ts=1, session="s", set_number=1, reps=1, max_depth_mm=240, liftoffs=1, stopped=True,
                     suggestions=list(STOP_SUGGESTIONS))
    done = SetEnd(ts=2, session="s", set_number=2, reps=3, max_depth_mm=250, liftoffs=0)
    cues = list(wording.CUE_ADVICE)
    reps = [RepDone(ts=1, session="s", rep=1, depth_mm=240, eccentric_s=2.1, concentric_s=1.2)]
    for set_end in (stopped, done):
        texts += wording.set_stats(set_end, reps) + [wording.set_title(set_end)]
        # The summary's heading, then its lines, as the screen shows them.
        texts += [f"{wording.NEXT_TIME_TITLE}: {line}" for line in wording.next_time(set_end, cues)]
    for n in (1, 2):
        end = SessionEnd(ts=9, session="s", reason="logout", sets=n, reps=n, duration_s=61, liftoffs=n,
                         max_depth_mm=250, member="m")
        texts += wording.session_stats(end) + [wording.count(n, "rep"), wording.count(n, "connect")]
    texts += [f"{wording.NEXT_TIME_TITLE}: {line}" for line in wording.session_advice([(stopped, cues), (done, cues)])]
    texts += [wording.backrest_text(1, 30), wording.seat_text(1, 1), wording.toe_text(15),
              wording.depth_text(240, 250), wording.feet_text("mid", "shoulder", 15), wording.goodbye("Alex"),
              wording.first_time_defaults("Notch 1 (30\u00b0)", "mid", "shoulder", 250),
              wording.setup_count(1, 2), wording.setup_learnt(230, 45), *wording.pain_advice("")]
    texts += [text for end in ("zero", "full") for text in (
        wording.calibration_question(end, None, True), wording.calibration_question(end, 4.0, True),
        wording.calibration_question(end, 250.0, False), wording.calibration_refused(end, 250.0),
        wording.calibration_refused(end, None))]
    texts += [wording.machine_line("lp1"), wording.sled_now(226.4), wording.duration(42), wording.duration(420)]
    texts += [wording.alert_line("stop_unacknowledged", member, "liftoff_lumbar", 30.0, repeat)
              for member in ("m_sam", None) for repeat in (1, 2)]
    texts += [" ".join(wording.cue_text(c, s)) for c in wording.CUES for s in ("warn", "stop")]
    lines: list[str] = []
    say = TextPresenter(lines.append)
    for event in (CueRaised(ts=1, session="s", cue="descent_fast", severity="info"),
                  CueRaised(ts=1, session="s", cue="lockout", severity="warn"), reps[0], stopped, done,
                  SessionEnd(ts=9, session="s", reason="logout", sets=1, reps=1),
                  PainReport(ts=9, session="s", member="m", kind="sharp"),
                  SetupProgress(session="s", stage="reps", reps_done=1, reps_needed=2, fast_reps=1),
                  SetupProgress(session="s", stage="done", reps_done=2, reps_needed=2, fast_reps=0,
                                target_depth_mm=230, top_mm=45)):
        say(event)
    return texts + lines


# Sorted: the texts come partly from sets, whose order differs between processes (pytest-xdist's workers
# must collect the same tests in the same order).
@pytest.mark.parametrize("text", sorted(every_text()))
def test_no_doubled_words_no_broken_joins_no_one_with_a_plural(text: str) -> None:
    assert not DOUBLED.search(text), text
    assert not BROKEN_JOIN.search(text), text
    assert not ONE_PLURAL.search(text), text


def test_a_short_session_says_its_seconds_and_advice_keeps_one_line_per_meaning() -> None:
    """Issue 22: "Time: 0 min"; seven bullets, three of them "come up earlier" in other words."""
    assert wording.duration(42) == "42 s" and wording.duration(125) == "2 min"
    stopped = SetEnd(ts=1, session="s", set_number=1, reps=3, max_depth_mm=240, liftoffs=2, stopped=True,
                     suggestions=list(STOP_SUGGESTIONS))
    done = SetEnd(ts=2, session="s", set_number=2, reps=3, max_depth_mm=250, liftoffs=1)
    lines = wording.session_advice([(stopped, ["liftoff_lumbar"]), (done, ["too_deep", "descent_fast", "bounce"])])
    assert len(lines) <= wording.MAX_ADVICE
    assert sum(line in wording.SAME_MEANING for line in lines) == 1


def test_the_checks_catch_what_issue_11_found() -> None:
    assert DOUBLED.search("Next time: Next time, recline the backrest")
    assert BROKEN_JOIN.search("Lower more slowly: 2 to 3 seconds.; Keep a soft bend")
    assert BROKEN_JOIN.search("Notch 1  (30\u00b0)")
    assert ONE_PLURAL.search("set 1 done: 1 reps") and ONE_PLURAL.search("(1 connects, 0 drops)")


def test_every_spoken_cue_is_a_short_sentence_of_its_own():
    for key, text in wording.SPOKEN.items():
        assert text.endswith(".") and len(text.split()) <= 10, key
