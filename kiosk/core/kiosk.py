"""The kiosk core: one leg press, its member sessions and its modes, composed of feature units.

The Kivy screen and the headless text presenter both observe this one class;
`--headless` is this core with a text presenter, not a second program. All
state changes happen on the core thread (`Inbox`): MQTT and camera threads
only post work to it.

The units own the topics (see each module's first lines):

| unit | module | topics |
|---|---|---|
| presence | `presence.py` | `R/kiosk/status`, `R/kiosk/info`, `R/kiosk/telemetry` |
| operators | `operators.py` | `R/kiosk/cmd/#`, `.../broadcast/cmd/#`, `R/kiosk/res/*`, config set/state |
| sensor | `sensor_ingest.py` | `R/sensor/depth`, `R/sensor/event` |
| profiles | `profile_sync.py` | `gym/v1/{site}/members/+/profile` |
| events | `journal.py` | `R/kiosk/event`, the `replay` command |
| revocations | `revocations.py` | `gym/v1/{site}/config/revocations` |
| home assistant | `discovery.py` | `homeassistant/device/legpress_<site>_<machine>/config`, `homeassistant/status` |

What stays here is what spans them: the mode, the member's session and its
cue engine, the pain protocol, the commands that change modes and sessions,
and the observers. The constructor does no I/O; `start()` opens files and
connects.
"""

import logging
from collections.abc import Callable

from PIL import Image
from pydantic import BaseModel

from kiosk.contract.commands import Command, OutOfOrder, ShowMessage
from kiosk.contract.config import KioskConfig
from kiosk.contract.events import (
    CueRaised,
    PainKind,
    PainReport,
    ProfileSaved,
    Role,
    ScanRejected,
    SessionEnd,
    SessionEndReason,
    SessionStart,
    SetEnd,
)
from kiosk.contract.kiosk import DefenceCounters, JournalHealth, KioskMode, SensorHealth
from kiosk.contract.profile import MachineSettings, MemberProfile
from kiosk.contract.replies import DiagnosticsReport, MessageShown, ModeReply, Republished, Restarting, SessionEnded
from kiosk.contract.sensor import DepthSample, LiftoffEvent
from kiosk.contract.topics import MachineTopics
from kiosk.core import wording
from kiosk.core.calibration import SledCalibration
from kiosk.core.camera import CameraUnavailable
from kiosk.core.commands import CommandDesk, CommandHandler
from kiosk.core.cues.engine import CueEngine
from kiosk.core.defences import defence_counters
from kiosk.core.discovery import HomeAssistantDiscovery
from kiosk.core.inbox import Inbox
from kiosk.core.journal import EventJournal
from kiosk.core.link import MqttLink
from kiosk.core.machine import ACTIVITY_MM, FloorStats, first_time_settings, geometry_for, on_this_machine
from kiosk.core.member_codes import Admitted, Refused, TrustedKeys, verify_code
from kiosk.core.operators import OperatorDesk
from kiosk.core.presence import Presence
from kiosk.core.profile_sync import ProfileSync
from kiosk.core.revocations import Revocations
from kiosk.core.scanner import Scanner
from kiosk.core.self_test import run_self_test
from kiosk.core.sensor_ingest import CalibrationStep, SensorIngest
from kiosk.core.session import PAIN_AFTER_CUT_S, OperatorNotice, ScanFeedback, Session, UsageToday
from kiosk.core.settings import KioskSettings
from kiosk.core.snapshot import KioskSnapshot
from kiosk.core.unit import Clock, Unit, Wiring

log = logging.getLogger(__name__)

Observer = Callable[[BaseModel], None]
# Maintenance left untouched this many idle timeouts (7.5 min by default) was forgotten, not in use.
MAINTENANCE_IDLE_FACTOR = 5
# The broker keeps the kiosk's session (its subscriptions and the QoS 1 commands, config and profiles
# sent to it) this long while it is away: a restart or a night without network loses none of them.
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
        self.mode: KioskMode = "idle"
        self.out_of_order_reason: str | None = None
        self.on_restart: Callable[[], None] | None = None  # set by the app: how to restart this process
        self.session: Session | None = None
        self.engine: CueEngine | None = None
        self.fps: float | None = None  # reported by the screen when there is one
        self._cut_short: Session | None = None  # a session an operator's command ended, for a late pain report
        self._observers: list[Observer] = []
        self._last_activity_mm: float | None = None
        self._maintenance_active_at = 0.0  # last touch or sled movement while in maintenance
        self._snapshot_at = float("-inf")
        self.inbox = Inbox(on_tick=self._on_tick, clock=self.clock.now, on_settled=self._settled)
        self.link = MqttLink(client_id=f"kiosk-{settings.site}-{settings.machine}", broker=settings.broker_url,
                             session_expiry_s=SESSION_EXPIRY_S)
        self.commands = CommandDesk(self.link, self.topics)
        wiring = Wiring(settings=settings, topics=self.topics, link=self.link, inbox=self.inbox, clock=self.clock,
                        commands=self.commands, emit=self._emit, notify=self._notify)
        self.operators = OperatorDesk(wiring, on_config=self._config_applied)
        self.geometry = geometry_for(settings.machine_model, self.config)
        self.presence = Presence(wiring, facts=self)
        self.sensor = SensorIngest(wiring, self.geometry.travel_mm, on_depth=self._on_depth,
                                   on_liftoff=self._on_liftoff, session_id=self._session_id,
                                   on_restart=self._sensor_restarted)
        self.profiles = ProfileSync(wiring, on_received=self._profile_received, on_saved=self._profile_saved)
        self.events = EventJournal(wiring)
        self.revocations = Revocations(wiring)
        self.home_assistant = HomeAssistantDiscovery(wiring, info=self.presence.info)
        self.units: tuple[Unit, ...] = (self.presence, self.operators, self.sensor, self.profiles, self.events,
                                        self.revocations, self.home_assistant)
        self.usage = UsageToday()
        self.floor_stats = FloorStats()  # profile values the safety floors changed, for telemetry
        self.keys = TrustedKeys(settings.trusted_keys_dir)
        self.scanner = Scanner.from_spec(settings.camera, on_text=self.scan, repeat_s=self.config.scan_repeat_s)
        self._snapshot = self._take_snapshot()

    @property
    def config(self) -> KioskConfig:
        return self.operators.config

    @property
    def snapshot(self) -> KioskSnapshot:
        """What the screen shows, as of the core's last job; safe to read from any thread."""
        return self._snapshot

    # -- lifecycle -------------------------------------------------------

    def observe(self, observer: Observer) -> None:
        """Call `observer` (on the core thread) with every event, status and scan feedback."""
        self._observers.append(observer)

    def start(self) -> None:
        self.keys.reload()
        if not len(self.keys):
            log.warning("no trusted keys in %s: every member code will be refused", self.settings.trusted_keys_dir)
        for unit in self.units:
            unit.start()
        self.home_assistant.apply(self.config)  # the file's setting; pushes apply it again
        self._register_commands()
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
            self.inbox.call(lambda: self._end_session("command"))
        except TimeoutError:
            log.warning("core busy at shutdown; leaving without closing the session")
        self.presence.say_goodbye()
        self.scanner.stop()
        self.link.stop()
        self.inbox.stop()
        for unit in reversed(self.units):
            unit.stop()

    # -- inputs from people (any thread) -----------------------------------

    def scan(self, text: str) -> None:
        """A code from the camera, a keyboard-wedge scanner or typed by staff."""
        self.inbox.post(lambda: self._handle_scan(text))

    def scan_typed(self, text: str) -> bool:
        """A code from a keyboard-wedge scanner or stdin, through the camera's repeat filter; False if dropped."""
        return self.scanner.submit_text(text)

    def touch(self) -> None:
        """Any touch on the screen keeps the session alive."""
        self.inbox.post(self._mark_activity)

    def report_fps(self, fps: float) -> None:
        """The screen's frame rate, for telemetry."""
        self.inbox.post(lambda: setattr(self, "fps", fps))

    def leave_maintenance(self) -> None:
        """The maintenance screen's Done button: back to idle (or out of order) without a staff scan."""
        self.inbox.post(self._leave_maintenance)

    def end_session(self, reason: SessionEndReason = "logout") -> None:
        self.inbox.post(lambda: self._end_session(reason))

    def press_pain(self) -> None:
        """The pain button: staff see a `pain_stop` at once and the set ends, before any question is asked."""
        self.inbox.post(self._handle_pain_pressed)

    def report_pain(self, kind: PainKind) -> None:
        """What the pain feels like, once the member says so (a `pain_report` for staff)."""
        self.inbox.post(lambda: self._handle_pain(kind))

    def save_settings(self, settings: MachineSettings) -> None:
        """The member edited their settings on screen: save them to the profile now."""
        self.inbox.post(lambda: self._handle_settings(settings))

    def calibrate(self, step: CalibrationStep) -> SledCalibration:
        """Maintenance: `zero` (sled at full extension), `full` (sled at the bottom), or a pad zone checked.

        Blocks until the core thread has done it; raises ValueError with a message for the technician.
        """
        return self.inbox.call(lambda: self.sensor.calibrate(step))

    def camera_preview(self) -> tuple[int, Image.Image | None]:
        """The camera's frame count and its newest frame made small, for the attract screen (any thread)."""
        if self.scanner.last_error:
            return self.scanner.frames, None
        return self.scanner.frames, self.scanner.preview()

    def camera_test(self) -> str:
        """The maintenance screen's camera test, in the technician's words (blocks while it looks)."""
        return self.scanner.probe()

    def diagnostics(self) -> DiagnosticsReport:
        """The self-test, run on the core thread (blocks; for the maintenance screen and tests)."""
        return self.inbox.call(self._self_test)

    # -- scans and sessions ------------------------------------------------

    def _handle_scan(self, text: str) -> None:
        now = self.clock.now()
        self.keys.reload()
        verdict = verify_code(text, self.keys, now, self.config.member_id_pattern,
                              max_age_s=self.config.code_max_age.seconds_by_role())
        verdict = self.revocations.screen(verdict)
        if isinstance(verdict, Admitted) and verdict.claims.role != "staff" and self.mode in wording.BUSY:
            verdict = Refused("not_allowed", wording.BUSY[self.mode], f"kiosk is in {self.mode}")
        if isinstance(verdict, Refused):
            log.info("scan refused: %s (%s)", verdict.reason, verdict.detail)
            self._notify(ScanFeedback(accepted=False, message=verdict.message))
            self._emit(ScanRejected(ts=now, session=self._session_id(), reason=verdict.reason,
                                    detail=verdict.detail[:200]))
            return
        claims = verdict.claims
        self._notify(ScanFeedback(accepted=True, message=verdict.message, member=claims.sub, name=claims.name,
                                  role=claims.role))
        if claims.role == "staff":
            self._end_session("logout")
            self._set_mode(self._resting_mode() if self.mode == "maintenance" else "maintenance")
            return
        same_member = self.session is not None and self.session.member == claims.sub
        self._end_session("logout")
        if not same_member:  # the same code again is the member logging out
            self._start_session(claims.sub, claims.name, claims.role, now)

    def _start_session(self, member: str, name: str, role: Role, now: float) -> None:
        profile, saved = self.profiles.settings_for(member)
        settings = (on_this_machine(saved, self.geometry, self.floor_stats) if saved
                    else first_time_settings(self.geometry))
        self.session = Session(member=member, name=name or (profile.name if profile else ""), role=role,
                               started=now, settings=settings, profile=profile, first_time=saved is None)
        self.engine = self._new_engine(settings)
        self._last_activity_mm = self.sensor.monitor.last_mm
        self._set_mode("session")
        self.usage.session_started(now)
        self._emit(SessionStart(ts=now, session=self.session.id, member=member, role=role))

    def _new_engine(self, settings: MachineSettings) -> CueEngine:
        return CueEngine(settings=settings, geometry=self.geometry, thresholds=self.config.cues,
                         session=self._session_id())

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
                self._save_profile(session)
        except Exception:
            log.exception("closing the session of %s failed; ending it anyway", session.member)
        self.usage.session_ended(session.reps, session.liftoffs)
        self._emit(SessionEnd(ts=now, session=session.id, reason=reason, sets=len(session.sets), reps=session.reps,
                              member=session.member, duration_s=max(0.0, now - session.started),
                              max_depth_mm=session.max_depth_mm, liftoffs=session.liftoffs))
        self.session, self.engine = None, None
        self._set_mode(self._resting_mode())

    def _resting_mode(self) -> KioskMode:
        return "out_of_order" if self.out_of_order_reason else "idle"

    def _close_set(self, now: float) -> None:
        if self.engine is not None:
            for event in self.engine.end(self.sensor.monitor.sensor_time(now)):
                self._emit(event)

    def _save_profile(self, session: Session) -> None:
        session.settings_changed = False
        self.profiles.save(session.member, session.name, session.settings)

    def _handle_settings(self, settings: MachineSettings) -> None:
        if self.session is None:
            return
        self.session.settings, self.session.first_time = settings, False
        self.session.settings_changed, self.session.erased = True, False
        self.engine = self._new_engine(settings)
        self._mark_activity()
        self._save_profile(self.session)

    def _session_id(self) -> str | None:
        return self.session.id if self.session else None

    # -- pain ------------------------------------------------------------------

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

    # -- activity and the sensor (core thread) ------------------------------------

    def _mark_activity(self, at: float | None = None) -> None:
        at = self.clock.now() if at is None else at
        if self.session:
            self.session.last_activity = at
        elif self.mode == "maintenance":
            self._maintenance_active_at = at

    def _on_depth(self, sample: DepthSample, received_at: float) -> None:
        watched = self.session is not None or self.mode == "maintenance"
        moved = self._last_activity_mm is None or abs(sample.mm - self._last_activity_mm) >= ACTIVITY_MM
        if watched and moved:
            self._last_activity_mm = sample.mm
            self._mark_activity(received_at)
        if self.engine is not None:
            for event in self.engine.on_depth(sample):
                self._emit(event)

    def _on_liftoff(self, event: LiftoffEvent, received_at: float) -> None:
        self._mark_activity(received_at)
        if self.engine is not None:
            for out in self.engine.on_liftoff(event):
                self._emit(out)

    def _sensor_restarted(self) -> None:
        if self.engine is not None:
            for event in self.engine.sensor_restarted():
                self._emit(event)

    def defences(self) -> DefenceCounters:
        return defence_counters(self.floor_stats, self.profiles.book.stats, self.commands.redirected,
                                self.revocations.stats, self.scanner.source)

    def journal_health(self) -> JournalHealth | None:
        return self.events.health.model_copy() if self.events.started else None

    def usage_today(self, now: float) -> tuple[int, float | None]:
        return self.usage.sessions_today(now), self.usage.last_liftoff_rate

    def sensor_health(self, now: float) -> SensorHealth:
        return self.sensor.health(now, self.engine.health if self.engine else None)

    # -- profiles ---------------------------------------------------------------

    def _profile_received(self, member: str, profile: MemberProfile | None) -> None:
        session = self.session
        if session is None or session.member != member:
            return
        if profile is None:
            # Erased by an operator while at the machine: nothing of this session is saved back.
            session.profile, session.settings_changed, session.erased = None, False, True
            return
        if session.settings_changed:
            return
        # A newer profile arrived for the member at the machine (saved on another kiosk, or the
        # retained copy came in after the scan): show it, unless they already edited here.
        saved = profile.machines.get(self.settings.machine_model)
        saved = on_this_machine(saved, self.geometry, self.floor_stats) if saved else None
        session.profile = profile
        if saved is not None and saved != session.settings:
            session.settings, session.first_time = saved, False
            self.engine = self._new_engine(saved)
            self._notify(ScanFeedback(accepted=True, message=wording.SETTINGS_UPDATED, member=member,
                                      name=session.name, role=session.role))

    def _profile_saved(self, profile: MemberProfile) -> None:
        session = self.session if self.session and self.session.member == profile.member else None
        if session:
            session.profile = profile
        self._emit(ProfileSaved(ts=self.clock.now(), session=session.id if session else None,
                                member=profile.member, rev=profile.rev))

    # -- operators -------------------------------------------------------------

    def _config_applied(self, config: KioskConfig) -> None:
        self.geometry = geometry_for(self.settings.machine_model, config)
        self.sensor.set_travel(self.geometry.travel_mm)
        self.presence.publish_info()
        self.home_assistant.apply(config)

    def _register_commands(self) -> None:
        handlers: dict[str, CommandHandler] = {
            "out_of_order": self._cmd_out_of_order,
            "in_service": self._cmd_in_service,
            "message": self._cmd_message,
            "end_session": self._cmd_end_session,
            "diagnostics": lambda _cmd: self._self_test(),
            "rebirth": self._cmd_rebirth,
            "restart": self._cmd_restart,
        }
        for name, handler in handlers.items():
            self.commands.register(name, handler)

    def _cmd_out_of_order(self, cmd: Command) -> ModeReply:
        assert isinstance(cmd, OutOfOrder)
        self.out_of_order_reason = cmd.reason
        if self.session:
            # The member may still be under the weight: their pain button keeps working for a while.
            self._cut_short = self.session
            self.session.last_activity = self.clock.now()
            self._end_session("command")
        if self.mode != "maintenance":
            self._set_mode("out_of_order")
        self._notify(OperatorNotice(kind="out_of_order", text=cmd.reason))
        return ModeReply(mode=self.mode)

    def _cmd_in_service(self, _cmd: Command) -> ModeReply:
        self.out_of_order_reason = None
        if self.mode == "out_of_order":
            self._set_mode("idle")
        self._notify(OperatorNotice(kind="in_service", text=""))
        return ModeReply(mode=self.mode)

    def _cmd_message(self, cmd: Command) -> MessageShown:
        assert isinstance(cmd, ShowMessage)
        self._notify(OperatorNotice(kind="message", text=cmd.text, seconds=cmd.seconds))
        return MessageShown(shown_s=cmd.seconds)

    def _cmd_end_session(self, _cmd: Command) -> SessionEnded:
        ended = self._session_id()
        self._end_session("command")
        return SessionEnded(ended_session=ended)

    def _cmd_rebirth(self, _cmd: Command) -> Republished:
        self.presence.announce()
        self.operators.publish_state()
        return Republished(republished=["status", "info", "config/state"])

    def _cmd_restart(self, _cmd: Command) -> Restarting:
        if self.on_restart is None:
            raise RuntimeError("this kiosk was not started by a supervisor that can restart it")
        # After the reply is on its way: the app stops the core and exits for systemd to restart it.
        self.inbox.post(self.on_restart)
        return Restarting(restarting=True)

    def _self_test(self) -> DiagnosticsReport:
        return run_self_test(self.clock.now(), self.mode, self.config, self.presence, self.sensor, self.profiles,
                             self.commands, self.inbox, self.keys, self.scanner)

    # -- clock, modes, events ----------------------------------------------------

    def _on_tick(self, now: float) -> None:
        for unit in self.units:
            unit.tick(now)
        if self.engine is not None and self.sensor.monitor.last_seen is not None:
            for event in self.engine.tick(self.sensor.monitor.sensor_time(now)):
                self._emit(event)
        if self.session and now - self.session.last_activity >= self.config.idle_timeout_s:
            log.info("session of %s timed out", self.session.member)
            self._end_session("timeout")
        untouched = now - self._maintenance_active_at
        if self.mode == "maintenance" and untouched >= self.config.idle_timeout_s * MAINTENANCE_IDLE_FACTOR:
            log.info("maintenance left untouched; leaving it")
            self._leave_maintenance()
        self._refresh_snapshot()

    def _leave_maintenance(self) -> None:
        if self.mode == "maintenance":
            self._set_mode(self._resting_mode())

    def _set_mode(self, mode: KioskMode) -> None:
        if mode != self.mode:
            self.mode = mode
            if mode == "maintenance":
                self._maintenance_active_at = self.clock.now()
                self._last_activity_mm = self.sensor.monitor.last_mm
            self.presence.publish_status()

    def _emit(self, event: BaseModel) -> None:
        if isinstance(event, SetEnd) and self.session is not None:
            self.session.sets.append(event)
        self.events.publish(event)
        self._notify(event)

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
        link, config = self.link, self.config
        return KioskSnapshot(
            taken_at=now, mode=self.mode, site=self.settings.site, machine=self.settings.machine,
            machine_model=self.settings.machine_model, geometry=self.geometry, config_version=config.version,
            sound=config.sound, sensor_lost_s=config.cues.sensor_lost_s,
            member=self.session.at_machine() if self.session else None,
            sled=self.sensor.reading(now, self.engine.health if self.engine else None),
            calibration=self.sensor.calibration if self.sensor.started else None,
            broker_connected=link.connected, broker_connects=link.stats.connects,
            broker_disconnects=link.stats.disconnects, camera=self.settings.camera,
            camera_running=self.scanner.running, camera_error=self.scanner.last_error, fps=self.fps)
