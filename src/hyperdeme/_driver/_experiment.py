"""Running one experiment: a strategy's candidates through the engine, into the journal.

Everything that can be wrong with the arguments is checked before the first
evaluation starts. Then the experiment directory is locked (one driver per
experiment), its journal opened (and, when resuming, replayed into the
strategy), the launcher entered (allocation made), and the scheduler runs the
strategy; every finished trial is journalled, added to the result and handed
to the caller.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from .._core._direction import is_better, no_best, scored
from .._core._errors import ConfigError
from .._core._hosts import HostPool
from .._core._logging import get_logger, verbose_output
from .._core._trial import FAILURES, Status, Trial
from .._engine._evaluator import Evaluator
from .._engine._runner import TrialRunner
from .._engine._slots import Scheduler
from .._space import Choice, Params
from ..launchers import CallableLauncher, Launcher, create, resolve
from ..launchers._allocation import status_listener
from ..launchers._watchdog import WATCHDOG_FILE, Watchdog
from ..strategies import Strategy
from ._gpus import run_gpus, slots_for_gpus
from ._opening import Opened, opening
from ._result import Result
from ._resume import Replayed
from ._run_spec import RunSpec

if TYPE_CHECKING:
    from ..strategies import SeenPoints
    from ._progress import Progress

__all__ = ["Emit", "run_experiment"]

log = get_logger("hyperdeme.run")

Emit = Callable[[Trial], Awaitable[None]]


async def run_experiment(
    experiment: RunSpec, result: Result, emit: Emit | None, *, resume: bool = False
) -> str:
    """Run ``experiment`` to its end, filling ``result`` as trials finish; its name."""
    evaluator = experiment.evaluator
    config = evaluator.config
    _check_nodes_parameter(evaluator, experiment.params)
    started = time.monotonic()
    with verbose_output(config.verbose or experiment.verbose):
        async with opening(experiment, resume=resume) as run:
            name = run.name
            await _run(experiment, run, result, emit, started)
            # the last reference to its strategy (its history: 20,000 points after a big
            # resume, 10-20 ms to free) is the opening's, dropped in its worker thread
            del run
    return name


async def _run(
    experiment: RunSpec, run: Opened, result: Result, emit: Emit | None, started: float
) -> None:
    """Run the opened experiment: launcher entered, watchdog up, the scheduler to its end."""
    evaluator = experiment.evaluator
    config = evaluator.config
    result.journal_path = run.workspace.journal_path
    result.seed = run.strategy.seed
    result.direction = config.direction
    result.objectives = dict(config.objectives or {})
    result.trials.extend(run.replayed.finished)
    result.resumed = len(run.replayed.finished)
    launcher = await _launcher(evaluator)  # first: it may refuse its options
    # gpus="auto" may ask nvidia-smi: off the event loop, before any evaluation
    gpus = await anyio.to_thread.run_sync(run_gpus, config)
    display = _progress(experiment, run)
    generations = _Generations(run.strategy, result, run.replayed)

    def record(trial: Trial) -> None:
        # as the trial is journalled, so a cancelled run's result holds what its journal does
        result.trials.append(trial)
        run.human.write(trial)
        generations.count(trial)

    async def on_trial(trial: Trial) -> None:
        if display is not None:
            display.trial_finished(trial)
        if emit is not None:
            await emit(trial)

    # shown from the start: an allocation's wait ("pending: Resources") is on the line
    with (
        display if display is not None else nullcontext(),
        status_listener(display.set_status) if display is not None else nullcontext(),
    ):
        async with _watching(evaluator, run.workspace.root) as watchdog, launcher:
            log.info(
                "run.started",
                experiment=run.name,
                launcher=launcher.name,
                # how a trial's processes are found (hyperdeme.launchers._contain)
                containment=watchdog.containment.kind if watchdog is not None else None,
                seed=result.seed,
                directory=str(run.workspace.root),
                resumed=len(run.replayed.finished),
                rerun=len(run.replayed.rerun),
            )
            scheduler = _scheduler(experiment, run, launcher, record, gpus)
            try:
                await scheduler.run(
                    run.strategy,
                    on_trial,
                    rerun=run.replayed.rerun,
                    on_start=display.trial_started if display is not None else None,
                )
            finally:
                result.elapsed = time.monotonic() - started
                result.expired = scheduler.expired
    _space_done(run.strategy.seen, result)
    best = generations.best  # kept as trials came: no walk of them all on the loop
    log.info(
        "run.finished",
        trials=len(result.trials),
        best_fom=best.fom if best is not None else no_best(result.direction),
        failed=generations.failed,
        elapsed=round(result.elapsed, 3),
    )


def _space_done(seen: SeenPoints, result: Result) -> None:
    """Record in ``result`` (and log) whether every point of a finite space was evaluated."""
    result.space_size = seen.size
    result.space_exhausted = seen.complete
    if result.space_exhausted:
        log.info(
            "search_space.exhausted",
            points=seen.size,
            message=f"the search space has {seen.size} points; all {seen.size} were evaluated",
        )


def _scheduler(
    experiment: RunSpec,
    run: Opened,
    launcher: Launcher,
    record: Callable[[Trial], None],
    gpus: tuple[str, ...],
) -> Scheduler:
    """The run's scheduler, its trials run on ``launcher`` (and its nodes, if it has any)."""
    config = experiment.evaluator.config
    total_nodes = launcher.total_nodes
    per_eval = config.gpus_per_eval_count
    capping, hosts = gpus, 1
    if gpus and launcher.packs_gpus:
        if total_nodes:  # each node runs as many evaluations as it has shares of devices
            hosts, total_nodes = total_nodes, total_nodes * (len(gpus) // per_eval)
        else:  # a batch job per evaluation (PBS outside a job): a node of its own each
            capping = ()
    slots = slots_for_gpus(config.slots(total_nodes), capping, per_eval, hosts=hosts)
    rule = config.early_stopping
    runner = TrialRunner(
        experiment.evaluator,
        experiment.params,
        launcher,
        run.workspace,
        nodes=HostPool(range(total_nodes)) if total_nodes else None,
        experiment=run.name,
        # resumed: the rungs know what the finished trials reached
        early_stopping=(
            rule.resume(scored(t, config.direction) for t in run.replayed.finished)
            if rule is not None
            else None
        ),
        gpus=gpus,
    )
    runner.checkpoints.resume(run.replayed.finished)  # refused here if they are gone
    return Scheduler(
        runner,
        run.journal,
        slots=slots,
        time_budget=config.time_budget,
        first_id=run.replayed.next_id,
        reproducible=experiment.reproducible,
        on_journalled=record,
        succeeded_before=any(t.status in RESULTS for t in run.replayed.finished),
    )


#: ``progress=True``: seconds between two plain progress lines off a terminal
PLAIN_LINE_EVERY = 60.0

#: endings that show the evaluations can succeed as configured
RESULTS = (Status.OK, Status.STOPPED)


class _Generations:
    """crayai's progress lines: after each generation's worth of evaluations, the count
    and the best FoM so far with its parameters (``run.generation``, shown by verbose).
    The best (and the failures, for the run's last line) are kept as trials come,
    from the replay's (summed in its thread): a scan of the result per line would
    cost a run of 100,000 trials quadratic time, and one scan of a resumed run's
    20,000 blocks the event loop for 8-27 ms."""

    def __init__(self, strategy: Strategy, result: Result, replayed: Replayed) -> None:
        budget = strategy.budget
        self.size = strategy.generation_size or max(1, (budget or 100) // 10)
        self.done = len(result.trials)
        self.best = replayed.best
        self.failed = replayed.failed
        self.result = result

    def count(self, trial: Trial) -> None:
        self.done += 1
        if trial.status in FAILURES:
            self.failed += 1
        if trial.ok and (
            self.best is None or is_better(trial.fom, self.best.fom, self.result.direction)
        ):
            self.best = trial
        if self.done % self.size:
            return
        best = self.best
        log.info(
            "run.generation",
            generation=self.done // self.size,
            evaluations=self.done,
            best_fom=best.fom if best is not None else no_best(self.result.direction),
            best_trial=best.id if best is not None else None,
            best_params=best.params if best is not None else None,
        )


@asynccontextmanager
async def _watching(evaluator: Evaluator, directory: Path) -> AsyncIterator[Watchdog | None]:
    """A watchdog for runs that start processes (see :mod:`hyperdeme.launchers._watchdog`),
    started in a worker thread and closed whenever a cancellation lands: its start is
    inside the ``try`` whose ``finally`` closes it (a cancel during the start waits for
    the thread, then closes what it started)."""
    if evaluator.function is not None:
        yield None
        return
    grace = evaluator.config.launch.grace_period
    started: list[Watchdog] = []

    def start() -> None:
        started.append(Watchdog(record=directory / WATCHDOG_FILE, grace=grace))

    try:
        await anyio.to_thread.run_sync(start)
        with started[0].active():
            yield started[0]
    finally:
        if started:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(started[0].close)


def _progress(experiment: RunSpec, run: Opened) -> Progress | None:
    if not experiment.progress:
        return None
    from ._progress import Progress  # rich loads only when progress is shown

    display = Progress(
        budget=run.strategy.budget,
        direction=experiment.evaluator.config.direction,
        # True: a plain line every minute where the console is not a terminal
        every=PLAIN_LINE_EVERY if experiment.progress is True else float(experiment.progress),
    )
    display.resumed(run.replayed.finished)
    return display


async def _launcher(evaluator: Evaluator) -> Launcher:
    config = evaluator.config
    if evaluator.function is not None:
        process = config.function_runs_in == "process"
        return CallableLauncher(runs_in="process" if process else "thread", slots=config.slots())
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
            f"got {parameter!r}.",
            name=flag,
            value=parameter,
        )
