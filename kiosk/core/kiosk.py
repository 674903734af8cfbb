"""The kiosk core: presence, scans, sessions, profiles and live cues over MQTT, without a screen.

The Kivy UI and the headless text presenter both observe this one class;
`--headless` is this core with a text presenter, not a second program. All
state changes happen on the core thread (`Inbox`): MQTT and camera threads
only post work to it.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel

from kiosk import __version__
from kiosk.contract import CONTRACT_VERSION
from kiosk.contract.base import PayloadError, decode
from kiosk.contract.events import CueRaised, PainKind, PainReport, ProfileSaved, ScanRejected, SensorFault
from kiosk.contract.events import SessionEnd, SessionEndReason, SessionStart, SetEnd
from kiosk.contract.commands import OutOfOrder, ShowMessage
from kiosk.contract.config import KioskConfig
from kiosk.contract.kiosk import KioskInfo, KioskMode, KioskStatus, KioskTelemetry, LinkHealth
from kiosk.contract.profile import MachineSettings
from kiosk.contract.sensor import DepthSample, LiftoffEvent
from kiosk.contract.topics import MachineTopics, member_profiles_filter, parse
from kiosk.core.boot import next_boot
from kiosk.core.cues.engine import CueEngine
from kiosk.core.inbox import Inbox
from kiosk.core.link import MqttLink, Will
from kiosk.core.machine import FloorStats, first_time_settings, geometry_for, on_this_machine
from kiosk.core.member_codes import ScanVerdict, TrustedKeys, verify_code
from kiosk.core.profiles import ProfileBook, with_settings
from kiosk.core.calibration import CalibrationStore, SledCalibration
from kiosk.core.camera import CameraUnavailable
from kiosk.core.scanner import Scanner
from kiosk.core.sensor_health import SensorMonitor
from kiosk.core.commands import CommandDesk
from kiosk.core.remote_config import ConfigKeeper
from kiosk.core.defences import defence_counters
from kiosk.core.revocations import Revocations
from kiosk.core.session import OperatorNotice, ScanFeedback, Session
from kiosk.core.settings import KioskSettings
from kiosk.core.system import cpu_temperature_c, memory_mb

log = logging.getLogger(__name__)

Observer = Callable[[BaseModel], None]
# Sled movement smaller than this is sensor noise, not a member at work.
ACTIVITY_MM = 10.0
INVALID_REPORT_EVERY_S = 30.0
PROFILE_SYNC_S = 1.0
# How long after an operator cut a session short its member can still report pain (matches the screen).
PAIN_AFTER_CUT_S = 120.0
# Maintenance left untouched this many idle timeouts (7.5 min by default) was forgotten, not in use.
MAINTENANCE_IDLE_FACTOR = 5
# Member codes are refused in these modes; staff codes still open and close maintenance.
BUSY_MESSAGES = {
    "out_of_order": "This machine is out of order right now. Please use another one or ask the staff.",
    "maintenance": "A technician is working on this machine. Please wait a moment or use another one.",
}


@dataclass
class Clock:
    """Wall-clock time source, injectable so tests can move time."""

    now: Callable[[], float] = time.time


class Kiosk:
    """One kiosk beside one leg press: its MQTT presence, mode, member sessions and cues."""

    def __init__(self, settings: KioskSettings, clock: Clock | None = None):
        self.settings = settings
        self.config_keeper = ConfigKeeper(settings.tuning, settings.machine_model)
        self.floor_stats = FloorStats()
        self.out_of_order_reason: str | None = None
        self.on_restart: Callable[[], None] | None = None  # set by the app: how to restart this process
        self.clock = clock or Clock()
        self.topics = MachineTopics(settings.site, settings.machine)
        self.geometry = geometry_for(settings.machine_model, self.config_keeper.applied)
        self.boot = next_boot(settings.data_dir)
        self.mode: KioskMode = "idle"
        self.started_at = self.clock.now()
        self.session: Session | None = None
        self._cut_short: Session | None = None  # a session an operator's command ended, for a late pain report
        self.engine: CueEngine | None = None
        self.sensor = SensorMonitor()
        self.fps: float | None = None  # set by the UI when there is one
        self.calibration = CalibrationStore(settings.data_dir, self.geometry.travel_mm)
        self.last_raw_mm: float | None = None
        self.pads: dict[str, bool] = {"lumbar": False, "pelvis": False}  # True while lifted off
        self.profiles = ProfileBook(settings.data_dir / "profiles.sqlite3", settings.profile_cache_members)
        self.keys = TrustedKeys.load(settings.trusted_keys_dir)
        if not len(self.keys):
            log.warning("no trusted keys in %s: every member code will be refused", settings.trusted_keys_dir)
        self._observers: list[Observer] = []
        self._last_activity_mm: float | None = None
        self.maintenance_active_at = 0.0  # last touch or sled movement while in maintenance
        self._last_invalid_report = 0.0
        self._next_telemetry = 0.0
        self.inbox = Inbox(on_tick=self._on_tick, clock=self.clock.now)
        self.scanner = Scanner.from_spec(settings.camera, on_text=self.scan, repeat_s=self.config.scan_repeat_s)
        self.link = MqttLink(
            client_id=f"kiosk-{settings.site}-{settings.machine}",
            broker=settings.broker_url,
            will=Will(self.topics.kiosk_status, self._status("lost").model_dump_json().encode()),
        )
        self.link.on_connect(lambda: self.inbox.post(self._announce))
        self.revocations = Revocations(settings.data_dir)
        self.revocations.attach(self.link, settings.site, self.inbox.post)
        self._profiles_synced_at = float("inf")
        self.link.subscribe(self.topics.sensor_depth, self._on_depth_message, qos=0)
        self.link.subscribe(self.topics.sensor_event, self._on_event_message, qos=1)
        self.sensor.attach(self.link, self.topics.sensor_status, self.inbox.post)
        self.link.subscribe(member_profiles_filter(settings.site), self._on_profile_message, qos=1)
        self.commands = CommandDesk(self.link, self.topics)
        for name, handler in self._command_handlers().items():
            self.commands.register(name, handler)
        for topic_filter in (self.topics.cmd_filter, self.topics.broadcast_cmd_filter):
            self.link.subscribe(topic_filter, self._on_command_message, qos=1)
        self.link.subscribe(self.topics.site_config_set, self._on_config_message("site"), qos=1)
        self.link.subscribe(self.topics.kiosk_config_set, self._on_config_message("kiosk"), qos=1)

    @property
    def config(self) -> KioskConfig:
        return self.config_keeper.applied

    # -- lifecycle -------------------------------------------------------

    def observe(self, observer: Observer) -> None:
        """Call `observer` (on the core thread) with every event, status and scan feedback."""
        self._observers.append(observer)

    def start(self) -> None:
        self.inbox.start()
        self.link.start()
        try:
            self.scanner.start()
        except CameraUnavailable as exc:
            # No camera is no reason to stop: USB scanners and typed codes still work.
            self.scanner.last_error = str(exc)
            log.error("camera %s unavailable: %s", self.settings.camera, exc)

    def stop(self) -> None:
        """End any session, say goodbye (`disconnected`, retained) and leave; the broker drops the Will."""
        try:
            self.inbox.call(lambda: self._end_session("command") if self.session else None)
        except TimeoutError:
            log.warning("core busy at shutdown; leaving without closing the session")
        if self.link.connected:
            self.link.publish_and_wait(self.topics.kiosk_status, self._status("disconnected"), retain=True)
        self.scanner.stop()
        self.link.stop()
        self.inbox.stop()
        self.profiles.close()

    # -- inputs from people (any thread) -----------------------------------

    def scan(self, text: str) -> None:
        """A code from the camera, a keyboard-wedge scanner or typed by staff."""
        self.inbox.post(lambda: self._handle_scan(text))

    def touch(self) -> None:
        """Any touch on the screen keeps the session alive."""
        self.inbox.post(self._mark_activity)

    def leave_maintenance(self) -> None:
        """The maintenance screen's Done button: back to idle (or out of order) without a staff scan."""
        self.inbox.post(self._leave_maintenance)

    def end_session(self, reason: SessionEndReason = "logout") -> None:
        self.inbox.post(lambda: self._end_session(reason) if self.session else None)

    def press_pain(self) -> None:
        """The pain button: staff see a `pain_stop` at once and the set ends, before any question is asked."""
        self.inbox.post(self._handle_pain_pressed)

    def report_pain(self, kind: PainKind) -> None:
        """What the pain feels like, once the member says so (a `pain_report` for staff)."""
        self.inbox.post(lambda: self._handle_pain(kind))

    def calibrate(self, step: str) -> SledCalibration:
        """Maintenance: `zero` (sled at full extension), `full` (sled at the bottom), or a pad zone checked.

        Raises ValueError with a message for the technician when it cannot be done.
        """
        return self.inbox.call(lambda: self._calibrate(step))

    def _calibrate(self, step: str) -> SledCalibration:
        if step in ("lumbar", "pelvis"):
            return self.calibration.pad_checked(step)
        if self.last_raw_mm is None or (self.sensor.silent_for(self.clock.now()) or 0) > 1.0:
            raise ValueError("No live sled reading: check the sensor before calibrating.")
        if step == "zero":
            return self.calibration.set_zero(self.last_raw_mm)
        if step == "full":
            return self.calibration.set_full(self.last_raw_mm)
        raise ValueError(f"unknown calibration step {step!r}")

    def save_settings(self, settings: MachineSettings) -> None:
        """The member edited their settings on screen: save them to the profile now."""
        self.inbox.post(lambda: self._handle_settings(settings))

    # -- scans and sessions ------------------------------------------------

    def _handle_scan(self, text: str) -> None:
        now = self.clock.now()
        self.keys.reload()
        verdict = verify_code(text, self.keys, now, self.config.member_id_pattern,
                              max_age_s=self.config.code_max_age.seconds_by_role())
        verdict = self.revocations.screen(verdict)
        if verdict.accepted and verdict.claims.role != "staff" and self.mode in BUSY_MESSAGES:
            verdict = ScanVerdict(False, None, "not_allowed", BUSY_MESSAGES[self.mode], f"kiosk is in {self.mode}")
        if not verdict.accepted:
            log.info("scan refused: %s (%s)", verdict.reason, verdict.detail)
            self._notify(ScanFeedback(accepted=False, message=verdict.message))
            self._emit(ScanRejected(ts=now, session=self.session.id if self.session else None,
                                    reason=verdict.reason, detail=verdict.detail[:200]))
            return
        claims = verdict.claims
        self._notify(ScanFeedback(accepted=True, message=verdict.message, member=claims.sub, name=claims.name,
                                  role=claims.role))
        if claims.role == "staff":
            if self.session:
                self._end_session("logout")
            self.set_mode(self._resting_mode() if self.mode == "maintenance" else "maintenance")
            return
        if self.session and self.session.member == claims.sub:
            self._end_session("logout")
            return
        if self.session:
            self._end_session("logout")
        self._start_session(claims.sub, claims.name, claims.role, now)

    def _start_session(self, member: str, name: str, role: str, now: float) -> None:
        profile, saved = self.profiles.settings_for(member, self.settings.machine_model)
        settings = (on_this_machine(saved, self.geometry, self.floor_stats) if saved
                    else first_time_settings(self.geometry))
        self.session = Session(member=member, name=name or (profile.name if profile else ""), role=role,
                               started=now, settings=settings, profile=profile, first_time=saved is None)
        self.engine = self._new_engine(settings)
        self._last_activity_mm = self.sensor.last_mm
        self.set_mode("session")
        self._emit(SessionStart(ts=now, session=self.session.id, member=member, role=role))

    def _new_engine(self, settings: MachineSettings) -> CueEngine:
        return CueEngine(settings=settings, geometry=self.geometry, thresholds=self.config.cues,
                         session=self.session.id if self.session else None)

    def _end_session(self, reason: SessionEndReason) -> None:
        session, now = self.session, self.clock.now()
        if session is None:
            return
        try:
            self._close_set(now)
            learnt = self.engine.learnt_settings() if self.engine else session.settings
            if learnt != session.settings and not session.erased:
                session.settings, session.settings_changed = learnt, True
            if session.settings_changed:
                self._save_profile(session, now)
        except Exception:  # noqa: BLE001 - whatever failed, the member must be logged out
            log.exception("closing the session of %s failed; ending it anyway", session.member)
        self._emit(SessionEnd(ts=now, session=session.id, reason=reason, sets=len(session.sets), reps=session.reps,
                              member=session.member, duration_s=max(0.0, now - session.started),
                              max_depth_mm=session.max_depth_mm, liftoffs=session.liftoffs))
        self.session, self.engine = None, None
        self.set_mode(self._resting_mode())

    def _resting_mode(self) -> KioskMode:
        return "out_of_order" if self.out_of_order_reason else "idle"

    def _close_set(self, now: float) -> None:
        if self.engine is not None:
            for event in self.engine.end(self.sensor.sensor_time(now)):
                self._emit(event)

    def _save_profile(self, session: Session, now: float) -> None:
        self.profiles.hold(session.member, session.name, self.settings.machine_model, session.settings)
        session.settings_changed = False
        self._publish_held(now)

    def _publish_held(self, now: float) -> None:
        """Publish held saves once online and in step with the broker's retained profiles."""
        if not self.link.connected or now < self._profiles_synced_at:
            return
        for member, name, model, settings in self.profiles.pending():
            try:
                profile = with_settings(self.profiles.get(member), member, name, model, settings, now)
            except ValueError as exc:
                log.error("save of %s's settings dropped: %s", member, exc)
                self.profiles.release(member, model)
                continue
            self.profiles.offer(profile)
            self.link.publish(self.topics.profile(member), profile, qos=1, retain=True)
            self.profiles.release(member, model)
            session = self.session if self.session and self.session.member == member else None
            if session:
                session.profile = profile
            self._emit(ProfileSaved(ts=now, session=session.id if session else None, member=member, rev=profile.rev))

    def _handle_settings(self, settings: MachineSettings) -> None:
        if self.session is None:
            return
        self.session.settings, self.session.first_time = settings, False
        self.session.settings_changed, self.session.erased = True, False
        self.engine = self._new_engine(settings)
        self._mark_activity()
        self._save_profile(self.session, self.clock.now())

    def _pain_session(self) -> Session | None:
        """Whose pain it is: the member at the machine, or the one an operator's command just cut short."""
        if self.session is not None:
            return self.session
        cut = self._cut_short
        if cut is not None and self.clock.now() - cut.last_activity <= PAIN_AFTER_CUT_S:
            return cut
        return None

    def _handle_pain_pressed(self) -> None:
        now, session = self.clock.now(), self._pain_session()
        if session is None or session.pain_pressed:
            return
        session.pain_pressed = True
        self._mark_activity()
        rep = self.engine.reps_in_set if self.engine else 0
        self._emit(CueRaised(ts=now, session=session.id, cue="pain_stop", severity="stop", rep=rep))
        self._close_set(now)

    def _handle_pain(self, kind: PainKind) -> None:
        session = self._pain_session()
        if session is None:
            return
        self._handle_pain_pressed()  # a report without a press (headless, tests) still stops first
        self._emit(PainReport(ts=self.clock.now(), session=session.id, member=session.member, kind=kind))
        session.pain_pressed = False  # the episode is told; a later press is a new one

    def _mark_activity(self, at: float | None = None) -> None:
        at = self.clock.now() if at is None else at
        if self.session:
            self.session.last_activity = at
        elif self.mode == "maintenance":
            self.maintenance_active_at = at

    def _leave_maintenance(self) -> None:
        if self.mode == "maintenance":
            self.set_mode(self._resting_mode())

    # -- sensor streams ------------------------------------------------------

    def _on_depth_message(self, _topic: str, payload: bytes, _props: object) -> None:
        received_at = self.clock.now()
        self.inbox.post(lambda: self._handle_depth(payload, received_at))

    def _on_event_message(self, _topic: str, payload: bytes, _props: object) -> None:
        received_at = self.clock.now()
        self.inbox.post(lambda: self._handle_liftoff(payload, received_at))

    def _decode_sensor(self, model: type, payload: bytes, received_at: float):
        try:
            item = decode(model, payload)
        except PayloadError as exc:
            self.sensor.invalid += 1
            if received_at - self._last_invalid_report >= INVALID_REPORT_EVERY_S:
                self._last_invalid_report = received_at
                self._emit(SensorFault(ts=received_at, session=self.session.id if self.session else None,
                                       fault="invalid_payloads",
                                       detail=f"{self.sensor.invalid} refused so far; last: {exc}"[:200]))
            return None
        if not self.sensor.sample_seen(received_at, item, self.calibration.calibration.to_mm, self.geometry.travel_mm):
            return None
        return item

    def _handle_depth(self, payload: bytes, received_at: float) -> None:
        raw = self._decode_sensor(DepthSample, payload, received_at)
        if raw is None:
            return
        if self.engine is not None and self.sensor.clock.just_restarted:
            for event in self.engine.sensor_restarted():
                self._emit(event)
        self.last_raw_mm = raw.mm
        sample = raw.model_copy(update={"mm": self.calibration.calibration.to_mm(raw.mm)})
        self.sensor.last_mm = sample.mm
        watched = self.session is not None or self.mode == "maintenance"
        if watched and (self._last_activity_mm is None or abs(sample.mm - self._last_activity_mm) >= ACTIVITY_MM):
            self._last_activity_mm = sample.mm
            self._mark_activity(received_at)
        if self.engine is not None:
            for event in self.engine.on_depth(sample):
                self._emit(event)

    def _handle_liftoff(self, payload: bytes, received_at: float) -> None:
        event = self._decode_sensor(LiftoffEvent, payload, received_at)
        if event is None:
            return
        self.pads[event.zone] = event.state == "start"
        self._mark_activity(received_at)
        if self.engine is not None:
            for out in self.engine.on_liftoff(event):
                self._emit(out)

    def _on_profile_message(self, topic: str, payload: bytes, _props: object) -> None:
        parsed = parse(topic)
        if parsed is None or parsed.member is None:
            return
        self.inbox.post(lambda: self._handle_profile(parsed.member, payload))

    def _handle_profile(self, member: str, payload: bytes) -> None:
        profile = self.profiles.receive(member, payload)
        session = self.session
        if not payload and session and session.member == member:
            # Erased by an operator while at the machine: nothing of this session is saved back.
            session.profile, session.settings_changed, session.erased = None, False, True
            return
        if profile is None or session is None or session.member != member or session.settings_changed:
            return
        # A newer profile arrived for the member at the machine (saved on another kiosk, or the
        # retained copy came in after the scan): show it, unless they already edited here.
        saved = profile.machines.get(self.settings.machine_model)
        saved = on_this_machine(saved, self.geometry, self.floor_stats) if saved else None
        session.profile = profile
        if saved is not None and saved != session.settings:
            session.settings, session.first_time = saved, False
            self.engine = self._new_engine(saved)
            self._notify(ScanFeedback(accepted=True, message="Your saved settings were updated.",
                                      member=member, name=session.name, role=session.role))

    # -- operators -------------------------------------------------------------

    def _on_command_message(self, topic: str, payload: bytes, properties: object) -> None:
        self.inbox.post(lambda: self.commands.handle(topic, payload, properties))

    def _on_config_message(self, scope: str) -> Callable[[str, bytes, object], None]:
        def handler(_topic: str, payload: bytes, _props: object) -> None:
            self.inbox.post(lambda: self._handle_config(scope, payload))

        return handler

    def _handle_config(self, scope: str, payload: bytes) -> None:
        if self.config_keeper.offer(scope, payload):
            self.geometry = geometry_for(self.settings.machine_model, self.config)
            self.calibration.calibration.travel_mm = self.geometry.travel_mm
            log.info("config %s applied from the %s push", self.config.version, scope)
        else:
            log.error("%s", self.config_keeper.error)
        self.link.publish(self.topics.kiosk_config_state, self.config_keeper.state(), retain=True)
        self.link.publish(self.topics.kiosk_info, self.info(), retain=True)

    def _command_handlers(self) -> dict[str, Callable]:
        return {
            "out_of_order": self._cmd_out_of_order,
            "in_service": self._cmd_in_service,
            "message": self._cmd_message,
            "end_session": self._cmd_end_session,
            "diagnostics": lambda _cmd: self.diagnostics(),
            "rebirth": self._cmd_rebirth,
            "restart": self._cmd_restart,
        }

    def _cmd_out_of_order(self, cmd: OutOfOrder) -> dict:
        self.out_of_order_reason = cmd.reason
        if self.session:
            # The member may still be under the weight: their pain button keeps working for a while.
            self._cut_short = self.session
            self.session.last_activity = self.clock.now()
            self._end_session("command")
        if self.mode != "maintenance":
            self.set_mode("out_of_order")
        self._notify(OperatorNotice(kind="out_of_order", text=cmd.reason))
        return {"mode": self.mode}

    def _cmd_in_service(self, _cmd: object) -> dict:
        self.out_of_order_reason = None
        if self.mode == "out_of_order":
            self.set_mode("idle")
        self._notify(OperatorNotice(kind="in_service", text=""))
        return {"mode": self.mode}

    def _cmd_message(self, cmd: ShowMessage) -> dict:
        self._notify(OperatorNotice(kind="message", text=cmd.text, seconds=cmd.seconds))
        return {"shown_s": cmd.seconds}

    def _cmd_end_session(self, _cmd: object) -> dict:
        ended = self.session.id if self.session else None
        if ended:
            self._end_session("command")
        return {"ended_session": ended}

    def _cmd_rebirth(self, _cmd: object) -> dict:
        self._announce()
        self.link.publish(self.topics.kiosk_config_state, self.config_keeper.state(), retain=True)
        return {"republished": ["status", "info", "config/state"]}

    def _cmd_restart(self, _cmd: object) -> dict:
        if self.on_restart is None:
            raise RuntimeError("this kiosk was not started by a supervisor that can restart it")
        # After the reply is on its way: the app stops the core and exits for systemd to restart it.
        self.inbox.post(self.on_restart)
        return {"restarting": True}

    def diagnostics(self) -> dict:
        """The self-test report behind the `diagnostics` command and the maintenance screen."""
        now = self.clock.now()
        silent = self.sensor.silent_for(now)
        checks = {
            "broker": self.link.connected,
            "sensor_live": silent is not None and silent < self.config.cues.sensor_lost_s,
            "sensor_rate_ok": self.sensor.rate_hz >= 20 if silent is not None and silent < 2 else False,
            "trusted_keys": len(self.keys) > 0,
            "camera": self.settings.camera == "none" or self.scanner.running,
            "calibrated": self.calibration.calibration.full_raw_mm is not None,
        }
        return {
            "ok": all(checks.values()),
            "checks": checks,
            "mode": self.mode,
            "version": __version__,
            "config_version": self.config.version,
            "machine_model": self.settings.machine_model,
            "boot": self.boot,
            "telemetry": self.telemetry(now).model_dump(mode="json"),
            "camera": self.scanner.probe(),
            "calibration": self.calibration.calibration.model_dump(mode="json"),
            "pads_lifted": dict(self.pads),
            "profiles": vars(self.profiles.stats),
            "link": vars(self.link.stats),
            "commands": {"handled": self.commands.handled, "refused": self.commands.refused},
            "core_errors": self.inbox.errors,
            "core_overflows": self.inbox.overflows,
            "trusted_key_ids": self.keys.kids(),
        }

    # -- clock ---------------------------------------------------------------

    def _on_tick(self, now: float) -> None:
        self._publish_held(now)
        if self.engine is not None and self.sensor.last_seen is not None:
            for event in self.engine.tick(self.sensor.sensor_time(now)):
                self._emit(event)
        if self.session and now - self.session.last_activity >= self.config.idle_timeout_s:
            log.info("session of %s timed out", self.session.member)
            self._end_session("timeout")
        untouched = now - self.maintenance_active_at
        if self.mode == "maintenance" and untouched >= self.config.idle_timeout_s * MAINTENANCE_IDLE_FACTOR:
            log.info("maintenance left untouched; leaving it")
            self._leave_maintenance()
        if now >= self._next_telemetry and self.link.connected:
            self._next_telemetry = now + self.config.telemetry_interval_s
            self.link.publish(self.topics.kiosk_telemetry, self.telemetry(now), qos=0)

    # -- what the kiosk says about itself ---------------------------------------

    def telemetry(self, now: float | None = None) -> KioskTelemetry:
        now = self.clock.now() if now is None else now
        health = self.engine.health if self.engine else None
        return KioskTelemetry(
            ts=now,
            uptime_s=round(now - self.started_at, 1),
            memory_mb=memory_mb(),
            cpu_temp_c=cpu_temperature_c(),
            fps=self.fps,
            sensor=self.sensor.snapshot(dropped=health.dropped if health else 0,
                                        out_of_range=health.out_of_range if health else 0, now=now),
            broker=LinkHealth(connected=self.link.connected, connects=self.link.stats.connects,
                              disconnects=self.link.stats.disconnects, callback_errors=self.link.stats.callback_errors),
            defences=defence_counters(self.floor_stats, self.profiles.stats, self.commands.redirected,
                                      self.revocations.stats, self.scanner.source),
        )

    def _status(self, state: str) -> KioskStatus:
        return KioskStatus(state=state, mode=self.mode, ts=self.clock.now(), version=__version__, boot=self.boot)

    def info(self) -> KioskInfo:
        return KioskInfo(
            version=__version__,
            machine_model=self.settings.machine_model,
            config_version=self.config.version,
            contract_version=CONTRACT_VERSION,
            site=self.settings.site,
            machine=self.settings.machine,
        )

    def _announce(self) -> None:
        # Retained profiles arrive right after the subscription; held saves wait for them.
        self._profiles_synced_at = self.clock.now() + PROFILE_SYNC_S
        self._publish_status()
        self.link.publish(self.topics.kiosk_info, self.info(), retain=True)
        self.link.publish(self.topics.kiosk_config_state, self.config_keeper.state(), retain=True)

    def _publish_status(self) -> None:
        status = self._status("ready")
        self.link.publish(self.topics.kiosk_status, status, retain=True)
        self._notify(status)

    def set_mode(self, mode: KioskMode) -> None:
        if mode != self.mode:
            self.mode = mode
            if mode == "maintenance":
                self.maintenance_active_at = self.clock.now()
                self._last_activity_mm = self.sensor.last_mm
            self._publish_status()

    def _emit(self, event: BaseModel) -> None:
        if isinstance(event, SetEnd) and self.session is not None:
            self.session.sets.append(event)
        self.link.publish(self.topics.kiosk_event, event, qos=1)
        self._notify(event)

    def _notify(self, model: BaseModel) -> None:
        for observer in self._observers:
            try:
                observer(model)
            except Exception:  # noqa: BLE001 - a faulty screen must not stop the core
                log.exception("observer failed on %s", type(model).__name__)
