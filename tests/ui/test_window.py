"""`legpress-kiosk` without --headless: the window opens, the kiosk goes online, SIGTERM closes both cleanly."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.contract.kiosk import KioskStatus
from kiosk.ui.main import DEFAULT_WINDOW, WindowPlan, window_plan
from tests.support.kiosk_process import kiosk_env

pytestmark = pytest.mark.ui


def test_window_is_full_screen_on_a_raspberry_pi(tmp_path: Path):
    model = tmp_path / "model"
    model.write_text("Raspberry Pi 5 Model B Rev 1.0\x00")
    assert window_plan({}, model) == WindowPlan(True, DEFAULT_WINDOW)


def test_window_elsewhere_takes_its_size_from_the_environment(tmp_path: Path):
    assert window_plan({"LEGPRESS_WINDOW": "1280x800"}, tmp_path / "none") == WindowPlan(False, (1280, 800))
    assert window_plan({"LEGPRESS_WINDOW": "huge"}, tmp_path / "none") == WindowPlan(False, DEFAULT_WINDOW)
    assert window_plan({"LEGPRESS_FULLSCREEN": "1"}, tmp_path / "none").fullscreen


def test_kiosk_window_starts_and_stops_on_sigterm(broker, collect, tmp_path: Path):
    if not os.environ.get("DISPLAY"):
        pytest.skip("needs a display: run under xvfb-run")
    status = collect("gym/v1/testgym/lp1/kiosk/status")
    env = kiosk_env(broker.url, tmp_path / "data", LEGPRESS_WINDOW="800x480", KIVY_NO_CONSOLELOG="1",
                    KIVY_HOME=str(tmp_path / "kivy"), SDL_AUDIODRIVER="dummy")
    log = tmp_path / "kiosk.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "kiosk.app"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        status.wait_for(lambda m: m.decode(KioskStatus).state == "ready", timeout=30)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0, log.read_text()[-2000:]
    finally:
        if proc.poll() is None:
            proc.kill()
    status.wait_for(lambda m: m.decode(KioskStatus).state == "disconnected")
