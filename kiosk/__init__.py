"""Leg press kiosk: member settings, live lower-back cues and fleet control over MQTT."""

from kiosk.contract.version import VERSION as __version__

__all__ = ["__version__"]
