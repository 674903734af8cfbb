"""UI benchmark: cue-to-screen latency, frame time under a 100 Hz sensor stream, start-up time, memory.

Runs the real app in a real window (under Xvfb in CI and here) on a real
broker, with a simulated sensor node publishing the `good` trace at 100 Hz.
Figures are given against baselines taken in the same process: an idle
frame (the set screen redrawn with nothing changing) and the 60 Hz frame
period.

    xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python bench/bench_ui.py --write docs/benchmarks.md
"""

import argparse
import platform
import statistics
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from report import write_section  # noqa: E402

from kiosk.core.site.system import memory_mb  # noqa: E402
from kiosk.ui.main import WindowPlan, configure_kivy, use_headless_kivy_env  # noqa: E402

use_headless_kivy_env()

SECTION = "## UI"
FRAME_60HZ_MS = 1000 / 60


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class FrameClock:
    """Work per drawn frame: from the first clock event after the frame's sleep to its flip."""

    def __init__(self, window, clock):
        self.work_ms: list[float] = []
        self.flips: list[float] = []
        self._mark = None
        self._force = False
        clock.schedule_interval(self._tick, 0)
        window.bind(on_flip=self._flipped)

    def _tick(self, _dt: float) -> None:
        self._mark = time.perf_counter()
        if self._force:
            from kivy.core.window import Window

            Window.canvas.ask_update()

    def _flipped(self, *_args) -> None:
        now = time.perf_counter()
        self.flips.append(now)
        if self._mark is not None:
            self.work_ms.append((now - self._mark) * 1000)
            self._mark = None

    def collect(self, driver, seconds: float, force_redraw: bool = False) -> list[float]:
        self.work_ms, self._force = [], force_redraw
        driver.wait(seconds)
        self._force = False
        return list(self.work_ms)


def run(seconds: float) -> dict:
    rss_before = memory_mb()
    t0 = time.perf_counter()
    configure_kivy(WindowPlan(False, (800, 480)))
    from kivy.clock import Clock
    from kivy.core.window import Window

    from kiosk.codes.member_codes import new_signing_key
    from kiosk.contract.sensor import LiftoffEvent
    from kiosk.core.kiosk import Kiosk
    from kiosk.core.settings import load_settings
    from kiosk.dev.broker import Broker
    from kiosk.fleet.members import issue_code
    from kiosk.sim.node import SensorNode
    from kiosk.sim.traces import generate
    from kiosk.ui.app import KioskApp
    from kiosk.ui.driver import AppDriver
    from kiosk.ui.widgets import banner

    # Each repeated lift-off must reach the banner to be timed: its 2 s reading hold is off, like the repeat gate.
    banner.READ_S = 0.0
    broker = Broker().start()
    data = Path(tempfile.mkdtemp(prefix="legpress-bench-"))
    private, public = new_signing_key("bench", data / "keys")
    (data / "trusted").mkdir()
    (data / "trusted" / public.name).write_bytes(public.read_bytes())
    # Every pelvis lift-off raises a cue (no repeat gate), so the latency gets many samples.
    settings = load_settings(site="bench", machine="lp1", broker=broker.url, data_dir=data / "kiosk", trusted_keys=data / "trusted",
                             tuning={"cues": {"repeat_s": 0}, "sound": False})
    kiosk = Kiosk(settings)
    t_core = time.perf_counter()
    app = KioskApp(kiosk)
    driver = AppDriver(app)
    frames = FrameClock(Window, Clock)
    driver.start()
    driver.until(lambda: frames.flips and app.manager.current == "attract", what="first frame")
    startup_s = frames.flips[0] - t0
    startup_ui_s = frames.flips[0] - t_core
    kiosk.start()
    driver.until(lambda: kiosk.link.connected, what="broker")
    rss_started = memory_mb()

    kiosk.scan(issue_code(private, "bench", "Bench"))
    driver.until(lambda: app.session_id, what="session")
    app.go("set")
    driver.wait(0.5)
    widgets_before = sum(1 for _ in app.root.walk())
    idle = frames.collect(driver, seconds / 3, force_redraw=True)

    node = SensorNode(broker.url, "bench", "lp1")
    node.start()
    trace = generate("good", seed=1, rate_hz=100, reps=40, start_ts=time.time())  # a node keeps the time
    stop = threading.Event()
    player = threading.Thread(target=node.play, args=(trace,), kwargs={"stop": stop}, daemon=True)
    player.start()
    driver.until(lambda: kiosk.sensor.monitor.rate_hz > 50, timeout=10, what="100 Hz stream")

    latencies: list[float] = []
    seen = [app.last_cue]

    def on_flip(*_args) -> None:
        if app.last_cue is not seen[0] and app.last_cue is not None:
            seen[0] = app.last_cue
            latencies.append((time.perf_counter() - app.last_cue[1]) * 1000)

    def lift_off_now_and_then() -> None:
        """The hips leave the seat every 0.3 s, sent from the node's side as a real sensor would."""
        seq = 1_000_000
        while not stop.wait(0.15):
            seq += 1
            state = "start" if seq % 2 else "end"
            event = LiftoffEvent(seq=seq, ts=kiosk.sensor.monitor.sensor_time(time.time()), type="liftoff", zone="pelvis",
                                 state=state)
            node.link.publish(node.topics.sensor_event, event, qos=1)

    Window.bind(on_flip=on_flip)
    lifter = threading.Thread(target=lift_off_now_and_then, daemon=True)
    lifter.start()
    streaming = frames.collect(driver, seconds)
    stop.set()
    lifter.join(5)
    Window.unbind(on_flip=on_flip)
    widgets_after = sum(1 for _ in app.root.walk())
    rss_after = memory_mb()
    player.join(5)
    node.close()
    rate = kiosk.sensor.monitor.rate_hz
    driver.stop()
    kiosk.stop()
    broker.close()
    idle_ms = statistics.median(idle)
    return {
        "startup_s": startup_s, "startup_ui_s": startup_ui_s,
        "idle_ms": idle_ms, "idle_p95_ms": percentile(idle, 0.95),
        "stream_ms": statistics.median(streaming), "stream_p95_ms": percentile(streaming, 0.95),
        "stream_max_ms": max(streaming), "frames": len(streaming), "rate_hz": rate,
        "latency_p50_ms": statistics.median(latencies), "latency_p95_ms": percentile(latencies, 0.95),
        "latency_max_ms": max(latencies), "cues": len(latencies),
        "rss_before": rss_before, "rss_started": rss_started, "rss_after": rss_after,
        "widgets": (widgets_before, widgets_after),
    }


def section(r: dict) -> str:
    idle = r["idle_ms"]
    return f"""{SECTION}

`bench/bench_ui.py`: the real kiosk window ({platform.python_version()}, Kivy under Xvfb, software GL,
{platform.machine()}, {date.today().isoformat()}), a real mosquitto and core, the `good` trace
from `kiosk.sim.traces` at 100 Hz through `kiosk.sim.node`, and a pelvis lift-off every 0.3 s
(cue repeat gate and the banner's reading hold off) so every lift-off raises a cue that is drawn. Baselines from the same run: an idle frame
(the set screen redrawn with nothing changing, median {idle:.2f} ms of work) and the 60 Hz frame
period ({FRAME_60HZ_MS:.1f} ms).

| what | measured | vs baseline |
|---|---|---|
| cue event on the core thread to the flip of the frame showing it, p50 | {r['latency_p50_ms']:.1f} ms | {r['latency_p50_ms'] / FRAME_60HZ_MS:.2f} frames |
| same, p95 / max ({r['cues']} cues) | {r['latency_p95_ms']:.1f} / {r['latency_max_ms']:.1f} ms | {r['latency_p95_ms'] / FRAME_60HZ_MS:.2f} / {r['latency_max_ms'] / FRAME_60HZ_MS:.2f} frames |
| frame work during the set, {r['rate_hz']:.0f} Hz stream, median ({r['frames']} frames) | {r['stream_ms']:.2f} ms | {r['stream_ms'] / idle:.2f}x idle frame |
| same, p95 / max | {r['stream_p95_ms']:.2f} / {r['stream_max_ms']:.2f} ms | {r['stream_p95_ms'] / idle:.2f}x / {r['stream_max_ms'] / idle:.2f}x idle frame |
| start-up to the first attract frame (Kivy import, window, app) | {r['startup_s'] * 1000:.0f} ms | {r['startup_s'] * 1000 / idle:.0f}x idle frame |
| of which building the app and its screens | {r['startup_ui_s'] * 1000:.0f} ms | {r['startup_ui_s'] * 1000 / idle:.0f}x idle frame |
| memory (RSS) after start-up / after the stream | {r['rss_started']:.0f} / {r['rss_after']:.0f} MB | {r['rss_after'] / r['rss_started']:.2f}x (Python before Kivy: {r['rss_before']:.0f} MB) |
| widgets in the window before / after the stream | {r['widgets'][0]} / {r['widgets'][1]} | none built per sample |

Goal: a cue on screen within one frame at 60 Hz: the p95 is {r['latency_p95_ms'] / FRAME_60HZ_MS:.2f} frames
({"met" if r['latency_p95_ms'] <= FRAME_60HZ_MS else "not met"} at p95). The core thread's observer queues the cue and
sets a Clock trigger; the app runs Kivy's `interrupt` clock, so that trigger wakes
the loop instead of waiting out the frame's sleep, and the banner is drawn in the
very next frame. Frame work stays a small fraction of the {FRAME_60HZ_MS:.1f} ms budget
while the gauge follows a 100 Hz stream, because the screen polls the depth at
30 Hz and moves existing canvas instructions rather than reacting to each sample.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=12.0, help="length of the streaming phase")
    parser.add_argument("--write", type=Path, metavar="MD", help="update this markdown file's UI section")
    args = parser.parse_args(argv)
    text = section(run(args.seconds))
    print(text)
    if args.write:
        write_section(args.write, SECTION, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
