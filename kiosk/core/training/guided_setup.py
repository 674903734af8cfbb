"""A first-timer's target depth and top position, learnt from two slow reps.

The member starts from safe defaults (`machine.first_time_settings`) and does
two slow, light reps only as deep as feels easy. The deepest point they
reached, less a margin, becomes their target depth (never deeper than the
max depth they already have); the highest point they rested at between reps
becomes their top position. Not that plus a margin: the lockout cue warns
when the sled comes up past the top position, so a top deeper than where the
member rests would warn "soft knees" at their normal top on every rep of every
later set. Only a rest with the legs (nearly) straight is not taken: the top
is never closer than `soft_knee_mm` to straight legs (0 mm, the calibrated zero).

`GuidedSetup` is pure logic: samples in with their own time, no clock, no
screen. The kiosk core runs it on its own sample stream for a first-time
member (so headless does it too) and tells the screen with `SetupProgress`.
"""

from dataclasses import dataclass
from typing import Literal

from kiosk.contract.profile import MachineSettings
from kiosk.contract.sensor import LiftoffZone
from kiosk.core.cues.reps import REP, Rep, RepTracker
from kiosk.core.snapshot import SetupProgress


@dataclass(frozen=True)
class SetupRep:
    """One rep seen during the guided setup."""

    top_mm: float
    depth_mm: float
    descent_s: float


@dataclass(frozen=True)
class SetupResult:
    """What the guided setup learnt; `apply` puts it into the member's settings."""

    target_depth_mm: float
    top_mm: float
    reps: tuple[SetupRep, ...]

    def apply(self, settings: MachineSettings) -> MachineSettings:
        return settings.model_copy(update={"target_depth_mm": self.target_depth_mm, "top_mm": self.top_mm})


SetupAction = Literal["restart", "skip"]


class GuidedSetup:
    """Watches the depth stream for `reps_needed` slow reps and then holds a `SetupResult`.

    Reps are found by the cue engine's `RepTracker` (hysteresis on every
    phase change), so setup and training count the same reps. A rep must go
    at least `min_range_mm` below the top it started from (less is a shuffle in
    the seat); one lowered faster than `slow_descent_s` is not counted
    (`fast_reps` grows): a quick rep bounces past where the member can hold
    the position, so it teaches the wrong depth. Nor is a rep in which the
    back or the hips left their pad (`liftoff`; `lifted_reps` grows): its
    depth is past where this member can press safely. That holds for every
    rep the pad stays empty through, not only the one the lift-off started
    in: a back that stays off the pad sends one `start` and no more.
    """

    def __init__(self, max_depth_mm: float, reps_needed: int = 2, min_range_mm: float = 60.0,
                 hysteresis_mm: float = 15.0, slow_descent_s: float = 1.5, depth_margin_mm: float = 20.0,
                 soft_knee_mm: float = 15.0):
        self.max_depth_mm = max_depth_mm
        self.reps_needed = reps_needed
        self.min_range_mm = min_range_mm
        self.slow_descent_s = slow_descent_s
        self.depth_margin_mm = depth_margin_mm
        self.soft_knee_mm = soft_knee_mm
        self.reps: list[SetupRep] = []
        self.fast_reps = 0
        self.lifted_reps = 0
        self._lifted = False  # a lift-off since the last rep ended: the rep in progress teaches nothing
        self._off_pad: set[LiftoffZone] = set()  # zones off their pad now: every rep until they are back is lifted
        self.result: SetupResult | None = None
        self._tracker = RepTracker(hysteresis_mm)

    @property
    def done(self) -> bool:
        return self.result is not None

    def progress(self, session: str, saved: MachineSettings | None = None) -> SetupProgress:
        """The count, and once done the range: as `saved` (what the member's settings really got after the
        safety floors, which may differ from what the reps alone taught) when given."""
        result = self.result
        target = saved.target_depth_mm if saved else result.target_depth_mm if result else None
        top = saved.top_mm if saved else result.top_mm if result else None
        return SetupProgress(session=session, stage="done" if result else "reps", reps_done=len(self.reps),
                             reps_needed=self.reps_needed, fast_reps=self.fast_reps, lifted_reps=self.lifted_reps,
                             target_depth_mm=target if result else None, top_mm=top if result else None,
                             max_depth_mm=saved.max_depth_mm if saved and result else None)

    def liftoff(self, zone: LiftoffZone, started: bool) -> None:
        """The back or the hips left (`started`) or came back to their pad.

        A start spoils the rep in progress (or, between reps, the next): a lift-off event may reach the
        kiosk just after the sample that turned the rep, and erring on the side of one more slow rep is
        the safe way round. Until the zone is back on its pad, every rep is spoilt too."""
        if started:
            self._lifted = True
            self._off_pad.add(zone)
        else:
            self._off_pad.discard(zone)

    def sensor_restarted(self) -> None:
        """A restarted node knows nothing of a lift-off before it: a lost `end` must not spoil every rep after."""
        self._off_pad.clear()

    def update(self, mm: float, ts: float) -> SetupResult | None:
        """Feed one sample (mm of sled travel, the sample's time in s); the result once enough reps were seen."""
        if self.result is None and self._tracker.update(ts, mm) & REP:
            rep = self._tracker.finished
            if rep is not None:  # always set once REP is returned
                self._count_rep(rep)
        return self.result

    def _count_rep(self, rep: Rep) -> None:
        lifted, self._lifted = self._lifted or bool(self._off_pad), False
        if lifted:
            self.lifted_reps += 1
            return
        if rep.depth_mm - rep.start_mm < self.min_range_mm:
            return
        if rep.eccentric_s < self.slow_descent_s:
            self.fast_reps += 1
            return
        self.reps.append(SetupRep(top_mm=rep.start_mm, depth_mm=rep.depth_mm, descent_s=rep.eccentric_s))
        if len(self.reps) >= self.reps_needed:
            deepest = max(r.depth_mm for r in self.reps)
            highest = min(r.top_mm for r in self.reps)
            self.result = SetupResult(
                target_depth_mm=round(min(deepest - self.depth_margin_mm, self.max_depth_mm), 1),
                top_mm=round(max(self.soft_knee_mm, highest), 1),
                reps=tuple(self.reps),
            )
