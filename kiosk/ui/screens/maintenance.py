"""Diagnostics for staff: live sensor readings and plot, rates and counts, link, camera, versions, calibration."""

import threading
import time
from collections import deque

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, DictProperty, ListProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk import __version__
from kiosk.contract import CONTRACT_VERSION
from kiosk.contract.events import SensorFault
from kiosk.ui.kv import load_beside
from kiosk.ui.widgets import common, gauges  # noqa: F401 - widget classes the .kv uses
from kiosk.words import wording as words

# Text refreshes at this rate; the plot takes every poll.
TEXT_EVERY_S = 0.25


READINGS = ("raw", "mm", "lumbar", "pelvis", "rate", "received", "stale", "counts", "broker", "calibration",
            "versions", "config", "fps", "faults", "log")
# The plot's depth scale: a label at each grid line, from legs straight (top) to full travel.
SCALE_STEPS = 4


def _mm(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} mm"


class MaintenanceScreen(Screen):
    """Opened by a staff code; a second scan of it closes it. Calibration runs off the Kivy thread."""

    # Every key is there from the start: kv binds to `values[key]`, not to a `get` call.
    values = DictProperty(dict.fromkeys(READINGS, ""))
    scale = ListProperty([""] * (SCALE_STEPS + 1))  # mm at each grid line of the plot, top first
    result = StringProperty("")
    result_ok = BooleanProperty(True)
    busy = BooleanProperty(False)

    def on_kv_post(self, _base) -> None:
        self.faults: deque[str] = deque(maxlen=4)
        self._next_text = 0.0
        self._plotted = -1  # `sensor.received` when the plot last took a point

    def on_pre_enter(self, *_args) -> None:
        self.result = ""
        self._refresh_text()

    def note_fault(self, fault: SensorFault) -> None:
        self.faults.appendleft(f"{time.strftime('%H:%M:%S', time.localtime(fault.ts))} {fault.fault}: {fault.detail}")

    def poll(self) -> None:
        app = App.get_running_app()
        if app is None:
            return
        sled = app.kiosk.snapshot.sled
        plot = self.ids.plot
        # One point per new sample: a silent sensor must show as a line that stops, not a flat one.
        if sled.mm is not None and sled.received != self._plotted:
            self._plotted = sled.received
            plot.add(sled.mm)
            plot.redraw()
        now = time.monotonic()
        if now >= self._next_text:
            self._next_text = now + TEXT_EVERY_S
            self._refresh_text()

    def _refresh_text(self) -> None:
        shown = App.get_running_app().kiosk.snapshot
        sled, cal, silent = shown.sled, shown.calibration, shown.sled.silent_s
        self.values = {
            "raw": _mm(sled.raw_mm),
            "mm": _mm(sled.mm),
            "lumbar": "LIFTED" if sled.lumbar_lifted else "on pad",
            "pelvis": "LIFTED" if sled.pelvis_lifted else "on pad",
            "rate": f"{sled.rate_hz:.0f} Hz",
            "received": str(sled.received),
            "stale": "no data yet" if silent is None else ("live" if silent < 1.0 else f"silent {silent:.0f} s"),
            "counts": f"{sled.invalid} invalid, {sled.dropped} dropped",
            "broker": ("connected" if shown.broker_connected else "DISCONNECTED")
                      + f" ({words.count(shown.broker_connects, 'connect')},"
                      f" {words.count(shown.broker_disconnects, 'drop')})",
            "calibration": "not calibrated" if cal is None or cal.full_raw_mm is None else
                           f"zero {cal.zero_raw_mm:.0f}, full {cal.full_raw_mm:.0f} raw",
            "versions": f"{__version__}, contract {CONTRACT_VERSION}",
            "config": shown.config_version,
            # The same figure telemetry and the diagnostics reply carry: frames drawn a second.
            "fps": "-" if shown.fps is None else f"{shown.fps:.0f} frames/s drawn",
            "faults": "\n".join(self.faults) or "no sensor faults",
            "log": "\n".join(shown.log_lines) or "no warnings logged",
        }
        self.scale = [f"{shown.geometry.travel_mm * k / SCALE_STEPS:.0f}" for k in range(SCALE_STEPS + 1)]

    def self_test(self) -> None:
        """The same self-test as the `diagnostics` command: the checks that fail, and what the camera saw."""
        self._run(lambda kiosk: words.self_test_text(kiosk.diagnostics()))

    def calibrate(self, step: str) -> None:
        def work(kiosk):
            kiosk.calibrate(step)
            return words.CALIBRATION_DONE[step]
        self._run(work)

    def _run(self, work) -> None:
        """Do a blocking step on a worker thread; only its result comes back to the Kivy thread."""
        if self.busy:
            return
        kiosk = App.get_running_app().kiosk
        self.busy, self.result = True, "working..."

        def worker() -> None:
            try:
                text, ok = work(kiosk), True
            except (ValueError, TimeoutError) as exc:
                text, ok = str(exc), False
            Clock.schedule_once(lambda _dt: self._done(text, ok), 0)

        threading.Thread(target=worker, name="maintenance-step", daemon=True).start()

    def _done(self, text: str, ok: bool) -> None:
        self.busy, self.result, self.result_ok = False, text, ok
        self._refresh_text()


load_beside(__file__)
