"""Reusable widgets: buttons, panels, the machine drawing, gauges and the cue banner."""
