"""``Result``: what an optimization returns."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._core._trial import Status, Trial

__all__ = ["Result"]


@dataclass(slots=True)
class Result:
    """The outcome of a run: the best point and every trial, in finishing order."""

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
        return sum(1 for t in self.trials if t.status not in (Status.OK, Status.CANCELLED))

    @property
    def n_cancelled(self) -> int:
        return sum(1 for t in self.trials if t.status is Status.CANCELLED)

    def __repr__(self) -> str:
        return (
            f"Result(best_fom={self.best_fom!r}, best_params={self.best_params!r}, "
            f"trials={len(self.trials)}, n_failed={self.n_failed}, elapsed={self.elapsed:.3f})"
        )
