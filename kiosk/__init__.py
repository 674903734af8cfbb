"""Leg press kiosk: member settings, live lower-back cues and fleet control over MQTT."""

__version__ = "0.1.0"
