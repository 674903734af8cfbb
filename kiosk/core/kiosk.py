"""The kiosk core: one leg press, its member sessions and its modes, composed of feature units.

The Kivy screen and the headless text presenter both observe this one class; `--headless` is this core
with a text presenter, not a second program. All state changes happen on the core thread (`Inbox`): MQTT
and camera threads only post work to it.

The units own the topics, each saying which in its module's first lines: presence, operator desk, event
journal and Home Assistant in `site/`, sensor ingest in `sensor/`, profile sync in `profiles/`, revocations
in `access/`, and `mode_commands.py` here. Parts that own no topic: `modes.py` (the mode and why),
`front_desk.py` (every code read), `training/` (the member at the machine, the pain protocol; `SledWatch`
feeds it from the sensor unit). What stays here is the composition, the thread-safe inputs the screen calls,
the clock tick, and where events and screen notices go. The constructor does no I/O; `start()` opens files
and connects. docs/architecture.md draws the layers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from pydantic import BaseModel

from kiosk.codes.member_codes import TrustedKeys
from kiosk.contract.config import KioskConfig
from kiosk.contract.events import CueRaised, PainKind, SessionEndReason
from kiosk.contract.kiosk import DefenceCounters, JournalHealth, KioskMode, SensorHealth
from kiosk.contract.profile import MachineSettings
from kiosk.contract.replies import DiagnosticsReport
from kiosk.contract.topics import MachineTopics
from kiosk.core.access.camera import CameraUnavailable
from kiosk.core.access.revocations import Revocations
from kiosk.core.access.scan_gate import RepeatFilter
from kiosk.core.access.scanner import Scanner
from kiosk.core.command_desk import CommandDesk
from kiosk.core.cues.engine import CueEngine
from kiosk.core.defences import defence_counters
from kiosk.core.front_desk import FrontDesk
from kiosk.core.inbox import Inbox
from kiosk.core.machine.models import geometry_for
from kiosk.core.maintenance_desk import MaintenanceDesk
from kiosk.core.mode_commands import ModeCommands
from kiosk.core.modes import Modes
from kiosk.core.profiles.sync import ProfileSync
from kiosk.core.recent_log import RecentLog
from kiosk.core.self_test import run_self_test
from kiosk.core.sensor.health import SensorMonitor
from kiosk.core.sensor.ingest import SensorIngest
from kiosk.core.settings import KioskSettings
from kiosk.core.site.event_journal import EventJournal
from kiosk.core.site.home_assistant import HomeAssistantDiscovery
from kiosk.core.site.operator_desk import OperatorDesk
from kiosk.core.site.presence import Presence
from kiosk.core.site.service_manager import ServiceNotifier
from kiosk.core.snapshot import KioskSnapshot
from kiosk.core.stop_watch import StopWatch
from kiosk.core.training.cue_sound import SOUNDS, CueSound, spoken_language
from kiosk.core.training.guided_setup import GuidedSetup, SetupAction
from kiosk.core.training.pain import PainProtocol
from kiosk.core.training.session import Session
from kiosk.core.training.sled_watch import SledWatch
from kiosk.core.training.training import Training
from kiosk.core.unit import Clock, Unit, Wiring
from kiosk.core.usage_counts import resume_usage
from kiosk.mqtt.link import MqttLink

if TYPE_CHECKING:
    # Pillow (and numpy with it) is loaded by the first camera frame, not at start-up.
    from PIL import Image

log = logging.getLogger(__name__)

Observer = Callable[[BaseModel], None]
# The broker keeps the kiosk's session (subscriptions, QoS 1 commands, config, profiles) a day while it is away.
SESSION_EXPIRY_S = 86_400
# While samples stream in, the screen's snapshot is renewed at most this often (about a frame at 60 Hz).
SNAPSHOT_EVERY_S = 1 / 60

__all__ = ["Clock", "Kiosk"]


class Kiosk:
    """One kiosk beside one leg press: its units, its mode, member sessions and cues."""

    def __init__(self, settings: KioskSettings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock or Clock()
        self.topics = MachineTopics(settings.site, settings.machine)
        self.on_restart: Callable[[], None] | None = None  # set by the app: how to restart this process
        self.fps: float | None = None  # reported by the screen when there is one
        self._observers: list[Observer] = []
        self._snapshot_at = float("-inf")
        self.inbox = Inbox(on_tick=self._on_tick, clock=self.clock.now, on_settled=self._settled)
        self.link = MqttLink(client_id=f"kiosk-{settings.site}-{settings.machine}", broker=settings.broker_url,
                             session_expiry_s=SESSION_EXPIRY_S)
        self.commands = CommandDesk(self.link, self.topics)
        wiring = Wiring(settings=settings, topics=self.topics, link=self.link, inbox=self.inbox, clock=self.clock,
                        commands=self.commands, emit=self._emit, notify=self._notify)
        self.operators = OperatorDesk(wiring, on_config=self._config_applied)
        self.geometry = geometry_for(settings.machine_model, self.config)
        self.modes = Modes(self.clock.now, on_change=self._mode_changed)
        self.presence = Presence(wiring, facts=self)
        self.scanner = Scanner.from_spec(settings.camera, on_text=self.scan)
        # Built in the order they need each other: training reads profiles, then hears their news; sensor feeds it.
        self.profiles = ProfileSync(wiring)
        monitor = SensorMonitor()  # the sensor stream's counts and clock: kept by the unit, read by training
        self.training = Training(wiring, self.profiles, monitor, self.modes, config=lambda: self.config,
                                 geometry=lambda: self.geometry, on_end=self.scanner.forget_preview)
        self.profiles.tell(self.training)
        self.watch = SledWatch(self.training, self.modes, self.clock.now)
        self.sensor = SensorIngest(wiring, self.geometry.travel_mm, monitor, sink=self.watch)
        self.maintenance = MaintenanceDesk(self.inbox, self.sensor, self.profiles, lambda: self.geometry)
        self.pain = PainProtocol(self.training, self.clock.now, emit=self._emit, touched=self.watch.touched)
        # Read at every cue: a pushed `sound` applies at once; the member at the machine hears their language.
        self.sound = CueSound(lambda: self.config.sound, folder=settings.sounds or SOUNDS,
                              language=lambda: spoken_language(self.training.session, self.config))
        self.stop_watch = StopWatch(self._emit, self.training.member,
                                    keep_session=self.training.touched, remind=self.sound.cue)
        self.events = EventJournal(wiring)
        self.revocations = Revocations(wiring)
        self.home_assistant = HomeAssistantDiscovery(wiring, info=self.presence.info)
        self.keys = TrustedKeys(settings.trusted_keys_dir)
        self.front_desk = FrontDesk(wiring, self.keys, self.revocations, self.modes, self.training,
                                    config=lambda: self.config)
        mode_commands = ModeCommands(wiring, self.modes, self.training, self.pain, self.presence, self.operators,
                                     self_test=self._self_test, restarter=lambda: self.on_restart)
        self.units: tuple[Unit, ...] = (self.presence, self.operators, self.sensor, self.profiles, self.events,
                                        self.revocations, self.home_assistant, mode_commands,
                                        ServiceNotifier(wiring))
        # One filter for every source of codes, reading the applied config at each sighting.
        self.repeats = RepeatFilter(lambda: self.config.scan_repeat_s)
        self.recent_log = RecentLog()
        self._snapshot = self._take_snapshot()

    # -- what the kiosk is doing (core thread; tests and presence read them) ------

    @property
    def config(self) -> KioskConfig:
        return self.operators.config

    @property
    def snapshot(self) -> KioskSnapshot:
        """What the screen shows, as of the core's last job; safe to read from any thread."""
        return self._snapshot

    @property
    def mode(self) -> KioskMode:
        return self.modes.mode

    @property
    def out_of_order_reason(self) -> str | None:
        return self.modes.out_of_order_reason

    @property
    def session(self) -> Session | None:
        return self.training.session

    @property
    def engine(self) -> CueEngine | None:
        return self.training.engine

    @property
    def setup(self) -> GuidedSetup | None:
        return self.training.setup

    # -- lifecycle -------------------------------------------------------

    def observe(self, observer: Observer) -> None:
        """Call `observer` (on the core thread) with every event, status and scan feedback."""
        self._observers.append(observer)

    def start(self) -> None:
        logging.getLogger().addHandler(self.recent_log)
        self.keys.reload()
        if not len(self.keys):
            log.warning("no trusted keys in %s: every member code will be refused", self.settings.trusted_keys_dir)
        for unit in self.units:
            unit.start()
        self._config_applied(self.config)  # the file's, or the pushes kept from the last run; pushes apply it again
        self.sound.start()
        self.inbox.start()
        self.inbox.post(lambda: resume_usage(self.events, self.training.usage, self.clock.now()))
        self.link.start()
        try:
            self.scanner.start()
        except CameraUnavailable as exc:
            # No camera is no reason to stop: USB scanners and typed codes still work.
            self.scanner.last_error = str(exc)
            log.error("camera %s unavailable: %s", self.settings.camera, exc)

    def stop(self, reason: SessionEndReason = "shutdown") -> None:
        """End any session (`shutdown`, or `command` for a `restart`), say goodbye (`disconnected`) and leave."""
        try:
            self.inbox.call(lambda: self.training.end(reason))
        except TimeoutError:
            log.warning("core busy at shutdown; leaving without closing the session")
        self.presence.say_goodbye()
        self.scanner.stop()
        self.sound.stop()
        self.link.stop()
        self.inbox.stop()
        for unit in reversed(self.units):
            unit.stop()
        logging.getLogger().removeHandler(self.recent_log)

    # -- inputs from people (any thread) -----------------------------------

    def scan(self, text: str) -> bool:
        """Every code read (camera, keyboard-wedge scanner, stdin, typed by staff); False if dropped as empty
        or as a repeat (`scan_repeat_s`: the same code read again soon after is the same scan, not a logout)."""
        text = text.strip()
        if not text or not self.repeats.admit(text):
            return False
        self.inbox.post(lambda: self.front_desk.handle(text))
        return True

    def touch(self) -> None:
        """Any touch on the screen keeps the session alive."""
        self.inbox.post(self.watch.touched)

    def report_fps(self, fps: float) -> None:
        """The screen's frame rate, for telemetry."""
        self.inbox.post(lambda: setattr(self, "fps", fps))

    def leave_maintenance(self) -> None:
        """The maintenance screen's Done button: back to idle (or out of order) without a staff scan."""
        self.inbox.post(self.modes.leave_maintenance)

    def end_session(self, reason: SessionEndReason = "logout") -> None:
        self.inbox.post(lambda: self.training.end(reason))

    def acknowledge_stop(self) -> None:
        """The member tapped a STOP away: no alert for staff (see `StopWatch`)."""
        self.inbox.post(self.stop_watch.acknowledged)

    def press_pain(self) -> None:
        """The pain button: staff see a `pain_stop` at once and the set ends, before any question is asked."""
        self.inbox.post(self.pain.pressed)

    def report_pain(self, kind: PainKind) -> None:
        """What the pain feels like, once the member says so (a `pain_report` for staff)."""
        self.inbox.post(lambda: self.pain.reported(kind))

    def guided_setup(self, action: SetupAction) -> None:
        """The guided setup's buttons: `restart` counts slow reps from now, `skip` keeps the safe defaults."""
        self.inbox.post(lambda: self.training.guided_setup(action))

    def save_settings(self, settings: MachineSettings, language: str | None = None) -> None:
        """The member edited their settings (or tapped a language) on screen: save them to the profile now."""
        self.inbox.post(lambda: self.training.save_settings(settings, language))

    def set_load(self, load_kg: float | None) -> None:
        """The set screen's load stepper: remembered in the profile; the session's engine and set go on."""
        self.inbox.post(lambda: self.training.set_load(load_kg))

    def camera_preview(self) -> tuple[int, Image.Image | None]:
        """The camera's frame count and its newest frame made small, for the attract screen (any thread)."""
        return self.scanner.frames, None if self.scanner.last_error else self.scanner.preview()

    def diagnostics(self) -> DiagnosticsReport:
        """The self-test, run on the core thread (blocks; for the maintenance screen and tests)."""
        return self.inbox.call(self._self_test)

    # -- what presence reports (core thread) --------------------------------------

    def defences(self) -> DefenceCounters:
        return defence_counters(self.training.floor_stats, self.profiles.book.stats, self.commands,
                                self.revocations.stats, self.scanner.source)

    def journal_health(self) -> JournalHealth | None:
        return self.events.health.model_copy() if self.events.started else None

    def usage_today(self, now: float) -> tuple[int, float | None]:
        return self.training.usage.sessions_today(now), self.training.usage.last_liftoff_rate

    def sensor_health(self, now: float) -> SensorHealth:
        return self.sensor.health(now, self.engine.health if self.engine else None)

    # -- modes and config (core thread) ---------------------------------------------

    def _mode_changed(self, mode: KioskMode) -> None:
        if mode in ("session", "maintenance"):
            self.watch.follow_from(self.sensor.monitor.last_mm)
        # Whoever was at the machine (a member, a technician) is not shown to whoever comes next.
        self.scanner.forget_preview()
        self.presence.publish_status()

    def _config_applied(self, config: KioskConfig) -> None:
        self.geometry = geometry_for(self.settings.machine_model, config)
        self.sensor.set_travel(self.geometry.travel_mm)
        self.presence.publish_info()
        self.home_assistant.apply(config)
        self._refresh_snapshot()  # the screen reads `sound` and the geometry from it

    def _self_test(self) -> DiagnosticsReport:
        return run_self_test(self.clock.now(), self.mode, self.config, self.presence, self.sensor, self.profiles,
                             self.commands, self.inbox, self.keys, self.scanner)

    def _on_tick(self, now: float) -> None:
        for unit in self.units:
            unit.tick(now)
        self.stop_watch.tick(now)  # before the idle timeout: a STOP left unacknowledged keeps the session open
        self.training.tick(now)  # cues that need time (sensor lost, a stalled rep) and the idle timeout
        self.modes.tick(now, self.config.idle_timeout_s)
        self._refresh_snapshot()

    # -- where events and notices go -----------------------------------------------

    def _emit(self, event: BaseModel) -> None:
        self.stop_watch.seen(event, self.clock.now())
        self.events.publish(event)
        self._notify(event)
        if isinstance(event, CueRaised):
            # After the wire and the screen: starting the player (a fork) must not delay either.
            self.sound.cue(event)

    def _notify(self, model: BaseModel) -> None:
        self._refresh_snapshot()
        for observer in self._observers:
            try:
                observer(model)
            except Exception:
                log.exception("observer failed on %s", type(model).__name__)

    # -- the screen's snapshot -----------------------------------------------------

    def _settled(self) -> None:
        """After each job on the core thread: a new snapshot, at most about once a frame."""
        if self.clock.now() - self._snapshot_at >= SNAPSHOT_EVERY_S:
            self._refresh_snapshot()

    def _refresh_snapshot(self) -> None:
        self._snapshot = self._take_snapshot()

    def _take_snapshot(self) -> KioskSnapshot:
        now = self._snapshot_at = self.clock.now()
        link, config, session, engine, setup = self.link, self.config, self.session, self.engine, self.setup
        return KioskSnapshot(
            taken_at=now, mode=self.mode, site=self.settings.site, machine=self.settings.machine,
            machine_model=self.settings.machine_model, geometry=self.geometry, config_version=config.version,
            sound=config.sound, sensor_lost_s=config.cues.sensor_lost_s,
            member=session.at_machine() if session else None, set_open=engine.set_open if engine else False,
            setup=setup.progress(session.id) if setup and session else None,
            sled=self.sensor.reading(now, engine.health if engine else None),
            calibration=self.sensor.calibration if self.sensor.started else None,
            calibration_undo=self.sensor.can_undo_calibration,
            broker_connected=link.connected, broker_connects=link.stats.connects,
            broker_disconnects=link.stats.disconnects, camera=self.settings.camera,
            camera_running=self.scanner.running, camera_error=self.scanner.last_error, fps=self.fps,
            log_lines=self.recent_log.lines())
