"""``Result``: what an optimization returns."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._core._trial import Status, Trial

__all__ = ["Result"]

_NOT_FAILED = (Status.OK, Status.STOPPED, Status.CANCELLED)


@dataclass(slots=True)
class Result:
    """The outcome of a run: the best point and every trial, in finishing order.

    ``best_trial`` (and ``best_fom``, ``best_params``) is the trial with the lowest
    FoM among those that ran to their end (``trial.ok``), as Optuna's
    ``best_trial`` ignores pruned trials: a trial stopped early holds the FoM of
    a shorter training, not a result its parameters reproduce.
    """

    trials: list[Trial] = field(default_factory=list)
    elapsed: float = 0.0
    journal_path: Path | None = None
    seed: int | None = None
    #: True when the ``timeout`` budget stopped the run early
    expired: bool = False

    @property
    def best_trial(self) -> Trial | None:
        best: Trial | None = None
        for trial in self.trials:
            if trial.ok and (best is None or trial.fom < best.fom):
                best = trial
        return best

    @property
    def best_fom(self) -> float:
        best = self.best_trial
        return best.fom if best is not None else math.inf

    @property
    def best_params(self) -> dict[str, Any]:
        best = self.best_trial
        return dict(best.params) if best is not None else {}

    @property
    def n_failed(self) -> int:
        """Trials that ended without a result (neither ok, stopped early, nor cancelled)."""
        return sum(1 for t in self.trials if t.status not in _NOT_FAILED)

    @property
    def n_stopped(self) -> int:
        """Trials stopped early by the evaluator's ``early_stopping`` rule."""
        return sum(1 for t in self.trials if t.status is Status.STOPPED)

    @property
    def n_cancelled(self) -> int:
        return sum(1 for t in self.trials if t.status is Status.CANCELLED)

    def __repr__(self) -> str:
        return (
            f"Result(best_fom={self.best_fom!r}, best_params={self.best_params!r}, "
            f"trials={len(self.trials)}, n_failed={self.n_failed}, n_stopped={self.n_stopped}, "
            f"elapsed={self.elapsed:.3f})"
        )
