"""Makes the kiosk's cue sounds in assets/sounds/ from the parameters below; the results are committed.

    python assets/make_sounds.py

- `warn.wav`, `stop.wav`: the tones, synthesised from `TONES` (pure Python).
- `spoken/<key>.wav`: the tone for the cue's severity, a short pause, then the
  sentence from `kiosk.words.wording.SPOKEN` spoken by espeak-ng (Debian
  package `espeak-ng`, installed by deploy/bootstrap.sh).
- `spoken/<lang>/<key>.wav`: the same cues in each other language with a catalogue
  (kiosk/words/locale/) and an espeak-ng voice (`VOICES`); a language without a voice
  gets no files, so the kiosk plays its tone, never another language's words.
- `manifest.json`: what each file says, how long it lasts and how it was made; a
  test checks it against the wording and the catalogues, so changed words without new
  files fail.
"""

import json
import math
import shutil
import struct
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kiosk.words.language import DEFAULT, available, speaking
from kiosk.words.wording import SPOKEN, tr

OUT = Path(__file__).resolve().parent / "sounds"
RATE = 22_050  # espeak-ng's own rate, so tone and speech join without resampling
AMPLITUDE = 0.5
FADE_S = 0.01  # short fades, so a tone does not click
# (frequency Hz, seconds) per part of a tone; 0 Hz is a pause. A stop sounds twice, lower and longer.
TONES = {
    "warn": ((880, 0.12),),
    "stop": ((660, 0.2), (0, 0.08), (660, 0.2)),
}
PAUSE_S = 0.08  # between the tone and the words
# espeak-ng voice, words per minute, amplitude. A cue comes within a 2-3 s lowering: the action must be
# heard within the first second, and a whole line, tone included, lasts under 2 s (`MAX_LINE_S`).
VOICE = ("-v", "en-gb", "-s", "170", "-a", "160")
# espeak-ng's voice per language with a catalogue. A language missing here (or whose voice this espeak-ng
# lacks) is rendered as nothing: its members hear the tone alone.
VOICES = {"en": "en-gb", "de": "de", "es": "es", "fr": "fr-fr"}
# The longest a cue may last, tone included: a warn is acted on within the rep, a stop says a little more.
MAX_S = {"warn": 2.0, "stop": 4.5}
MAX_LINE_S = MAX_S["warn"]
# espeak-ng pads its speech with silence; below this level a sample is that padding, cut off.
SILENCE_LEVEL = 300
SEVERITY = {key: "stop" if key in ("set_stopped", "pain_stop") else "warn" for key in SPOKEN}


def tone(parts: tuple[tuple[int, float], ...]) -> bytes:
    frames = bytearray()
    fade = int(RATE * FADE_S)
    for freq, secs in parts:
        n = int(RATE * secs)
        for i in range(n):
            envelope = min(1.0, i / fade, (n - i) / fade)
            value = AMPLITUDE * envelope * math.sin(2 * math.pi * freq * i / RATE) if freq else 0.0
            frames += struct.pack("<h", int(value * 32767))
    return bytes(frames)


def speech(text: str, voice: str = "en-gb") -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "speech.wav"
        subprocess.run(["espeak-ng", *VOICE[:1], voice, *VOICE[2:], "-w", str(path), text], check=True)
        with wave.open(str(path)) as spoken:
            if (spoken.getframerate(), spoken.getnchannels(), spoken.getsampwidth()) != (RATE, 1, 2):
                raise SystemExit(f"espeak-ng gave {spoken.getparams()}, expected {RATE} Hz mono 16-bit")
            return trimmed(spoken.readframes(spoken.getnframes()))


def trimmed(frames: bytes) -> bytes:
    """Speech without espeak-ng's leading and trailing silence: the words start right after the pause."""
    samples = struct.unpack(f"<{len(frames) // 2}h", frames)
    loud = [i for i, value in enumerate(samples) if abs(value) > SILENCE_LEVEL]
    if not loud:
        return frames
    return frames[2 * loud[0]:2 * (loud[-1] + 1)]


def write(path: Path, frames: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(frames)


def main() -> int:
    if shutil.which("espeak-ng") is None:
        print("espeak-ng is not installed: run deploy/bootstrap.sh (or apt-get install espeak-ng)", file=sys.stderr)
        return 1
    version = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    tones = {severity: tone(parts) for severity, parts in TONES.items()}
    for severity, frames in tones.items():
        write(OUT / f"{severity}.wav", frames)
    pause = bytes(2 * int(RATE * PAUSE_S))
    voiced = installed_voices()
    languages: dict[str, dict[str, object]] = {}
    for lang in available():
        voice = VOICES.get(lang)
        if voice is None or voice not in voiced:
            print(f"{lang}: no espeak-ng voice, its members hear the tones", file=sys.stderr)
            continue
        # English stays in spoken/ itself (the default); the others each in their own folder.
        folder = OUT / "spoken" / ("" if lang == DEFAULT else lang)
        lines: dict[str, dict[str, object]] = {}
        with speaking(lang):
            for key in SPOKEN:
                text = tr(SPOKEN[key])
                severity = SEVERITY[key]
                frames = tones[severity] + pause + speech(text, voice)
                seconds = len(frames) / 2 / RATE
                if seconds > MAX_S[severity]:
                    raise SystemExit(f"{lang} {key}: {text!r} lasts {seconds:.2f} s with its tone, over "
                                     f"{MAX_S[severity]} s: say less")
                write(folder / f"{key}.wav", frames)
                lines[key] = {"text": text, "severity": severity, "seconds": round(seconds, 3)}
        languages[lang] = {"voice": voice, "spoken": lines}
    manifest = {
        "tones": {severity: [list(part) for part in parts] for severity, parts in TONES.items()},
        "spoken": languages[DEFAULT]["spoken"],
        "languages": languages,
        "max_seconds": MAX_S,
        "voice": " ".join(VOICE),
        "rendered_with": version,
    }
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    print(f"wrote {len(tones)} tones and {len(SPOKEN)} spoken cues in {len(languages)} languages to {OUT}")
    return 0


def installed_voices() -> set[str]:
    """The voices this espeak-ng has, by the name `-v` takes (`en-gb`, `fr-fr`)."""
    listing = subprocess.run(["espeak-ng", "--voices"], capture_output=True, text=True, check=True).stdout
    return {line.split()[1] for line in listing.splitlines()[1:] if len(line.split()) > 1}


if __name__ == "__main__":
    sys.exit(main())
