"""Asynchronous successive halving (ASHA; Li et al., "A System for Massively Parallel
Hyperparameter Tuning", MLSys 2020), as a stopping rule.

Rungs sit at steps ``min_steps * reduction_factor**k`` below ``max_steps``
(27 steps, factor 3, from 1: rungs 1, 3 and 9). A trial reaching a rung is
compared with every trial that reached that rung so far, itself included:
with ``n`` of them, it goes on when its FoM is among the ``max(1, n //
reduction_factor)`` lowest, and is stopped otherwise. So:

* the top ``1/reduction_factor`` goes on, as in the paper's promotion rule;
* while fewer than ``reduction_factor`` trials reached the rung, only a new
  best goes on (Optuna's ``SuccessiveHalvingPruner`` does the same; Ray Tune's
  ASHA compares with the trials before it, a near-identical cut-off): the
  first trial always goes on, the second only if not worse than the first;
* ties go on (a FoM equal to the cut-off is in the top), as in both;
* NaN counts as the worst possible FoM (a diverged training is stopped unless
  it is the first at its rung);
* a trial is never stopped at or past ``max_steps``: it ends by itself;
* stopped trials stay in their rung, so they raise the bar for later ones.

Decisions depend only on the order of the reports: the same sequence gives
the same decisions. The rule never restarts a stopped trial (the paper's
promotion of a paused configuration needs checkpoints; a stopped process is
gone), which is the "stopping" variant Ray Tune and Optuna implement.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from dataclasses import dataclass

from .._core._checks import count
from .._core._errors import ConfigError
from .._core._settings import Config, checked_keywords
from ._base import EarlyStopping, EarlyStoppingState

__all__ = ["ASHA", "ASHAState"]


@dataclass(frozen=True, kw_only=True)
class ASHA(EarlyStopping, Config):
    """Asynchronous successive halving on streamed intermediate FoMs.

    ``max_steps``: the steps (FoM lines) a full evaluation prints, such as its
    epochs; ``reduction_factor``: one trial in this many goes on at each rung;
    ``min_steps``: the first rung. See :mod:`hyperdeme.early_stopping._asha`.
    """

    #: the steps (FoM lines) a full evaluation prints, such as its epochs
    max_steps: int = dataclasses.field(metadata={"check": count(2)})
    #: one trial in this many goes on at each rung
    reduction_factor: int = dataclasses.field(default=3, metadata={"check": count(2)})
    #: the first rung: the step at which trials are first compared
    min_steps: int = dataclasses.field(default=1, metadata={"check": count(1)})

    def _validate(self) -> None:
        if self.min_steps >= self.max_steps:
            raise ConfigError(
                f"min_steps must be below max_steps (the first rung comes before the last "
                f"step), got min_steps={self.min_steps}, max_steps={self.max_steps}.",
                name="min_steps",
                value=self.min_steps,
            )

    @property
    def rungs(self) -> tuple[int, ...]:
        """The steps at which trials are compared, ascending."""
        rungs, step = [], self.min_steps
        while step < self.max_steps:
            rungs.append(step)
            step *= self.reduction_factor
        return tuple(rungs)

    def start(self) -> ASHAState:
        return ASHAState(self)


# a misspelt or missing keyword is a ConfigTypeError naming the allowed ones
ASHA.__init__ = checked_keywords(ASHA.__init__)  # type: ignore[method-assign]


class _Rung:
    """The FoMs of the trials that reached one rung: by trial, and sorted."""

    def __init__(self) -> None:
        self.by_trial: dict[int, float] = {}
        self.sorted: list[float] = []

    def record(self, trial_id: int, fom: float) -> None:
        old = self.by_trial.get(trial_id)
        if old is not None:  # a retry reached the rung again: its new value counts
            del self.sorted[bisect.bisect_left(self.sorted, old)]
        self.by_trial[trial_id] = fom
        bisect.insort(self.sorted, fom)

    def cutoff(self, reduction_factor: int) -> float:
        """The highest FoM still in the top ``1/reduction_factor`` (at least the best)."""
        return self.sorted[max(1, len(self.sorted) // reduction_factor) - 1]


class ASHAState(EarlyStoppingState):
    """The rungs of one run: which FoMs reached each rung so far."""

    def __init__(self, rule: ASHA) -> None:
        self.rule = rule
        self._rungs = {step: _Rung() for step in rule.rungs}

    def keeps(self, step: int) -> bool:
        return step in self._rungs

    def report(self, trial_id: int, step: int, fom: float) -> bool:
        rung = self._rungs.get(step)
        if rung is None:
            return False
        value = math.inf if math.isnan(fom) else fom
        rung.record(trial_id, value)
        return value > rung.cutoff(self.rule.reduction_factor)

    def recorded(self, step: int) -> dict[int, float]:
        """The FoM of each trial that reached the rung at ``step`` (empty for other steps)."""
        rung = self._rungs.get(step)
        return dict(rung.by_trial) if rung is not None else {}
