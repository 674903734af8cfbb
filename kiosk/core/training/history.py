"""A member's visits on a machine model: today's sets made into one `Visit`, kept with their settings.

The history rides in the member's `MachineSettings`, so every kiosk that
saves the profile keeps it (an older kiosk keeps the field it does not know).
At most MAX_VISITS, newest last, and fewer when the profile would not fit
the 8 KiB a kiosk accepts: the oldest go first.
"""

from collections.abc import Callable, Sequence
from datetime import datetime

from kiosk.contract.events import SetEnd
from kiosk.contract.profile import MAX_VISITS, MachineSettings, Visit


def day_of(ts: float) -> str:
    """The kiosk's local day for a time: a visit belongs to the gym's day, not UTC's."""
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d")


def visit_of(sets: Sequence[SetEnd], day: str) -> Visit | None:
    """Today's visit from the session's sets; None when no rep was done (nothing to remember).

    The best set is the heaviest, then the one with most reps, then the
    fastest: the one a member would name.
    """
    done = [s for s in sets if s.reps > 0]
    if not done:
        return None
    best = max(done, key=lambda s: (s.load_kg or 0.0, s.reps, s.best_mean_velocity_mps or 0.0))
    return Visit(date=day, sets=len(done), reps=sum(s.reps for s in done), load_kg=best.load_kg,
                 best_reps=best.reps, best_mean_velocity_mps=best.best_mean_velocity_mps)


def with_visit(settings: MachineSettings, visit: Visit, fits: Callable[[MachineSettings], bool]) -> MachineSettings:
    """The settings with `visit` as the newest; a second session the same day replaces that day's visit
    with the two together. Oldest visits are dropped while `fits` says the profile would be too large."""
    history = list(settings.history)
    if history and history[-1].date == visit.date:
        visit = _together(history.pop(), visit)
    history = [*history, visit][-MAX_VISITS:]
    kept = settings.model_copy(update={"history": history})
    while len(history) > 1 and not fits(kept):
        history = history[1:]
        kept = settings.model_copy(update={"history": history})
    return kept


def _together(earlier: Visit, later: Visit) -> Visit:
    best = max((earlier, later), key=lambda v: (v.load_kg or 0.0, v.best_reps, v.best_mean_velocity_mps or 0.0))
    return best.model_copy(update={"sets": earlier.sets + later.sets, "reps": earlier.reps + later.reps})
