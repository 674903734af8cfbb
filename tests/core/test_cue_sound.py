"""The cue sounds in assets/: made from parameters by assets/make_sounds.py, said in the project's words,
played for warn and stop cues while the `sound` setting allows, and silent without audio."""

import importlib.util
import json
import shutil
import wave
from pathlib import Path

from kiosk.contract.events import CueRaised
from kiosk.core.training.cue_sound import SOUNDS, CueSound
from kiosk.words.wording import SPOKEN, spoken_key

# The catalogue's warn and stop cues (shared/domain/legpress-guidance.md), and the stopped set.
LOUD_CUES = [("liftoff_lumbar", "warn"), ("liftoff_lumbar", "stop"), ("liftoff_pelvis", "warn"),
             ("too_deep", "warn"), ("lockout", "warn"), ("sensor_lost", "warn"), ("pain_stop", "stop")]


def make_sounds():
    spec = importlib.util.spec_from_file_location("make_sounds", SOUNDS.parent / "make_sounds.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cue(name: str, severity: str) -> CueRaised:
    return CueRaised(ts=1.0, session="s1", cue=name, severity=severity)


def test_every_warn_and_stop_cue_has_a_spoken_file_saying_the_words_in_wording():
    manifest = json.loads((SOUNDS / "manifest.json").read_text())
    assert {key: entry["text"] for key, entry in manifest["spoken"].items()} == SPOKEN
    for name, severity in LOUD_CUES:
        path = SOUNDS / "spoken" / f"{spoken_key(name, severity)}.wav"
        with wave.open(str(path)) as sound:
            assert (sound.getframerate(), sound.getnchannels(), sound.getsampwidth()) == (22_050, 1, 2)
            assert 0.5 < sound.getnframes() / sound.getframerate() < 5.0, path.name  # short, but words


def test_the_committed_tones_are_what_the_script_makes_from_its_parameters():
    script = make_sounds()
    manifest = json.loads((SOUNDS / "manifest.json").read_text())
    assert manifest["tones"] == {k: [list(p) for p in parts] for k, parts in script.TONES.items()}
    for severity, parts in script.TONES.items():
        with wave.open(str(SOUNDS / f"{severity}.wav")) as sound:
            assert sound.readframes(sound.getnframes()) == script.tone(parts)


def test_warn_and_stop_cues_are_played_while_sound_is_on_and_info_cues_never():
    on = [True]
    sound = CueSound(lambda: on[0])
    sound.start()
    sound.cue(cue("depth_reached", "info"))
    sound.cue(cue("too_deep", "warn"))
    assert list(sound.played) == ["too_deep.wav"]
    on[0] = False  # an operator pushed `sound: false`: the next cue is silent
    sound.cue(cue("lockout", "warn"))
    assert list(sound.played) == ["too_deep.wav"]
    sound.stop()


def test_a_stop_being_said_is_not_cut_off_by_a_warning():
    sound = CueSound(lambda: True)
    sound._command = ("sh", "-c", "sleep 2", "player")  # a player that takes two seconds over any file
    sound.cue(cue("pain_stop", "stop"))
    sound.cue(cue("lockout", "warn"))
    assert list(sound.played) == ["pain_stop.wav"]
    sound.cue(cue("liftoff_lumbar", "stop"))
    assert list(sound.played) == ["pain_stop.wav", "set_stopped.wav"]
    sound.stop()


def test_without_an_audio_device_the_player_fails_quietly():
    sound = CueSound(lambda: True, folder=Path(SOUNDS))
    sound._command = (shutil.which("false"),)  # what aplay does with no sound card: exit with an error
    sound.cue(cue("too_deep", "warn"))
    sound.cue(cue("pain_stop", "stop"))
    assert list(sound.played) == ["too_deep.wav", "pain_stop.wav"]
    sound.stop()
