"""`run_window`: the kiosk's window, full screen on a Raspberry Pi and a plain window elsewhere."""

import os
import re
import signal
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kiosk.core.kiosk import Kiosk

PI_MODEL_FILE = Path("/proc/device-tree/model")
DEFAULT_WINDOW = (1024, 600)


@dataclass(frozen=True)
class WindowPlan:
    """How the window opens: full screen without a cursor on the kiosk itself, or a sized window."""

    fullscreen: bool
    size: tuple[int, int]


def window_plan(environ: dict[str, str], model_file: Path = PI_MODEL_FILE) -> WindowPlan:
    """Full screen on a Raspberry Pi or with LEGPRESS_FULLSCREEN=1 (=0 forces a window); size from LEGPRESS_WINDOW."""
    size = DEFAULT_WINDOW
    match = re.fullmatch(r"\s*(\d{3,5})\s*x\s*(\d{3,5})\s*", environ.get("LEGPRESS_WINDOW", ""))
    if match:
        size = (int(match.group(1)), int(match.group(2)))
    forced = environ.get("LEGPRESS_FULLSCREEN")
    if forced in ("0", "1"):
        return WindowPlan(forced == "1", size)
    try:
        on_pi = "raspberry pi" in model_file.read_text(errors="replace").lower()
    except OSError:
        on_pi = False
    return WindowPlan(on_pi, size)


def use_headless_kivy_env() -> None:
    """For tests, screenshots and benchmarks: no Kivy argument parsing, logs through Python logging only,
    a throwaway Kivy home, and SDL's dummy audio (a CI machine has no sound card). Call before Kivy is imported.
    """
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="legpress-kivy-"))
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")


def configure_kivy(plan: WindowPlan) -> None:
    """Kivy settings that must be in place before its window module is imported."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    # Kivy's own log mode takes over the root logger (and prints every library's DEBUG);
    # the kiosk already configures Python logging, so Kivy joins it.
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    from kivy.config import Config

    Config.set("graphics", "fullscreen", "auto" if plan.fullscreen else "0")
    Config.set("graphics", "show_cursor", "0" if plan.fullscreen else "1")
    Config.set("graphics", "width", str(plan.size[0]))
    Config.set("graphics", "height", str(plan.size[1]))
    Config.set("graphics", "resizable", "0" if plan.fullscreen else "1")
    # A cue scheduled from the core thread wakes the loop instead of waiting out the frame's sleep.
    Config.set("kivy", "kivy_clock", "interrupt")
    # A scanner or a stray keyboard must not close the kiosk or open Kivy's settings.
    Config.set("kivy", "exit_on_escape", "0")
    # Right-click on a desktop must not leave multitouch dots on the screen.
    Config.set("input", "mouse", "mouse,disable_multitouch")


def run_window(kiosk: Kiosk) -> int:
    """Start the core, run the screen until it closes (or SIGTERM), stop the core; returns the exit code."""
    configure_kivy(window_plan(dict(os.environ)))
    from kivy.clock import Clock

    from kiosk.ui.app import KioskApp

    app = KioskApp(kiosk)
    # systemd stops the kiosk with SIGTERM: leave the loop so the core says goodbye.
    def leave(*_args: object) -> None:
        Clock.schedule_once(lambda _dt: app.stop(), 0)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, leave)
    # The `restart` command: leave cleanly; systemd (deploy/legpress-kiosk.service) starts us again.
    restarted: list[bool] = []
    kiosk.on_restart = lambda: (restarted.append(True), leave())
    kiosk.start()
    try:
        app.run()
    finally:
        kiosk.stop("command" if restarted else "shutdown")
    return 0
