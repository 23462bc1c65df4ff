"""An early-stopping plug-in: stops every trial but the first at step ``at_step``."""

from __future__ import annotations

from dataclasses import dataclass

import hyperdeme
from hyperdeme.early_stopping import EarlyStoppingState


@dataclass(frozen=True, kw_only=True)
class StopAt(hyperdeme.EarlyStopping):
    """Stop each trial but trial 1 when it reports step ``at_step`` (so the run still has a
    finished trial)."""

    at_step: int

    def __post_init__(self) -> None:
        if self.at_step < 1:
            raise hyperdeme.ConfigError(f"at_step must be >= 1, got {self.at_step!r}.")

    def start(self) -> EarlyStoppingState:
        return _Stopping(self.at_step)


class _Stopping(EarlyStoppingState):
    def __init__(self, at_step: int) -> None:
        self.at_step = at_step

    def report(self, trial_id: int, step: int, fom: float) -> bool:
        return trial_id > 1 and step >= self.at_step
