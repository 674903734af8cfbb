"""The member at the machine: their session, its cue engine, the guided setup and their settings.

Everything from an accepted scan to the session's end: which settings the cues use (saved, taught by
a lumbar lift-off, edited on screen, or learnt in a first-timer's guided setup), when a set closes,
and what is saved back to the member's profile. Fed by the sensor unit's samples and the profile
unit's news; its events go out through the kiosk's `emit`. Core thread only.

One cue engine per session: every later change of settings is `retune`d into it, so the member's
continuous set, and what it taught (its lumbar lift-offs, the lowered max depth, a stop already
given), survives the guided setup finishing, a save on screen, a profile arriving or a sensor restart.
What ends a set is decided by the engine alone (see `kiosk.core.cues.engine`); this module only
closes it when the session ends or the pain button is pressed.
"""

import logging
from collections.abc import Callable

from pydantic import BaseModel, ValidationError

from kiosk.contract.base import encode
from kiosk.contract.config import KioskConfig, MachineGeometry
from kiosk.contract.events import (
    PainKind,
    ProfileSaved,
    Role,
    SessionEnd,
    SessionEndReason,
    SessionStart,
    SetEnd,
)
from kiosk.contract.profile import MachineSettings, MaxLowered, MemberProfile
from kiosk.contract.sensor import DepthSample, LiftoffEvent
from kiosk.core.cues.engine import CueEngine
from kiosk.core.machine.depth_limits import with_target_margin
from kiosk.core.machine.models import FloorStats, first_time_settings, on_this_machine
from kiosk.core.modes import Modes
from kiosk.core.profiles.cache import MAX_PROFILE_BYTES
from kiosk.core.profiles.sync import ProfileSync
from kiosk.core.sensor.health import SensorMonitor
from kiosk.core.snapshot import LastVisit, ScanFeedback, SetupProgress
from kiosk.core.training.guided_setup import GuidedSetup, SetupAction
from kiosk.core.training.history import day_of, visit_of, with_visit
from kiosk.core.training.session import Session, UsageToday
from kiosk.core.unit import Wiring
from kiosk.words import wording

log = logging.getLogger(__name__)
# Room left in a profile for a longer name and a larger revision than the ones it is measured with.
PROFILE_HEADROOM_BYTES = 256


class Training:
    """The session of the member at the machine and the cue engine watching their set."""

    def __init__(self, wiring: Wiring, profiles: ProfileSync, monitor: SensorMonitor, modes: Modes,
                 config: Callable[[], KioskConfig], geometry: Callable[[], MachineGeometry],
                 on_end: Callable[[], None]) -> None:
        """`config()`, `geometry()`: what is in force now; `on_end()`: a session just ended."""
        self.wiring = wiring
        self.session: Session | None = None
        self.engine: CueEngine | None = None
        self.setup: GuidedSetup | None = None  # a first-timer's guided setup, fed from the sensor stream
        self.usage = UsageToday()
        self.floor_stats = FloorStats()  # profile values the safety floors changed, for telemetry
        self._profiles = profiles
        self._monitor = monitor
        self._modes = modes
        self._config = config
        self._geometry = geometry
        self._on_end = on_end

    def session_id(self) -> str | None:
        return self.session.id if self.session else None

    def member(self) -> str | None:
        return self.session.member if self.session else None

    # -- sessions ------------------------------------------------------------------

    def begin(self, member: str, name: str, role: Role, now: float) -> None:
        """An accepted member code: their saved settings, or a first-timer's safe ones and the guided setup."""
        geometry = self._geometry()
        self._profiles.watch(member)
        profile, saved = self._profiles.settings_for(member)
        settings = on_this_machine(saved, geometry, self.floor_stats) if saved else first_time_settings(geometry)
        kept = with_target_margin(settings)
        self.session = session = Session(member=member, name=name or (profile.name if profile else ""), role=role,
                                         started=now, settings=kept, profile=profile, first_time=saved is None)
        # A profile saved before the target was kept short of the max is repaired at the session's end
        # (only that: what the machine's notches or travel clamp stays as saved, for other machines).
        session.settings_changed = saved is not None and with_target_margin(saved) is not saved
        self.engine = self._new_engine(kept)
        self._modes.set("session")
        self.usage.session_started(now)
        self._emit(SessionStart(ts=now, session=session.id, member=member, role=role))
        if kept.history:
            self.wiring.notify(LastVisit(member=member, visit=kept.history[-1], load_kg=kept.load_kg))
        if session.first_time:
            # Not `guided_setup`, which counts as a touch: read at the clock after `session_start` went out,
            # it could move the session's last activity past its start (a timeout late by that much).
            self._start_setup(session)

    def end(self, reason: SessionEndReason) -> None:
        """The session ends (logout, timeout, command): its set closed, what it learnt saved, told once."""
        session, now = self.session, self.wiring.clock.now()
        if session is None:
            return
        try:
            self.close_set(now)
            learnt = self._learnt() if self.engine else session.settings
            if learnt != session.settings and not session.erased:
                session.settings, session.settings_changed = learnt, True
            visit = visit_of(session.sets, day_of(now))
            if visit is not None and not session.erased and session.role == "member":
                session.settings = with_visit(session.settings, visit, self._fits(session))
                session.settings_changed = True
            if session.settings_changed:
                self._save(session)
        except Exception:
            log.exception("closing the session of %s failed; ending it anyway", session.member)
        self.usage.session_ended(session.reps, session.liftoffs)
        self._emit(SessionEnd(ts=now, session=session.id, reason=reason, sets=len(session.sets), reps=session.reps,
                              member=session.member, duration_s=max(0.0, now - session.started),
                              max_depth_mm=session.max_depth_mm, liftoffs=session.liftoffs,
                              volume_kg=session.volume_kg))
        self.session, self.engine, self.setup = None, None, None
        self._profiles.watch(None)
        self._on_end()
        self._modes.rest()

    def close_set(self, now: float) -> None:
        if self.engine is not None:
            for event in self.engine.end(self._monitor.sensor_time(now)):
                self._emit(event)

    def touched(self, at: float) -> None:
        if self.session is not None:
            self.session.last_activity = at

    def tick(self, now: float) -> None:
        if self.engine is not None and self._monitor.last_seen is not None:
            for event in self.engine.tick(self._monitor.sensor_time(now)):
                self._emit(event)
        if self.session and now - self.session.last_activity >= self._config().idle_timeout_s:
            log.info("session of %s timed out", self.session.member)
            self.end("timeout")

    # -- settings ------------------------------------------------------------------

    def save_settings(self, settings: MachineSettings, language: str | None = None) -> None:
        """The member's own settings (edited on screen, or learnt by the guided setup): in force and saved;
        with the language they tapped, if they did (a new rev, even with the same settings)."""
        session = self.session
        if session is None:
            return
        session.language = language or session.language
        settings = with_target_margin(settings)
        if settings != session.settings:
            settings = self._retune(settings)
        session.settings, session.first_time = settings, False
        session.settings_changed, session.erased = True, False
        self.touched(self.wiring.clock.now())
        self._save(session)

    def set_load(self, load_kg: float | None) -> None:
        """The load the member pressed (the set screen's stepper), kept with their settings on this machine.

        Only the load changes: the engine is retuned, never replaced, so the open set keeps its lift-off
        count and the max depth it taught. A load the contract refuses (negative, absurd) changes nothing.
        """
        session = self.session
        if session is None:
            return
        try:
            settings = MachineSettings.model_validate({**session.settings.model_dump(), "load_kg": load_kg})
        except ValidationError:
            log.warning("load %r refused: outside the contract's range", load_kg)
            return
        if settings == session.settings:
            return
        session.settings = self._retune(settings)
        session.settings_changed = True
        self.touched(self.wiring.clock.now())
        if not session.erased:
            self._save(session)

    def _retune(self, settings: MachineSettings) -> MachineSettings:
        """New settings into the session's engine, mid-set too; returns the settings now in force.

        The set goes on with what it taught: a new engine would start its lumbar lift-off count at zero,
        and a member whose back lifted on the rep that finished the guided setup would not be stopped
        by the next. Never deeper than the max depth the session already has.
        """
        engine = self.engine
        if engine is None:
            return settings
        engine.retune(settings, self._geometry(), self._config().cues)
        return with_target_margin(self._learnt())

    def pain_reported(self, kind: PainKind) -> None:
        """Pain told by the member at the machine: no more coaching this session, and no more sets after a
        pain that may come from a nerve or an injury (they were told so on screen)."""
        if self.engine is not None:
            # A set opened after the pain button (a second press is the same episode, so it closed nothing)
            # ends with the report.
            self.close_set(self.wiring.clock.now())
            self.engine.pain_reported(ends_training=kind in wording.PAIN_ENDS_TRAINING)

    def _follow_learnt_limits(self) -> None:
        """The session's settings take the max (and target) depth a lumbar lift-off just taught the engine.

        Done before the lift-off's cue goes out, so the snapshot the screen reads with that cue already
        has the new limits and the gauge draws them in the same frame. Saved at once, not at the
        session's end: a lowered limit is a safety fact, and a kiosk killed or unplugged mid-session
        must not greet the member next time with the depth that lifted their back.
        """
        session, engine = self.session, self.engine
        if session is None or engine is None:
            return
        learnt = self._learnt()
        if learnt == session.settings:
            return
        session.settings = learnt
        if not session.erased:
            self._save(session)

    def _learnt(self) -> MachineSettings:
        """The engine's learnt settings, with the reason the max was lowered when a lift-off lowered it.

        The reason is made once, from the settings in force just before the lowering (a lift-off reaches
        `_follow_learnt_limits` before anything else runs), and keeps the max from before any earlier
        lowering: that is what a staff restore brings back.
        """
        session, engine = self.session, self.engine
        assert session is not None and engine is not None
        learnt = engine.learnt_settings()
        if engine.lowered_at_mm is None:
            return learnt
        if session.max_lowered is None:
            before = session.settings
            earlier = before.max_lowered
            from_mm = max(before.max_depth_mm, earlier.from_mm if earlier else 0.0)
            session.max_lowered = MaxLowered(from_mm=from_mm, liftoff_mm=engine.lowered_at_mm,
                                             ts=self.wiring.clock.now())
        return learnt.model_copy(update={"max_lowered": session.max_lowered})

    def _new_engine(self, settings: MachineSettings) -> CueEngine:
        return CueEngine(settings=settings, geometry=self._geometry(), thresholds=self._config().cues,
                         session=self.session_id())

    def _fits(self, session: Session) -> Callable[[MachineSettings], bool]:
        """Whether the member's profile, with these settings for this machine model, stays under the 8 KiB
        every kiosk accepts (with room for a name and the revision to grow)."""
        profile = self._profiles.book.get(session.member)
        model = self.wiring.settings.machine_model

        def fits(settings: MachineSettings) -> bool:
            machines = {**(profile.machines if profile else {}), model: settings}
            whole = MemberProfile(member=session.member, name=session.name, rev=0, updated=0.0, machines=machines)
            return len(encode(whole)) <= MAX_PROFILE_BYTES - PROFILE_HEADROOM_BYTES
        return fits

    def _save(self, session: Session) -> None:
        session.settings_changed = False
        self._profiles.save(session.member, session.name, session.settings, session.language)

    # -- the guided setup --------------------------------------------------------------

    def guided_setup(self, action: SetupAction) -> None:
        session = self.session
        if session is None:
            return
        self.touched(self.wiring.clock.now())
        if action == "skip":
            self.setup = None
            self.wiring.notify(SetupProgress(session=session.id, stage="skipped", reps_done=0, reps_needed=0,
                                             fast_reps=0))
            self.save_settings(session.settings)  # saved: the next visit is a normal one
            return
        self._start_setup(session)

    def _start_setup(self, session: Session) -> None:
        self.setup = GuidedSetup(max_depth_mm=session.settings.max_depth_mm)
        self.wiring.notify(self.setup.progress(session.id))

    def _feed_setup(self, sample: DepthSample) -> None:
        setup, session = self.setup, self.session
        if setup is None or session is None or setup.done:
            return
        counted = (len(setup.reps), setup.fast_reps, setup.lifted_reps)
        result = setup.update(sample.mm, sample.ts)
        if result is not None:
            # Learnt: into the settings at once (kept short of the max) and saved, so a member who goes
            # straight on to press gets cues for their own range, on screen or headless. The screen is
            # told what was saved, not what the reps taught: the floors (target short of a max a lift-off
            # lowered) may have moved it, and the member must read the range they will train with.
            self.save_settings(result.apply(session.settings))
            self.wiring.notify(setup.progress(session.id, saved=session.settings))
        elif counted != (len(setup.reps), setup.fast_reps, setup.lifted_reps):
            self.wiring.notify(setup.progress(session.id))

    # -- the sensor ----------------------------------------------------------------------

    def on_depth(self, sample: DepthSample) -> None:
        if self.engine is not None:
            for event in self.engine.on_depth(sample):
                self._emit(event)
        # After the engine: the rep that completes the setup is counted in its set before the set closes.
        self._feed_setup(sample)

    def on_liftoff(self, event: LiftoffEvent) -> None:
        if self.setup is not None:
            # A rep the back or the hips left the pad in teaches no target.
            self.setup.liftoff(event.zone, started=event.state == "start")
        if self.engine is not None:
            events = self.engine.on_liftoff(event)
            self._follow_learnt_limits()
            for out in events:
                self._emit(out)

    def sensor_restarted(self) -> None:
        if self.setup is not None:
            self.setup.sensor_restarted()
        if self.engine is not None:
            for event in self.engine.sensor_restarted():
                self._emit(event)

    # -- profiles ----------------------------------------------------------------------

    def profile_received(self, member: str, profile: MemberProfile | None) -> None:
        session = self.session
        if session is None or session.member != member:
            return
        if profile is None:
            # Erased by an operator while at the machine: nothing of this session is saved back.
            session.profile, session.settings_changed, session.erased = None, False, True
            return
        # A newer profile arrived for the member at the machine (saved on another kiosk, or the
        # retained copy came in after the scan): show it, unless they already edited here.
        saved = profile.machines.get(self.wiring.settings.machine_model)
        saved = on_this_machine(saved, self._geometry(), self.floor_stats) if saved else None
        session.profile = profile
        if saved is None or saved == session.settings or session.settings_changed:
            return
        if not self._untouched():
            # Once the member has pressed, this session's settings stay: what they train with does not
            # change under them mid-set, whoever sent the profile. They are saved again at the end,
            # over the newer revision.
            session.settings_changed = True
            log.warning("profile of %s (rev %d) arrived mid-session: kept for the next visit", member, profile.rev)
            return
        session.settings, session.first_time = self._retune(saved), False
        self.wiring.notify(ScanFeedback.told(True, wording.SETTINGS_UPDATED, member=member, name=session.name,
                                             role=session.role))

    def _untouched(self) -> bool:
        """Nothing of the session's training yet: no set, no rep, no lift-off, nothing learnt."""
        session, engine = self.session, self.engine
        return (session is not None and not session.sets and engine is not None and not engine.set_open
                and engine.reps_in_set == 0 and engine.learnt_settings() == engine.settings)

    def profile_saved(self, profile: MemberProfile) -> None:
        session = self.session if self.session and self.session.member == profile.member else None
        if session:
            session.profile = profile
        self._emit(ProfileSaved(ts=self.wiring.clock.now(), session=session.id if session else None,
                                member=profile.member, rev=profile.rev))

    def _emit(self, event: BaseModel) -> None:
        if isinstance(event, SetEnd) and self.session is not None:
            self.session.sets.append(event)
        self.wiring.emit(event)
