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


def heard(path: Path) -> tuple[float, float]:
    """(seconds the file lasts, seconds from the end of its tone to the first word)."""
    script = make_sounds()
    with wave.open(str(path)) as sound:
        frames = sound.readframes(sound.getnframes())
    severity = script.SEVERITY[path.stem]
    tone_end = len(script.tone(script.TONES[severity])) // 2
    samples = memoryview(frames).cast("h")
    first_word = next(i for i in range(tone_end, len(samples)) if abs(samples[i]) > script.SILENCE_LEVEL)
    return len(samples) / script.RATE, (first_word - tone_end) / script.RATE


def test_every_spoken_line_is_heard_within_a_lowering_action_first():
    """Issue 22: the action words came about 1.5 s after the tone, most of a 2-3 s lowering."""
    for key, text in SPOKEN.items():
        lasts, words_after = heard(SOUNDS / "spoken" / f"{key}.wav")
        assert lasts < 2.0, (key, lasts)
        assert words_after < 0.15, (key, words_after)  # the pause, then at once the first word: the action
        assert len(text.split(".")[0].split(":")[0].split()) <= 5, key


def test_no_spoken_line_sounds_like_the_fault_as_an_order():
    for text in SPOKEN.values():
        for wrong in ("back off", "hips up", "lift"):
            assert wrong not in text.lower(), text


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
