"""Running one experiment: a strategy's candidates through the engine, into the journal.

Everything that can be wrong with the arguments is checked before the first
evaluation starts. Then the launcher is entered (allocation made), the
scheduler runs the strategy, and every finished trial is journalled, added to
the result and handed to the caller.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio

from .._core._errors import ConfigError
from .._core._logging import get_logger, verbose_output
from .._core._pool import HostPool
from .._core._trial import Trial
from .._engine._evaluator import Evaluator
from .._engine._journal import Journal, read_journal
from .._engine._runner import TrialRunner
from .._engine._scheduler import Scheduler
from .._engine._workspace import Workspace
from .._space import Choice, Params
from ..launchers import CallableLauncher, Launcher, create, resolve
from ..strategies import Strategy
from ._humanlog import HumanLog
from ._result import Result

__all__ = ["Experiment", "run_experiment"]

log = get_logger("hyperdeme.run")

Emit = Callable[[Trial], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Experiment:
    """What one run needs: the evaluator, the space, the strategy, where and how loud."""

    evaluator: Evaluator
    params: Params
    strategy: Strategy
    name: str
    verbose: bool = False
    log_fn: str = ""


async def run_experiment(experiment: Experiment, result: Result, emit: Emit | None) -> None:
    """Run ``experiment`` to its end, filling ``result`` as trials finish."""
    evaluator = experiment.evaluator
    config = evaluator.config
    _check_nodes_parameter(evaluator, experiment.params)
    workspace = Workspace.create(
        config.run_root, experiment.name, config.src_path, config.checkpoint
    )
    first_id = _next_trial_id(workspace)
    result.journal_path = workspace.journal_path
    result.seed = experiment.strategy.seed
    started = time.monotonic()
    with (
        verbose_output(config.verbose or experiment.verbose),
        Journal(workspace.journal_path, fsync=config.fsync) as journal,
        HumanLog(workspace.root, experiment.log_fn) as human,
    ):
        launcher = await _launcher(evaluator)
        log.info(
            "run.started",
            experiment=experiment.name,
            launcher=launcher.name,
            seed=result.seed,
            directory=str(workspace.root),
        )

        async def on_trial(trial: Trial) -> None:
            result.trials.append(trial)
            human.write(trial)
            if emit is not None:
                await emit(trial)

        async with launcher:
            total_nodes = launcher.total_nodes
            runner = TrialRunner(
                evaluator,
                experiment.params,
                launcher,
                workspace,
                nodes=HostPool(range(total_nodes)) if total_nodes else None,
                experiment=experiment.name,
            )
            scheduler = Scheduler(
                runner,
                journal,
                slots=config.slots(total_nodes),
                time_budget=config.time_budget,
                first_id=first_id,
            )
            try:
                await scheduler.run(experiment.strategy, on_trial)
            finally:
                result.elapsed = time.monotonic() - started
                result.expired = scheduler.expired
        log.info(
            "run.finished",
            trials=len(result.trials),
            best_fom=result.best_fom,
            failed=result.n_failed,
            elapsed=round(result.elapsed, 3),
        )


async def _launcher(evaluator: Evaluator) -> Launcher:
    if evaluator.function is not None:
        return CallableLauncher()
    config = evaluator.config
    # detection may ask `qsub --version`: keep the event loop free meanwhile
    name, reason = await anyio.to_thread.run_sync(
        lambda: resolve(
            launcher=config.launcher,
            workload_manager=config.workload_manager,
            options=config.launch,
        )
    )
    log.info("launcher.detected", launcher=name, reason=reason)
    return create(name, config.launch)


def _check_nodes_parameter(evaluator: Evaluator, params: Params) -> None:
    flag = evaluator.config.nodes_per_eval_flag
    if flag is None or flag not in params.flags:
        return
    parameter = params[flag]
    if isinstance(parameter, Choice):
        values: tuple[object, ...] = parameter.values
    else:
        values = (parameter.low, parameter.high) if parameter.integer else ()
    if not values or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in values
    ):
        raise ConfigError(
            f"{flag} sets the nodes per evaluation, so its values must be integers >= 1; "
            f"got {parameter!r}."
        )


def _next_trial_id(workspace: Workspace) -> int:
    """Continue numbering after a journal already in the run directory."""
    if not workspace.journal_path.exists():
        return 1
    trials = read_journal(workspace.journal_path)
    return max((t.id for t in trials), default=0) + 1
