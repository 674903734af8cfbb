"""The kiosk's touch screen (Kivy). It observes `kiosk.core.kiosk.Kiosk` and never holds kiosk logic."""
