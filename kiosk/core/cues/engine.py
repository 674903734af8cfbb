"""The live cue engine: depth samples and lift-off events in, contract events out.

A pure state machine. It never reads a clock: every input carries its time
(the sensor's `ts`, or `now` for `tick` and `end`, on the sensor's clock), so
a recorded trace replays to exactly the same events.

One engine watches one member's whole session. New settings (saved on
screen, learnt by the guided setup, a profile that arrived) are `retune`d
into it and a restarted sensor node only resets the stream: what the open set
has taught (its lift-offs, the lowered max depth, a stop already given)
belongs to the member's continuous set, and a new engine would forget it.
A set ends here and only here (`_close_set`), for one of these reasons: the
sled rested at the top for `set_rest_s`, enough lumbar lift-offs stopped it,
or the kiosk closed it (`end`: the session ended, or the pain button).
"""

from pydantic import TypeAdapter, ValidationError

from kiosk.contract.base import Timestamp
from kiosk.contract.config import CueThresholds, MachineGeometry
from kiosk.contract.events import CueId, CueRaised, RepDone, SensorFault, SetEnd, Severity, severity_rank
from kiosk.contract.profile import MachineSettings
from kiosk.contract.sensor import DepthSample, LiftoffEvent
from kiosk.core.cues.gate import CueGate
from kiosk.core.cues.health import DUPLICATE, RESTART, EventGuard, SeqGuard, StreamHealth
from kiosk.core.cues.reps import DESCENT, REP, TURN, Phase, RepTracker
from kiosk.core.cues.safety import depth_floor, lowered_max_depth
from kiosk.core.cues.set_record import WINDOW_SAMPLES, SetRecord, mechanics_of
from kiosk.core.machine.advice import stop_suggestions
from kiosk.core.machine.depth_limits import target_short_of_max
from kiosk.core.machine.models import is_pressing, within_floors

CueEvent = CueRaised | RepDone | SetEnd | SensorFault

# Readings this far outside the sled's travel are still believed (calibration
# offset plus noise); beyond it the sensor is misreading.
RANGE_TOLERANCE_MM = 20.0
# Sensor faults are for staff: one report per this interval, with a count.
FAULT_REPEAT_S = 10.0
LOCKOUT_READINGS = 3

_TIMESTAMP = TypeAdapter(Timestamp)

# Cues that coach technique (depth, tempo, lockout). After a pain report none is given for the rest of the
# session: a member told to stop must not hear "good depth: push". Lift-offs and a lost sensor still are.
COACHING_CUES: frozenset[CueId] = frozenset(
    {"depth_reached", "shallow", "too_deep", "descent_fast", "bounce", "lockout", "velocity_loss"})


def _priority(event: CueEvent) -> int:
    # Most urgent first; events that are not cues come after every cue.
    return -severity_rank(event.severity) if isinstance(event, CueRaised) else 1


def _is_time(value: float) -> bool:
    try:
        _TIMESTAMP.validate_python(value)
    except ValidationError:
        return False
    return True


class CueEngine:
    """Counts reps and raises live cues for one member's session on one machine.

    Each input returns the events it caused, cues first in priority order
    (stop, warn, info), then reps, set ends and sensor faults. A lumbar
    lift-off lowers the member's max depth (see `learnt_settings`); enough of
    them in one set stop the set. Whatever settings it is given, it works
    within the depth floors (`kiosk.core.machine.models.within_floors`).
    """

    def __init__(self, settings: MachineSettings, geometry: MachineGeometry,
                 thresholds: CueThresholds | None = None, session: str | None = None, sets_before: int = 0,
                 record: SetRecord | None = None):
        """`sets_before`: sets the session already had, so an engine that takes over mid-session numbers
        its first set after them. `record`: what keeps the training record (the benchmark gives one that
        keeps none, to price the figures)."""
        thresholds = thresholds or CueThresholds()
        self._sets_before = sets_before
        self.session = session
        kept = within_floors(settings, geometry)[0]
        # The max depth in force only ever gets shallower within the session (lift-offs, or settings with less);
        # what a lift-off may teach is bounded by the max the session started with.
        self._max = self._session_max = kept.max_depth_mm
        # Where the lumbar lift-off that lowered the max was, or None. Once a session, and by at most the
        # floor's bound (`depth_floor`): lowered on every lift-off, a member's range only ever shrank (211 mm
        # to 113 mm in one session, issue 22); the stop rule (two lumbar lift-offs in a set) and the target
        # kept short of the max protect them meanwhile, and staff restore a max once its cause is fixed.
        self.lowered_at_mm: float | None = None
        self._tracker = RepTracker(thresholds.hysteresis_mm)
        self._record = record or SetRecord()
        self._keep = self._record.samples.append
        self._gate = CueGate(thresholds.repeat_s)
        self._apply(kept, geometry, thresholds)
        self._depth_seq = SeqGuard()
        self._event_seq = EventGuard()
        self._health = StreamHealth()
        self._sets: list[SetEnd] = []
        self._set_open = False
        self._blind = False  # a set a lift-off opened while depth was silent: no rest can be seen to end it
        # After a set ends mid-rep, the sled must settle at the top before a
        # new set can start: pushing back up from a stop is not a descent.
        self._armed = True
        self._reps = 0
        self._set_deepest = 0.0
        self._liftoffs = 0
        self._lumbar = 0
        self._reached = self._too_deep = self._locked_out = False
        self._past_top = 0
        self._last_mm: float | None = None
        self._last_ts: float | None = None
        self._lost = False
        self._range_report_ts: float | None = None
        self._range_unreported = 0
        self._stale_report_ts: float | None = None
        self._stale_unreported = 0
        self._coaching = True  # False after a pain report: no more coaching cues this session
        self._sets_allowed = True  # False after a pain that ends training: no new set is counted

    def _apply(self, settings: MachineSettings, geometry: MachineGeometry, thresholds: CueThresholds) -> None:
        """What follows from the settings in force; the max depth is never taken deeper than it already is."""
        self.settings, self.geometry, self.thresholds = settings, geometry, thresholds
        self._max = min(self._max, settings.max_depth_mm)
        # An old profile may have its target at the max: every rep reaching it would also be too deep.
        self._target = target_short_of_max(settings.target_depth_mm, self._max, settings.top_mm)
        self._floor = depth_floor(settings.top_mm, self._session_max)
        # A third of the hysteresis is the noise band: a member resting right at
        # the top position must not read as locking out on every noisy sample.
        self._lockout_mm = settings.top_mm - thresholds.lockout_margin_mm - thresholds.hysteresis_mm / 3
        self._lowest_mm = -RANGE_TOLERANCE_MM
        self._deepest_mm = geometry.travel_mm + RANGE_TOLERANCE_MM
        self._tracker.retune(thresholds.hysteresis_mm)
        self._gate.repeat_s = thresholds.repeat_s
        self._mechanics = mechanics_of(geometry)

    # -- inputs ------------------------------------------------------------

    def on_depth(self, sample: DepthSample) -> list[CueEvent]:
        ts, mm = sample.ts, sample.mm
        verdict = self._depth_seq.admit(sample.seq, ts)
        if verdict and self._refused(verdict):
            return []
        if not self._lowest_mm <= mm <= self._deepest_mm:
            return self._out_of_range(ts, mm)
        tracker = self._tracker
        if self._last_ts is None:
            # The first sample of a stream (at the start, or after a restart mid-set). Down in a set, the
            # member is mid-rep; at the top, the sled has rested there since now, not since the old clock.
            if self._set_open and is_pressing(mm, self.settings):
                tracker.resume_mid_rep(ts, mm)
            else:
                tracker.top_since = ts
        self._last_mm, self._last_ts = mm, ts
        if self._lost:
            self._lost = False
            # A lowering timed across a gap means nothing; drop that rep. A push
            # that was nearly home before the gap still counts.
            if tracker.phase == "lowering" or tracker.phase == "bottom":
                tracker.drop_rep()
        out: list[CueEvent] = []
        self._keep(sample)
        if len(self._record.samples) > WINDOW_SAMPLES:
            self._record.trim()
        flags = tracker.update(ts, mm)
        if flags:
            self._transitions(flags, ts, out)
        if self._set_open:
            self._watch(ts, mm, out)
        elif not self._armed and tracker.phase == "top":
            self._armed = True
        if len(out) > 1:
            out.sort(key=_priority)
        return out

    def on_liftoff(self, event: LiftoffEvent) -> list[CueEvent]:
        ts = event.ts
        verdict = self._event_seq.admit(event.seq, ts)
        if verdict and self._refused(verdict):
            return []
        if event.state != "start":
            return []
        if not self._set_open:
            # Outside a set the member is getting in or out of the seat, as far as depth can tell. With no
            # depth to tell (silent, or refused under a flood) the lift-off is the safety signal: it opens
            # the set it belongs to and counts there.
            if not self._depth_silent(ts):
                return []
            self._open_set()
            self._blind = True
        out: list[CueEvent] = []
        self._liftoffs += 1
        if event.zone == "lumbar":
            self._lumbar_liftoff(ts, out)
        else:
            self._cue(out, "liftoff_pelvis", "warn", ts)
        return out

    def tick(self, now: float) -> list[CueEvent]:
        """Let time pass without samples: notices a silent sensor, and a set resting at the top."""
        out: list[CueEvent] = []
        if not self._set_open or not _is_time(now):
            return out
        if not self._lost and self._last_ts is not None and now - self._last_ts >= self.thresholds.sensor_lost_s:
            self._lost = True
            self._cue(out, "sensor_lost", "warn", now)
            # A stream that keeps stalling (or a forged sample that keeps making it look stalled) is one
            # fault per FAULT_REPEAT_S in the record, saying how many stalls it stands for.
            self._stale_unreported += 1
            last = self._stale_report_ts
            if last is None or not 0 <= now - last < FAULT_REPEAT_S:
                count, self._stale_unreported, self._stale_report_ts = self._stale_unreported, 0, now
                more = f" ({count} stalls since the last report)" if count > 1 else ""
                out.append(SensorFault(ts=now, session=self.session, fault="stale",
                                       detail=f"no depth reading for {now - self._last_ts:.1f} s; "
                                              f"live cues are off{more}"))
        self._rest_check(now, out)
        return out

    def sensor_restarted(self) -> list[CueEvent]:
        """The node restarted (the kiosk saw its new `ready` and `seq` back near 0): its clock may have moved.

        Times from before and after cannot be compared, so the stream starts
        afresh: the rep in progress is dropped and the sled is followed anew.
        The set stays open with what it taught: the member never racked the
        weight, and a second lumbar lift-off after the restart must still
        stop it. It ends as any set does (a rest at the top, timed on the new
        clock from the first new sample).
        """
        self._health.restarts += 1
        self._depth_seq = SeqGuard()
        self._tracker = RepTracker(self.thresholds.hysteresis_mm)
        self._record.restart_stream()
        self._lost = False
        self._last_mm = self._last_ts = None
        return []

    def retune(self, settings: MachineSettings, geometry: MachineGeometry, thresholds: CueThresholds) -> None:
        """The member's new settings (saved on screen, learnt by the guided setup, a profile that arrived),
        with the machine and thresholds in force now, for the rest of the session.

        Mid-set too, and the set goes on: its reps, lift-offs and the max depth
        they taught stay. Settings deeper than that max do not deepen it.
        """
        if settings.max_depth_mm > self._max:
            # Unvalidated on purpose: `within_floors` puts top, target and max back in order.
            settings = settings.model_copy(update={"max_depth_mm": self._max})
        self._apply(within_floors(settings, geometry)[0], geometry, thresholds)

    def pain_reported(self, ends_training: bool) -> None:
        """The member reported pain: no coaching cue for the rest of the session, and when the pain ends
        training, no new set either (a set the pain button closed stays closed)."""
        self._coaching = False
        if ends_training:
            self._sets_allowed = False

    def end(self, now: float) -> list[CueEvent]:
        """Close the open set, if any (the session ends, or the member pressed stop)."""
        out: list[CueEvent] = []
        if self._set_open:
            ts = now if _is_time(now) else (self._last_ts or 0.0)
            self._close_set(ts, out)
        return out

    # -- what the session and the screen read --------------------------------

    @property
    def phase(self) -> Phase:
        return self._tracker.phase

    @property
    def set_open(self) -> bool:
        return self._set_open

    @property
    def reps_in_set(self) -> int:
        """Reps finished in the open set (0 between sets)."""
        return self._reps

    @property
    def last_depth_mm(self) -> float | None:
        return self._last_mm

    @property
    def max_depth_mm(self) -> float:
        """The member's max depth, lowered by lumbar lift-offs during this session."""
        return self._max

    @property
    def target_depth_mm(self) -> float:
        return self._target

    @property
    def sets(self) -> list[SetEnd]:
        return list(self._sets)

    @property
    def health(self) -> StreamHealth:
        h = self._health
        return StreamHealth(h.duplicates, h.out_of_order, h.out_of_range, h.restarts)

    def learnt_settings(self) -> MachineSettings:
        """The session's settings with the learnt max (and, if needed, target) depth, to save to the profile."""
        if self._max == self.settings.max_depth_mm and self._target == self.settings.target_depth_mm:
            return self.settings
        return self.settings.model_copy(update={"max_depth_mm": self._max, "target_depth_mm": self._target})

    # -- internals -----------------------------------------------------------

    def _depth_silent(self, ts: float) -> bool:
        return self._lost or self._last_ts is None or ts - self._last_ts >= self.thresholds.sensor_lost_s

    def _refused(self, verdict: int) -> bool:
        if verdict == RESTART:
            self._health.restarts += 1
            return False
        if verdict == DUPLICATE:
            self._health.duplicates += 1
        else:
            self._health.out_of_order += 1
        return True

    def _out_of_range(self, ts: float, mm: float) -> list[CueEvent]:
        self._health.out_of_range += 1
        self._range_unreported += 1
        last = self._range_report_ts
        if last is not None and 0 <= ts - last < FAULT_REPEAT_S:
            return []
        self._range_report_ts = ts
        count, self._range_unreported = self._range_unreported, 0
        detail = f"{count} depth reading(s) outside 0-{self.geometry.travel_mm:g} mm of travel, last {mm:.0f} mm"
        return [SensorFault(ts=ts, session=self.session, fault="out_of_range", detail=detail)]

    def _transitions(self, flags: int, ts: float, out: list[CueEvent]) -> None:
        if self._set_open:
            if flags & REP:
                self._rep_done(ts, out)
            if flags & TURN:
                self._turned(ts, out)
        if flags & DESCENT:
            self._record.rep_started()
            if not self._set_open:
                if not self._armed or not self._sets_allowed:
                    return
                self._open_set()
            self._reached = self._too_deep = self._locked_out = False
            self._past_top = 0

    def _open_set(self) -> None:
        self._set_open, self._blind = True, False
        self._reps = self._liftoffs = self._lumbar = 0
        self._set_deepest = self._last_mm or 0.0
        self._record.open()

    def _rep_done(self, ts: float, out: list[CueEvent]) -> None:
        rep = self._tracker.finished
        if rep is None:
            return
        self._reps += 1
        record = self._record.rep(rep, self._mechanics, self.settings.load_kg, self.thresholds.velocity_loss_pct)
        figures = record.figures
        out.append(RepDone(ts=ts, session=self.session, rep=self._reps, depth_mm=round(rep.depth_mm, 1),
                           eccentric_s=round(rep.eccentric_s, 2), concentric_s=round(rep.concentric_s, 2),
                           mean_velocity_mps=None if figures is None else round(figures.mean_velocity_mps, 3),
                           peak_velocity_mps=None if figures is None else round(figures.peak_velocity_mps, 3),
                           rom_mm=None if figures is None else round(figures.rom_mm, 1),
                           power_w=None if record.power_w is None else round(record.power_w, 1)))
        if record.crossed:
            # Once per set, at the rep that crossed; an info cue, so it sorts after any warn or stop.
            self._cue(out, "velocity_loss", "info", ts, gated=False, rep=self._reps)

    def _turned(self, ts: float, out: list[CueEvent]) -> None:
        rep = self._tracker.rep
        if rep is None:
            return
        th = self.thresholds
        if rep.depth_mm < th.shallow_fraction * self._target:
            self._cue(out, "shallow", "info", ts)
        if rep.eccentric_s < th.descent_fast_s:
            self._cue(out, "descent_fast", "info", ts)
        if rep.reversal_mm_s2 >= th.bounce_mm_s2:
            self._cue(out, "bounce", "info", ts)

    def _watch(self, ts: float, mm: float, out: list[CueEvent]) -> None:
        """Checks on every sample of an open set."""
        if mm > self._set_deepest:
            self._set_deepest = mm
        phase = self._tracker.phase
        if phase == "lowering" or phase == "bottom":
            if not self._reached and mm >= self._target - self.thresholds.depth_reached_tolerance_mm:
                self._reached = self._cue(out, "depth_reached", "info", ts)
            if not self._too_deep and mm > self._max:
                self._too_deep = self._cue(out, "too_deep", "warn", ts)
        else:
            self._watch_top(ts, mm, out)
            if phase == "top":
                self._rest_check(ts, out)

    def _watch_top(self, ts: float, mm: float, out: list[CueEvent]) -> None:
        # Several readings in a row past the line, so one noisy reading of a
        # member resting right at the top position is not a lockout.
        if mm >= self._lockout_mm:
            self._past_top = 0
            return
        self._past_top += 1
        if not self._locked_out and self._past_top >= LOCKOUT_READINGS:
            self._locked_out = self._cue(out, "lockout", "warn", ts)

    def _rest_check(self, now: float, out: list[CueEvent]) -> None:
        tracker = self._tracker
        # Not before a sample of the current stream: after a sensor restart the tracker has no top yet. Nor
        # in a set a lift-off opened while depth is silent: no rest can be seen to end it.
        if self._last_ts is None or (self._blind and self._depth_silent(now)):
            return
        if self._set_open and tracker.phase == "top" and now - tracker.top_since >= self.thresholds.set_rest_s:
            self._close_set(now, out)

    def _lumbar_liftoff(self, ts: float, out: list[CueEvent]) -> None:
        self._lumbar += 1
        # A depth from before a sensor dropout is no measure of where the back lifted.
        if self._last_mm is not None and not self._lost and self.lowered_at_mm is None:
            lowered = round(lowered_max_depth(self._max, self._last_mm, self.thresholds.liftoff_margin_mm,
                                              self._floor), 1)
            if lowered < self._max:
                self._max, self.lowered_at_mm = lowered, round(self._last_mm, 1)
            self._target = target_short_of_max(self._target, self._max, self.settings.top_mm)
        # The lift-off cue already says to push up; a `too_deep` for the same rep,
        # caused only by the max depth just lowered, would bury it.
        self._too_deep = True
        # Every lumbar lift-off is shown, whatever the repeat interval: each one
        # is a new event that counts towards stopping the set.
        if self._lumbar >= self.thresholds.lumbar_liftoffs_to_stop:
            self._cue(out, "liftoff_lumbar", "stop", ts, gated=False)
            self._close_set(ts, out, stopped=True)
        else:
            self._cue(out, "liftoff_lumbar", "warn", ts, gated=False)

    def _close_set(self, ts: float, out: list[CueEvent], stopped: bool = False) -> None:
        record = self._record
        end = SetEnd(ts=ts, session=self.session, set_number=self._sets_before + len(self._sets) + 1, reps=self._reps,
                     max_depth_mm=round(self._set_deepest, 1), liftoffs=self._liftoffs, stopped=stopped,
                     suggestions=stop_suggestions(self.settings, self.geometry) if stopped else [],
                     load_kg=self.settings.load_kg, tut_s=round(record.tut_s, 2),
                     best_mean_velocity_mps=None if record.best_mps is None else round(record.best_mps, 3),
                     velocity_loss_pct=None if record.last_loss_pct is None else round(record.last_loss_pct, 1))
        out.append(end)
        self._sets.append(end)
        self._set_open = False
        self._reps = 0
        if self._tracker.phase != "top":
            self._tracker.drop_rep()
            self._armed = False

    def _cue(self, out: list[CueEvent], cue: CueId, severity: Severity, ts: float, gated: bool = True,
             rep: int | None = None) -> bool:
        if not self._coaching and cue in COACHING_CUES:
            return False
        if gated:
            if not self._gate.allow(cue, ts):
                return False
        else:
            self._gate.note(cue, ts)
        if rep is None:
            rep = self._reps + (self._tracker.phase != "top")
        out.append(CueRaised(ts=ts, session=self.session, cue=cue, severity=severity, rep=rep))
        return True
