"""Diagnostics for staff: live sensor readings and plot, rates and counts, link, camera, versions, calibration."""

import threading
import time
from collections import deque

from kivy.app import App
from kivy.clock import Clock
from kivy.core.text import Label as CoreLabel
from kivy.properties import BooleanProperty, DictProperty, ListProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk import __version__
from kiosk.contract import CONTRACT_VERSION
from kiosk.contract.events import SensorFault
from kiosk.ui.kv import load_beside
from kiosk.ui.widgets import common, gauges, language_bar  # noqa: F401 - widget classes the .kv uses
from kiosk.words import wording as words

# Text refreshes at this rate; the plot takes every poll.
TEXT_EVERY_S = 0.25
# A calibration question left unanswered is withdrawn: the sled may have moved since it was asked.
QUESTION_KEPT_S = 20.0


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
    # The end of the sled's travel a question is asked about ("zero", "full"), until confirmed or cancelled.
    asking = StringProperty("")
    asking_anyway = BooleanProperty(False)  # the sled is far from that end: confirming says so on purpose
    can_undo = BooleanProperty(False)
    # Restoring a member's max depth a lift-off lowered: who is asked about, and the confirmation's words.
    restore_member = StringProperty("")
    restore_text = StringProperty("")

    def on_kv_post(self, _base) -> None:
        self.faults: deque[str] = deque(maxlen=4)
        self._next_text = 0.0
        self._plotted = -1  # `sensor.received` when the plot last took a point
        self._withdraw = Clock.create_trigger(lambda _dt: self.cancel(), QUESTION_KEPT_S)
        # Held here: `ids` are weak, and a button out of the row would be collected.
        self._undo_row = (self.ids.undo.__self__,)
        self._question_row = (self.ids.cancel.__self__, self.ids.confirm.__self__)
        self.on_asking(self, self.asking)

    def on_asking(self, _screen, asking: str) -> None:
        """Undo, or Cancel and the confirmation: only the buttons that mean something now are in the row."""
        if not hasattr(self, "_undo_row"):
            return
        row = self.ids.question
        row.clear_widgets()
        for button in self._question_row if asking else self._undo_row:
            row.add_widget(button)

    def on_pre_enter(self, *_args) -> None:
        self.result = ""
        self._withdraw.cancel()
        self.asking, self.asking_anyway = "", False
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
            "faults": self._faults_that_fit(),
            "log": "\n".join(shown.log_lines) or "no warnings logged",
        }
        self.can_undo = shown.calibration_undo
        self.scale = [f"{shown.geometry.travel_mm * k / SCALE_STEPS:.0f}" for k in range(SCALE_STEPS + 1)]

    def _faults_that_fit(self) -> str:
        """The newest faults that fit their box whole: a fault cut at the bottom ("...cues within a rep") at
        1024x600 said less than none. Measured with the label's own font and width."""
        if not self.faults:
            return "no sensor faults"
        label = self.ids.faults
        lines = list(self.faults)
        measure = CoreLabel(text="", font_size=label.font_size, text_size=(label.width, None),
                            font_name=label.font_name, halign=label.halign)
        while len(lines) > 1:
            measure.text = "\n".join(lines)
            measure.refresh()
            if measure.content_height <= label.height:
                break
            lines.pop()  # the oldest goes first
        return "\n".join(lines)

    def self_test(self) -> None:
        """The same self-test as the `diagnostics` command: the checks that fail, and what the camera saw.

        Shown in red when a check failed: "Self-test failed" in green read as a pass.
        """
        def work(kiosk):
            report = kiosk.diagnostics()
            return words.self_test_text(report), all(report.checks.model_dump().values())
        self._run(work)

    def calibrate(self, step: str) -> None:
        """A pad check is done at once; an end of the sled's travel is asked about first."""
        if step in ("lumbar", "pelvis"):
            self._run(lambda kiosk: (kiosk.maintenance.calibrate(step), words.CALIBRATION_DONE[step])[1])
            return
        self._run(lambda kiosk: kiosk.maintenance.check_calibration(step), then=self._ask)

    def _ask(self, check) -> str:
        self.asking, self.asking_anyway = check.end, not check.plausible
        self._withdraw()
        return check.question

    def lowered_maxes(self) -> None:
        """The members whose max depth a lift-off lowered here, and the question: restore the newest one's?"""
        self.cancel()
        self._run(lambda kiosk: kiosk.maintenance.lowered_maxes(), then=self._ask_restore)

    def _ask_restore(self, found) -> str:
        if not found:
            return words.LOWERED_MAXES_NONE
        member, name, _settings = found[0]
        self.restore_member, self.restore_text = member, words.restore_max_button(name or member)
        self.asking, self.asking_anyway = "restore", False
        self._withdraw()
        return "\n".join(words.lowered_max_row(n or m, s.max_depth_mm, s.max_lowered.from_mm) for m, n, s in found)

    def confirm(self) -> None:
        """The technician confirmed the question: the core checks the sled again and sets that end (or
        restores the member's max depth asked about)."""
        step, anyway = self.asking, self.asking_anyway
        if not step:
            return
        self._withdraw.cancel()
        self.asking, self.asking_anyway = "", False
        if step == "restore":
            member = self.restore_member
            self._run(lambda kiosk: words.max_restored(member, kiosk.maintenance.restore_max(member).max_depth_mm))
            return

        def work(kiosk) -> str:
            calibration = kiosk.maintenance.calibrate(step, anyway=anyway)
            if step == "zero" and not calibration.complete:
                return words.ZERO_SET_FULL_NEEDED
            return words.CALIBRATION_DONE[step]
        self._run(work)

    def cancel(self) -> None:
        if self.asking:
            self._withdraw.cancel()
            self.asking, self.asking_anyway = "", False
            self.result, self.result_ok = words.CALIBRATION_CANCELLED, True

    def undo(self) -> None:
        self.cancel()
        self._run(lambda kiosk: (kiosk.maintenance.undo_calibration(), words.CALIBRATION_UNDONE)[1])

    def _run(self, work, then=None) -> None:
        """Do a blocking step on a worker thread; only its result comes back to the Kivy thread.

        `then(result)`, if given, turns the result into the text shown, on the Kivy thread.
        """
        if self.busy:
            return
        kiosk = App.get_running_app().kiosk
        self.busy, self.result = True, "working..."

        def worker() -> None:
            try:
                found, ok = work(kiosk), True
                if isinstance(found, tuple):  # (text, whether it is good news)
                    found, ok = found
            except (ValueError, TimeoutError) as exc:
                found, ok = str(exc), False
            Clock.schedule_once(lambda _dt: self._done(then(found) if ok and then else found, ok), 0)

        threading.Thread(target=worker, name="maintenance-step", daemon=True).start()

    def _done(self, text: str, ok: bool) -> None:
        self.busy, self.result, self.result_ok = False, text, ok
        self._refresh_text()


load_beside(__file__)
