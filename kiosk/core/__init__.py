"""The kiosk's core: everything but the screen. Never imports Kivy."""
