"""Warn and stop cues out loud: a tone, then a few spoken words, through the default audio device.

A member mid-set is looking at their knees, not the screen. The files are in
assets/sounds/ (made by assets/make_sounds.py); they are played by the
system's command-line player (`aplay`, from alsa-utils, or PulseAudio's /
PipeWire's), so the window and headless sound the same and the core needs
no audio library. Info cues stay silent so the gym is not beeping all day.
A kiosk without a player or an audio device stays quiet, without an error.
"""

import logging
import shutil
import subprocess
from collections import deque
from collections.abc import Callable
from pathlib import Path

from kiosk.contract.config import KioskConfig
from kiosk.contract.events import CueRaised, severity_rank
from kiosk.core.training.session import Session
from kiosk.words.language import DEFAULT, supported
from kiosk.words.wording import spoken_key

log = logging.getLogger(__name__)

SOUNDS = Path(__file__).resolve().parents[3] / "assets" / "sounds"
# In order of preference; each plays a WAV file to the default device and exits.
PLAYERS = (("aplay", "-q"), ("paplay",), ("pw-play",))


class CueSound:
    """Plays each stop cue, and each warn cue while `enabled()` (the applied `sound` setting, read at every cue).

    A cue being played is not cut off by a less urgent one; a more urgent
    one replaces it at once. `played` keeps the names of the last files
    played, or that would have been on a kiosk with audio.
    """

    def __init__(self, enabled: Callable[[], bool], folder: Path = SOUNDS,
                 language: Callable[[], str] = lambda: DEFAULT) -> None:
        self._enabled = enabled
        self._folder = folder
        self._language = language  # the member's, read at every cue (a tap on screen applies at once)
        self._command: tuple[str, ...] | None = None
        self._playing: subprocess.Popen[bytes] | None = None
        self._playing_rank = -1
        self.played: deque[str] = deque(maxlen=20)

    def start(self) -> None:
        """Find a player: done at start, not in the constructor (it looks at the system)."""
        for command in PLAYERS:
            path = shutil.which(command[0])
            if path:
                self._command = (path, *command[1:])
                return
        log.info("no audio player (%s) found: cues are silent", ", ".join(c[0] for c in PLAYERS))

    def stop(self) -> None:
        self._silence()

    def file_for(self, cue: str, severity: str, language: str = DEFAULT) -> Path:
        """The cue's words in `language` after its tone; the tone alone for a language without a voice,
        never another language's words. English, the default, is in spoken/ itself."""
        folder = self._folder / "spoken" / ("" if language == DEFAULT else language)
        spoken = folder / f"{spoken_key(cue, severity)}.wav"
        return spoken if spoken.exists() else self._folder / f"{severity}.wav"

    def cue(self, cue: CueRaised) -> None:
        # A stop always sounds, whatever the setting (a safety floor): the member may not be looking.
        if cue.severity == "info" or (cue.severity != "stop" and not self._enabled()):
            return
        rank = severity_rank(cue.severity)
        if self._busy() and rank < self._playing_rank:
            return
        self._silence()
        path = self.file_for(cue.cue, cue.severity, self._language())
        # A language's own file by its folder too (`de/too_deep.wav`); English and the tones by name alone.
        in_language = path.parent != self._folder and path.parent.name != "spoken"
        self.played.append(f"{path.parent.name}/{path.name}" if in_language else path.name)
        if self._command is None:
            return
        try:
            # No device (or no sound server) makes the player fail: that is silence, not an error.
            self._playing = subprocess.Popen([*self._command, str(path)], stdin=subprocess.DEVNULL,
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self._playing_rank = rank
        except OSError as exc:
            log.warning("cue sound not played (%s); cues are silent from now", exc)
            self._command = None

    def _busy(self) -> bool:
        return self._playing is not None and self._playing.poll() is None

    def _silence(self) -> None:
        playing, self._playing = self._playing, None
        if playing is not None and playing.poll() is None:
            playing.terminate()
            try:
                playing.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                playing.kill()


def spoken_language(session: Session | None, config: KioskConfig) -> str:
    """The language a cue is spoken in: the member's (their profile's or the one they tapped), else the
    site's default, as far as the kiosk has a catalogue for it."""
    return supported(session.language if session else None, config.languages[0])
