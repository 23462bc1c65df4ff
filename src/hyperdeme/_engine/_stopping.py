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

An evaluation function reports its steps through its trial handle instead:
:meth:`~AttemptMonitor.on_report` is the job's ``report_step``. Its answer
tells the handle to raise ``Stopped`` in the function, which then has
``grace`` seconds (the Evaluator's ``grace_period``) to end by itself before
the scope's deadline cancels it (an abandoned thread, a killed worker
process, a cancelled coroutine).
"""

from __future__ import annotations

import math
import operator

import anyio

from .._core._direction import Direction, score
from .._core._errors import ConfigError
from .._core._logging import get_logger
from .._core._trial import Trial
from ..early_stopping import EarlyStopping, EarlyStoppingState
from ._metrics import MetricSpec

__all__ = ["AttemptMonitor", "start_early_stopping"]

log = get_logger("hyperdeme.trial")


def start_early_stopping(rule: EarlyStopping | None) -> EarlyStoppingState | None:
    """A run's early-stopping state: a fresh one from ``rule`` (None: no early stopping)."""
    return rule.start() if rule is not None else None


class AttemptMonitor:
    """Follows one attempt's steps; cancels :attr:`scope` when the rule says stop.

    With ``grace`` (an evaluation function's attempt) the scope is not cancelled at
    once but given that many seconds: the function is told through its handle.
    """

    def __init__(
        self,
        trial: Trial,
        state: EarlyStoppingState | None,
        direction: Direction = "minimize",
        *,
        metric: MetricSpec | None = None,
        grace: float | None = None,
    ) -> None:
        self.trial = trial
        self.state = state
        self.direction = direction
        self.metric = metric
        self.grace = grace
        self.scope = anyio.CancelScope()
        #: the rule stopped this attempt
        self.stopped = False
        #: the last intermediate FoM
        self.fom = math.nan
        #: the metrics of the last step a function reported
        self.metrics: dict[str, float] = {}
        # each attempt counts its own steps; a retry's kept FoMs replace the earlier ones
        trial.steps = 0

    def on_step(self, fom: float) -> None:
        """One more step with FoM ``fom`` (called synchronously by the metric scanner)."""
        if self.stopped:  # output still arriving after the decision is no step
            return
        self._step(self.trial.steps + 1, fom)

    def on_report(self, value: object, step: int | None) -> bool:
        """A step an evaluation function reported through its trial handle (on the event
        loop): ``value`` a number or a dict of metrics, ``step`` above the last one (None:
        the next). True when the trial is to stop; ConfigError for a bad value or step."""
        if self.stopped:
            return True
        assert self.metric is not None  # given for functions
        metrics = self.metric.from_result(value)
        at = self.trial.steps + 1 if step is None else _next_step(step, self.trial.steps)
        fom = self.metric.fom(metrics)
        self.metrics = metrics
        self._step(at, math.nan if fom is None else fom)
        return self.stopped

    def _step(self, step: int, fom: float) -> None:
        trial = self.trial
        trial.steps = step
        self.fom = fom
        if self.state is None:
            return
        if self.state.keeps(step):
            trial.intermediate[step] = fom  # the program's number; the rule hears a score
        if self.state.report(trial.id, step, score(fom, self.direction)):
            self.stopped = True
            log.info("trial.early_stopped", step=step, fom=fom, attempt=trial.attempts)
            if self.grace is None:
                self.scope.cancel()
            else:  # the function is told; it has the grace period to end by itself
                self.scope.deadline = anyio.current_time() + self.grace


def _next_step(step: object, last: int) -> int:
    """A reported ``step``, checked: an int above the ``last`` one."""
    try:
        at = -1 if isinstance(step, bool) else operator.index(step)  # type: ignore[arg-type]
    except TypeError:
        at = -1
    if at <= last:
        raise ConfigError(
            f"trial.report(step=...) takes an int above the previous step ({last}), got "
            f"{step!r}; steps count up (epochs, say), each reported once.",
            name="step",
            value=step,
        )
    return at
