"""Short tones for warn and stop cues, made with the `wave` module the first time they are needed.

Info cues stay silent so the gym is not beeping all day; warnings can be
turned off with the `tuning.sound` setting, a stop cannot (a safety floor: a
member under the weight may not be looking at the screen); a kiosk without
audio just stays quiet.
"""

import logging
import math
import struct
import wave
from pathlib import Path

from kivy.core.audio import SoundLoader

log = logging.getLogger(__name__)

RATE = 16_000
# (frequency Hz, seconds) per tone in the sound; a stop sounds twice, lower and longer.
TONES = {
    "warn": ((880, 0.12),),
    "stop": ((660, 0.2), (0, 0.08), (660, 0.2)),
}


def write_tone(path: Path, tones: tuple[tuple[int, float], ...]) -> Path:
    """A mono 16-bit WAV of the given tones, with short fades so it does not click."""
    frames = bytearray()
    fade = int(RATE * 0.01)
    for freq, secs in tones:
        n = int(RATE * secs)
        for i in range(n):
            envelope = min(1.0, i / fade, (n - i) / fade)
            value = 0.5 * envelope * math.sin(2 * math.pi * freq * i / RATE) if freq else 0.0
            frames += struct.pack("<h", int(value * 32767))
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(bytes(frames))
    return path


class CueSound:
    """Plays the tone for a cue's severity when the kiosk has audio: a warning if sound is on, a stop always."""

    def __init__(self, folder: Path, enabled: bool):
        self.enabled = enabled
        self._sounds = {}
        for severity, tones in TONES.items():
            if not enabled and severity != "stop":
                continue
            path = folder / f"cue-{severity}.wav"
            try:
                if not path.exists():
                    write_tone(path, tones)
                sound = SoundLoader.load(str(path))
            except Exception as exc:  # noqa: BLE001 - no audio device must not stop the kiosk
                log.warning("cue sound %s unavailable: %s", severity, exc)
                sound = None
            if sound is not None:
                self._sounds[severity] = sound

    def play(self, severity: str) -> None:
        sound = self._sounds.get(severity)
        if sound is None:
            return
        try:
            sound.stop()
            sound.play()
        except Exception as exc:  # noqa: BLE001 - a sound that fails to play is not worth a crash
            log.warning("cue sound failed: %s", exc)
