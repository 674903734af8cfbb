"""Live cues: turns the sensor streams into reps, sets and cues. Never imports Kivy, never reads a clock."""

from kiosk.core.cues.engine import CueEngine, CueEvent
from kiosk.core.cues.health import StreamHealth

__all__ = ["CueEngine", "CueEvent", "StreamHealth"]
