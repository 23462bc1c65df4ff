"""Early stopping in the engine: an attempt's steps, the run's rule, the attempt's cancel scope.

The runner gives each attempt an :class:`AttemptMonitor`. Its
:meth:`~AttemptMonitor.on_step` is the metric scanner's step listener, so it
hears each intermediate FoM the moment the launcher writes the line to the
trial's stdout sink; it counts the step, keeps what the rule keeps in
``trial.intermediate``, and asks the run's
:class:`~hyperdeme.early_stopping.EarlyStoppingState`. When told to stop it
cancels :attr:`~AttemptMonitor.scope`, which the runner wraps around
``launcher.run``: the launcher then stops the work its own way, exactly as
for ``eval_timeout`` (SIGTERM to the process group, ``scancel``, ``qdel``,
``kubectl delete``), and the runner records the attempt ``stopped``.
"""

from __future__ import annotations

import math

import anyio

from .._core._direction import Direction, score
from .._core._logging import get_logger
from .._core._trial import Trial
from ..early_stopping import EarlyStopping, EarlyStoppingState

__all__ = ["AttemptMonitor", "start_early_stopping"]

log = get_logger("hyperdeme.trial")


def start_early_stopping(rule: EarlyStopping | None) -> EarlyStoppingState | None:
    """A run's early-stopping state: a fresh one from ``rule`` (None: no early stopping)."""
    return rule.start() if rule is not None else None


class AttemptMonitor:
    """Follows one attempt's steps; cancels :attr:`scope` when the rule says stop."""

    def __init__(
        self, trial: Trial, state: EarlyStoppingState | None, direction: Direction = "minimize"
    ) -> None:
        self.trial = trial
        self.state = state
        self.direction = direction
        self.scope = anyio.CancelScope()
        #: the rule stopped this attempt
        self.stopped = False
        #: the last intermediate FoM
        self.fom = math.nan
        # each attempt counts its own steps; a retry's kept FoMs replace the earlier ones
        trial.steps = 0

    def on_step(self, fom: float) -> None:
        """One more step with FoM ``fom`` (called synchronously by the metric scanner)."""
        if self.stopped:  # output still arriving after the decision is no step
            return
        trial = self.trial
        trial.steps += 1
        self.fom = fom
        if self.state is None:
            return
        if self.state.keeps(trial.steps):
            trial.intermediate[trial.steps] = fom  # the program's number; the rule hears a score
        if self.state.report(trial.id, trial.steps, score(fom, self.direction)):
            self.stopped = True
            log.info("trial.early_stopped", step=trial.steps, fom=fom, attempt=trial.attempts)
            self.scope.cancel()
