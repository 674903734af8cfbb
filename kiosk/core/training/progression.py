"""The load to suggest for next time: double progression, reps first and then load.

The rule, in full (docs/training-record.md says it for members and trainers):

- Only a session with a load and at least one set with reps suggests anything; otherwise nothing changes.
- Add one step (2.5 kg, or 5 lb where the site shows pounds) to the heaviest load pressed when every set
  with reps reached the site's `target_reps` (default 10) and each of those sets' velocity loss (the last
  push's fall from the set's best) stayed under the velocity-loss threshold in force.
- Keep that load otherwise: a set short of the target reps, a set that slowed past the threshold (or whose
  slowing is unknown), a set the kiosk stopped, or any lumbar lift-off in the session. A back that came off
  the pad, or a set that had to be stopped, is never the day to go heavier.

"Target reps" is one site setting rather than each set's own reps: a member with no trainer gets one plain
goal ("10 good reps in every set, then more weight"), and operators can change it for the whole gym.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from kiosk.contract.config import LoadUnit
from kiosk.contract.events import SetEnd
from kiosk.contract.profile import Visit
from kiosk.core.training.load_steps import stepped_load

Why = Literal["all_sets_done", "reps_short", "slowed", "stopped", "liftoff"]


@dataclass(frozen=True)
class NextLoad:
    """The suggestion and the reason for it (the summary says which)."""

    load_kg: float
    why: Why

    @property
    def adds(self) -> bool:
        return self.why == "all_sets_done"


def next_load(sets: Sequence[SetEnd], *, target_reps: int, velocity_loss_pct: float, unit: LoadUnit = "kg",
              liftoffs: int = 0) -> NextLoad | None:
    """The load for next time from today's sets; None when the session had no load or no rep."""
    done = [s for s in sets if s.reps > 0]
    loads = [s.load_kg for s in done if s.load_kg is not None]
    if not done or not loads:
        return None
    heaviest = max(loads)
    why: Why
    if liftoffs > 0 or any(s.liftoffs for s in done):
        why = "liftoff"
    elif any(s.stopped for s in done):
        why = "stopped"
    elif any(s.reps < target_reps for s in done):
        why = "reps_short"
    elif any(s.velocity_loss_pct is None or s.velocity_loss_pct >= velocity_loss_pct for s in done):
        why = "slowed"
    else:
        # One step on the unit's grid: 100 lb goes to 105 lb, and 80 kg pressed before the site showed pounds
        # (176.4 lb) to 180 lb, a load the plates make.
        return NextLoad(load_kg=stepped_load(heaviest, 1, unit) or heaviest, why="all_sets_done")
    return NextLoad(load_kg=heaviest, why=why)


def visit_before(history: Sequence[Visit], day: str) -> Visit | None:
    """The last visit on an earlier day than `day` (a second session today is compared with that one too)."""
    return next((v for v in reversed(history) if v.date < day), None)
