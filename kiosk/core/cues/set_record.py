"""The training record of one set as it happens: each rep's push figures, the set's best, its velocity loss.

Pure, beside the cue engine: it is fed the same accepted samples and told
when a rep starts and finishes; it never decides anything about safety. It
keeps only the samples of the rep in progress (at most WINDOW_SAMPLES), so a
long session costs no more memory than a short one, as the engine got them
(one list append per sample: the figures pay for reading them, once a rep).
"""

from bisect import bisect_left
from dataclasses import dataclass
from operator import attrgetter

import numpy as np

from kiosk.contract.config import MachineGeometry
from kiosk.contract.sensor import DepthSample
from kiosk.core.cues.rep_figures import SMOOTH_HALF_S, Mechanics, RepFigures, figures_of
from kiosk.core.cues.reps import Rep

# 20 s at 100 Hz: a rep longer than that is not measured (it still counts).
WINDOW_SAMPLES = 2048
# How far before the deepest point of the turn the push's samples start: the smoothing needs the still
# sled before it, and a pause at the bottom comes after that point.
LEAD_S = 2 * SMOOTH_HALF_S


_ts = attrgetter("ts")


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
        # The engine appends to this directly (a bound `append`): the cheapest way for 100 samples a second.
        self.samples: list[DepthSample] = []
        self.best_mps: float | None = None
        self.last_loss_pct: float | None = None
        self.tut_s = 0.0
        self._crossed = False

    def rep_started(self) -> None:
        """A descent began: what came before belongs to the last rep."""
        self.samples.clear()

    def trim(self) -> None:
        """Called when the samples pass WINDOW_SAMPLES (a sled resting at the top for minutes): start afresh."""
        self.samples.clear()

    def restart_stream(self) -> None:
        """The sensor restarted: its clock may have moved, so what came before cannot be timed with what follows."""
        self.samples.clear()

    def open(self) -> None:
        self.best_mps = self.last_loss_pct = None
        self.tut_s = 0.0
        self._crossed = False

    def rep(self, rep: Rep, mechanics: Mechanics | None, load_kg: float | None, loss_threshold_pct: float) -> RepRecord:
        # From leaving the top to arriving back (a pause at the bottom is inside the push's time): under load.
        self.tut_s += rep.eccentric_s + rep.concentric_s
        # Only the push and a little before it: reading the samples out is a good part of the cost.
        samples = self.samples[bisect_left(self.samples, rep.bottom_ts - LEAD_S, key=_ts):]
        n = len(samples)
        figures = figures_of(np.fromiter((s.ts for s in samples), dtype=np.float64, count=n),
                             np.fromiter((s.mm for s in samples), dtype=np.float64, count=n))
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


class NoRecord(SetRecord):
    """Keeps no figures: the engine as it was before the training record, for the benchmark's comparison."""

    def __init__(self) -> None:
        super().__init__()
        self.samples = _Nowhere()

    def rep_started(self) -> None:
        pass

    def restart_stream(self) -> None:
        pass

    def rep(self, rep: Rep, mechanics: Mechanics | None, load_kg: float | None, loss_threshold_pct: float) -> RepRecord:
        return RepRecord(None, None, None, False)


class _Nowhere(list[DepthSample]):
    def append(self, _sample: DepthSample) -> None:
        pass
