"""The training record of one set as it happens: each rep's push figures, the set's best, its velocity loss.

Pure, beside the cue engine: it is fed the same accepted samples and told
when a rep finished; it never decides anything about safety. The samples
are kept in a bounded window (the longest push it measures), so a long
session costs no more memory than a short one.
"""

from collections import deque
from dataclasses import dataclass

from kiosk.contract.config import MachineGeometry
from kiosk.core.cues.rep_figures import SMOOTH_HALF_S, Mechanics, RepFigures, Sample, concentric_figures
from kiosk.core.cues.reps import Rep

# 10 s at 100 Hz: a push slower than that is not measured (the rep still counts).
WINDOW_SAMPLES = 1024
# How far before the deepest point of the turn the push's samples start: the smoothing needs the still
# sled before it, and a pause at the bottom comes after that point.
LEAD_S = 2 * SMOOTH_HALF_S


@dataclass(frozen=True, slots=True)
class RepRecord:
    """What the `rep` event carries beyond the rep's times."""

    figures: RepFigures | None
    power_w: float | None
    loss_pct: float | None  # this rep's fall from the set's best so far
    crossed: bool  # the first rep of the set past the velocity-loss threshold


def mechanics_of(geometry: MachineGeometry) -> Mechanics | None:
    """The sled's mechanics when the machine model names both; without them there is velocity but no power."""
    if geometry.sled_angle_deg is None or geometry.sled_mass_kg is None:
        return None
    return Mechanics(geometry.sled_angle_deg, geometry.sled_mass_kg)


class SetRecord:
    """Figures for the open set; `open()` at each set's start, `rep()` at each finished rep."""

    def __init__(self) -> None:
        self._samples: deque[Sample] = deque(maxlen=WINDOW_SAMPLES)
        self.best_mps: float | None = None
        self.last_loss_pct: float | None = None
        self.tut_s = 0.0
        self._crossed = False

    def sample(self, ts: float, mm: float) -> None:
        self._samples.append((ts, mm))

    def restart_stream(self) -> None:
        """The sensor restarted: its clock may have moved, so what came before cannot be timed with what follows."""
        self._samples.clear()

    def open(self) -> None:
        self.best_mps = self.last_loss_pct = None
        self.tut_s = 0.0
        self._crossed = False

    def rep(self, rep: Rep, mechanics: Mechanics | None, load_kg: float | None, loss_threshold_pct: float) -> RepRecord:
        # From leaving the top to arriving back (a pause at the bottom is inside the push's time): under load.
        self.tut_s += rep.eccentric_s + rep.concentric_s
        since = rep.bottom_ts - LEAD_S
        figures = concentric_figures([s for s in self._samples if s[0] >= since])
        if figures is None:
            return RepRecord(None, None, None, False)
        power = None
        if mechanics is not None and load_kg is not None:
            power = mechanics.power_w(load_kg, figures.mean_velocity_mps)
        velocity = figures.mean_velocity_mps
        if self.best_mps is None or velocity > self.best_mps:
            self.best_mps = velocity
        loss = max(0.0, (self.best_mps - velocity) / self.best_mps * 100)
        self.last_loss_pct = loss
        crossed = not self._crossed and loss >= loss_threshold_pct
        self._crossed = self._crossed or crossed
        return RepRecord(figures, power, loss, crossed)
