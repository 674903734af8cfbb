"""Renders every kiosk screen at 800x480, 1024x600 and 1280x800 into docs/screenshots/.

Runs the real app in a real window on a real broker and kiosk core; member
codes are signed with a throwaway key. Live cues, reps and set ends are fed
to the app as the core would send them, so each picture shows a known state.
A stand-in sensor keeps publishing the sled's position, as the real node does;
it goes quiet for the "no sensor" picture.

    xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python docs/screenshots.py

PNGs are reduced to a 64-colour palette to keep them small.
"""

import logging
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from kiosk.ui.main import WindowPlan, configure_kivy, use_headless_kivy_env  # noqa: E402

# Kivy must be configured before its first import.
use_headless_kivy_env()
configure_kivy(WindowPlan(False, (800, 480)))

from kivy.clock import Clock  # noqa: E402
from PIL import Image  # noqa: E402

from kiosk.codes.member_codes import new_signing_key  # noqa: E402
from kiosk.contract.events import Alert, CueRaised, RepDone, SessionEnd, SetEnd  # noqa: E402
from kiosk.contract.profile import MachineSettings, MaxLowered, MemberProfile  # noqa: E402
from kiosk.contract.sensor import DepthSample  # noqa: E402
from kiosk.core.kiosk import Kiosk  # noqa: E402
from kiosk.core.settings import load_settings  # noqa: E402
from kiosk.core.snapshot import OperatorNotice, SetupProgress  # noqa: E402
from kiosk.core.training.session import SetRecord  # noqa: E402
from kiosk.dev.broker import Broker, publish  # noqa: E402
from kiosk.fleet.members import issue_code  # noqa: E402
from kiosk.ui.app import KioskApp  # noqa: E402
from kiosk.ui.driver import AppDriver  # noqa: E402
from kiosk.words.wording import STOP_SUGGESTIONS  # noqa: E402

OUT = REPO / "docs" / "screenshots"
SIZES = ((800, 480), (1024, 600), (1280, 800))


class Shots:
    """One kiosk on one broker, and the steps that bring each screen into view."""

    def __init__(self, root: Path):
        self.broker = Broker().start()
        private, public = new_signing_key("shots", root / "keys")
        trusted = root / "trusted"
        trusted.mkdir()
        (trusted / public.name).write_bytes(public.read_bytes())
        self.key = private
        settings = load_settings(site="demo", machine="lp1", broker=self.broker.url, data_dir=root / "data",
                                 trusted_keys=trusted)
        self.kiosk = Kiosk(settings)
        self.app = KioskApp(self.kiosk)
        self.driver = AppDriver(self.app).start()
        self.kiosk.start()
        self.driver.until(lambda: self.kiosk.link.connected, what="broker link")
        self.seq = 0
        self.members = 0
        self.sled_mm = 40.0
        self.sensor_on = True
        self._sensor = Clock.schedule_interval(lambda _dt: self._sample(), 0.1)

    def depth(self, mm: float) -> None:
        self.sled_mm = mm
        self._sample()

    def _sample(self) -> None:
        if not self.sensor_on:
            return
        self.seq += 1
        sample = DepthSample(seq=self.seq, ts=time.time(), mm=self.sled_mm)
        publish(self.broker, "gym/v1/demo/lp1/sensor/depth", sample.model_dump_json(), qos=0)

    def feed(self, model) -> None:
        self.app.on_core(model, time.perf_counter())

    def shoot(self, name: str, size: tuple[int, int], settle_s: float = 0.6) -> None:
        self.driver.wait(settle_s)
        path = OUT / f"{name}-{size[0]}x{size[1]}.png"
        self.driver.screenshot(str(path))
        Image.open(path).convert("RGB").quantize(64).save(path, optimize=True)

    def run(self, size: tuple[int, int]) -> None:
        d, app = self.driver, self.app
        d.set_size(*size)
        app.forget_member()
        self.depth(40)
        d.type_text("not-a-member-code")
        d.until(lambda: app.screen("attract").feedback, what="scan feedback")
        self.shoot("attract", size)

        self.members += 1
        d.type_text(issue_code(self.key, f"m{self.members}", "Alex"))
        d.until(lambda: app.manager.current == "checklist", what="the checklist, before any rep")
        for row in app.screen("checklist").rows[:3]:
            d.tap(row)
        self.shoot("checklist", size)
        d.tap(app.screen("checklist").ids.start)
        d.until(lambda: app.manager.current == "setup", what="first-time setup")
        self.shoot("setup", size, 1.2)
        d.tap(app.screen("setup").ids.primary)
        self.depth(180)
        d.until(lambda: abs(app.depth_mm - 180) < 1, what="live depth")
        self.shoot("setup-reps", size)
        setup = app.screen("setup")
        setup.progress(SetupProgress(session=app.session_id, stage="done", reps_done=2, reps_needed=2,
                                     fast_reps=0, target_depth_mm=235.0, top_mm=48.0, max_depth_mm=260.0))
        self.shoot("setup-done", size)
        d.tap(setup.ids.secondary)  # Again: counting from scratch
        d.tap(setup.ids.primary)  # Back, to the defaults
        d.tap(setup.ids.secondary)  # Skip: the safe defaults
        d.until(lambda: app.manager.current == "set", what="on to the set")

        app.go("settings")
        settings = app.screen("settings")
        # A max a lift-off lowered in an earlier session: the member reads why.
        settings.load(app.settings.model_copy(update={"max_depth_mm": 290.0, "max_lowered": MaxLowered(
            from_mm=325.0, liftoff_mm=320.0, ts=time.time() - 86400)}))
        settings.step("backrest", 2)
        settings.step("foot_height", 1)
        self.shoot("settings", size, 1.2)

        session = app.session_id
        app.go("set")
        self.depth(240)
        for rep in range(1, 6):
            self.feed(RepDone(ts=time.time(), session=session, rep=rep, depth_mm=230 + rep * 4, eccentric_s=2.4,
                              concentric_s=1.3))
        self.feed(CueRaised(ts=time.time(), session=session, cue="liftoff_pelvis", severity="warn", rep=5))
        self.shoot("set", size)
        self.feed(OperatorNotice(kind="message", text="The gym closes in 15 minutes.", seconds=10))
        self.shoot("message", size)
        app.toast.hide()
        self.sensor_on = False
        d.until(lambda: app.sensor_stale, what="sensor gone quiet")
        self.shoot("no-sensor", size)
        self.sensor_on = True
        d.until(lambda: not app.sensor_stale, what="sensor back")
        self.feed(CueRaised(ts=time.time(), session=session, cue="liftoff_lumbar", severity="stop", rep=6))
        self.shoot("stop", size)
        # Nobody tapped the STOP away: staff were alerted, and the screen asks the member.
        self.feed(Alert(ts=time.time(), session=session, reason="stop_unacknowledged", member=f"m{self.members}",
                        cue="liftoff_lumbar", waited_s=30.0))
        self.shoot("stop-unanswered", size)
        self.feed(SetEnd(ts=time.time(), session=session, set_number=1, reps=5, max_depth_mm=262, liftoffs=2,
                         stopped=True, suggestions=list(STOP_SUGGESTIONS)))
        d.tap(app.stop_overlay.ids.ok)
        d.until(lambda: app.manager.current == "summary", what="set summary")
        self.shoot("summary", size)

        app.open_pain()
        self.shoot("pain", size)
        app.screen("pain").choose("radiating")
        d.until(lambda: app.screen("pain").confirmed, what="pain report confirmed")
        self.shoot("pain-advice", size)
        # The set the pain button stopped, as the member sees it after the pain screen.
        app.pending_set = SetRecord(app.last_set.end, app.last_set.reps, ("pain_stop",))
        d.tap(app.screen("pain").ids.back)
        d.until(lambda: app.manager.current == "summary", what="pain summary")
        self.shoot("pain-summary", size)
        self.feed(SessionEnd(ts=time.time(), session=session, reason="logout", sets=1, reps=5,
                             member=f"m{self.members}", duration_s=420, max_depth_mm=262, liftoffs=2))
        d.until(lambda: app.manager.current == "summary" and app.screen("summary").final, what="session summary")
        self.shoot("session-end", size)
        self.kiosk.end_session("logout")  # the core's own session, so the staff code opens maintenance at once
        d.until(lambda: self.kiosk.snapshot.member is None, what="session closed")

        # A member whose max depth a lift-off lowered, for the maintenance screen's restore question.
        lowered = MachineSettings(backrest_notch=2, target_depth_mm=250.0, max_depth_mm=290.0, top_mm=30.0,
                                  max_lowered=MaxLowered(from_mm=325.0, liftoff_mm=320.0, ts=time.time() - 86400))
        profile = MemberProfile(member="m-lou", name="Lou", rev=1, updated=time.time(),
                                machines={self.kiosk.settings.machine_model: lowered})
        publish(self.broker, self.kiosk.topics.profile("m-lou"), profile.model_dump_json(), retain=True)
        d.until(lambda: self.kiosk.inbox.call(lambda: self.kiosk.profiles.book.get("m-lou")) is not None,
                what="a lowered profile")
        logging.getLogger("kiosk.mqtt.link").warning("broker link lost: reconnecting in 2 s")
        d.type_text(issue_code(self.key, "tech", "Robin", role="staff"))
        d.until(lambda: app.manager.current == "maintenance", what="maintenance")
        for i in range(60):
            self.depth(200 + 150 * ((i % 20) / 10 - 1) ** 2)
            d.frames(2)
        d.wait(1.2)  # a frame-rate report
        self.shoot("maintenance", size)
        maintenance = app.screen("maintenance")
        d.tap(maintenance.ids.zero)  # a calibration step asks first
        d.until(lambda: maintenance.asking == "zero" and not maintenance.busy, what="calibration question")
        self.shoot("maintenance-calibrate", size)
        d.tap(maintenance.ids.cancel)
        d.until(lambda: not maintenance.busy, what="calibration question withdrawn")
        d.tap(maintenance.ids.lowered_maxes)  # the members whose max depth a lift-off lowered here
        d.until(lambda: maintenance.asking == "restore" and not maintenance.busy, what="restore question")
        self.shoot("maintenance-restore-max", size)
        d.tap(maintenance.ids.cancel)
        self.kiosk.leave_maintenance()
        d.until(lambda: app.manager.current == "attract", what="attract again")

        self.kiosk.inbox.post(lambda: self.kiosk.modes.out_of_order("cable frayed"))
        d.until(lambda: app.out_of_order.shown, what="out of order")
        app.out_of_order.pain_shown = True  # as right after a session was cut short
        self.shoot("out-of-order", size)
        self.kiosk.inbox.post(self.kiosk.modes.in_service)
        d.until(lambda: not app.out_of_order.shown, what="back in service")

    def close(self) -> None:
        self._sensor.cancel()
        self.driver.stop()
        self.kiosk.stop()
        self.broker.close()


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    shots = Shots(Path(tempfile.mkdtemp(prefix="legpress-shots-")))
    try:
        for size in SIZES:
            shots.run(size)
    finally:
        shots.close()
    print(f"screenshots in {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
