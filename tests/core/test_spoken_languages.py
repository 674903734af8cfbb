"""Spoken cues in every language (issue 25): every cue file exists for every language with a catalogue, says
that catalogue's words, and is short enough to act on (warn at most 2.0 s, stop at most 4.5 s, tone included),
read from the files themselves; the member's language is played, and one without a voice hears the tone."""

import importlib.util
import json
import shutil
import wave
from pathlib import Path

import pytest

from kiosk.contract.config import KioskConfig
from kiosk.contract.events import CueRaised
from kiosk.contract.profile import MachineSettings
from kiosk.core.training.cue_sound import SOUNDS, CueSound, spoken_language
from kiosk.core.training.session import Session
from kiosk.words.language import DEFAULT, available, speaking
from kiosk.words.wording import SPOKEN, spoken_key, tr

MANIFEST = json.loads((SOUNDS / "manifest.json").read_text())
MAX_S = {"warn": 2.0, "stop": 4.5}


def folder(lang: str) -> Path:
    return SOUNDS / "spoken" / ("" if lang == DEFAULT else lang)


def seconds(path: Path) -> float:
    with wave.open(str(path)) as sound:
        return sound.getnframes() / sound.getframerate()


def test_the_script_and_the_manifest_agree_on_the_limits():
    spec = importlib.util.spec_from_file_location("make_sounds", SOUNDS.parent / "make_sounds.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.MAX_S == MAX_S == MANIFEST["max_seconds"]


@pytest.mark.parametrize("lang", available())
def test_every_spoken_cue_exists_in_the_language_says_its_words_and_is_short_enough(lang):
    assert lang in MANIFEST["languages"], f"{lang}: no spoken cues rendered (python assets/make_sounds.py)"
    lines = MANIFEST["languages"][lang]["spoken"]
    assert set(lines) == set(SPOKEN)
    with speaking(lang):
        for key, english in SPOKEN.items():
            path = folder(lang) / f"{key}.wav"
            entry = lines[key]
            assert entry["text"] == tr(english), f"{lang} {key}: the words changed, render again"
            lasts = seconds(path)
            assert lasts <= MAX_S[entry["severity"]], f"{lang} {key}: {lasts:.2f} s"
            assert abs(lasts - entry["seconds"]) < 0.01  # the manifest measured this very file


def test_no_language_speaks_another_ones_words():
    texts = {lang: [v["text"] for v in entry["spoken"].values()] for lang, entry in MANIFEST["languages"].items()}
    for lang, own in texts.items():
        for other, theirs in texts.items():
            if other != lang:
                assert not set(own) & set(theirs) - {"Stop."}, (lang, other)


def test_the_member_hears_their_language_and_a_language_without_a_voice_hears_the_tone(tmp_path):
    shutil.copytree(SOUNDS, tmp_path / "sounds")
    shutil.rmtree(tmp_path / "sounds" / "spoken" / "es")  # as on a kiosk whose espeak-ng had no Spanish
    spoken = ["de"]
    sound = CueSound(lambda: True, folder=tmp_path / "sounds", language=lambda: spoken[0])
    sound.cue(CueRaised(ts=1.0, session="s", cue="too_deep", severity="warn"))
    spoken[0] = "es"
    sound.cue(CueRaised(ts=2.0, session="s", cue="liftoff_lumbar", severity="stop"))
    spoken[0] = "en"
    sound.cue(CueRaised(ts=3.0, session="s", cue="too_deep", severity="warn"))
    assert list(sound.played) == ["de/too_deep.wav", "stop.wav", "too_deep.wav"]
    assert sound.file_for("pain_stop", "stop", "fr") == tmp_path / "sounds" / "spoken" / "fr" / "pain_stop.wav"
    assert spoken_key("liftoff_lumbar", "stop") == "set_stopped"


def test_the_spoken_language_is_the_members_else_the_sites_default():
    settings = MachineSettings(backrest_notch=3, max_depth_mm=320, target_depth_mm=300, top_mm=40)
    site = KioskConfig.model_validate({"languages": ["fr", "en"]})
    member = Session(member="m", name="M", role="member", started=1.0, settings=settings, profile=None,
                     first_time=False, language="de-AT")
    assert spoken_language(member, site) == "de"
    member.language = None
    assert spoken_language(member, site) == "fr"
    assert spoken_language(None, KioskConfig()) == "en"
