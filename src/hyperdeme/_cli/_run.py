"""``hyperdeme run``: run an experiment, with live progress on a terminal.

The run is the library's: ``hyperdeme.stream`` over the experiment's optimizer
and params, started in :func:`open_run` only. SIGTERM (a batch system ending
the job) stops it cleanly like Ctrl-C, then exits 143.
"""

from __future__ import annotations

import math
import signal
import threading
from collections.abc import AsyncIterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TextIO

import anyio
from rich.console import Console

import hyperdeme

from ._budget import trial_budget
from ._compat import hyperparameter_args
from ._errors import CommandError, UsageProblem
from ._experiment import Experiment
from ._journal_view import JOURNAL_NAME
from ._logs import observe_events
from ._progress import Progress

__all__ = ["DRY_RUN_COMMANDS", "dry_run", "open_run", "run_experiment"]

#: how many command lines ``--dry-run`` prints
DRY_RUN_COMMANDS = 5


def open_run(
    experiment: Experiment, *, resume: bool
) -> AbstractAsyncContextManager[AsyncIterable[hyperdeme.Trial]]:
    """The one call that starts the run; it yields each trial as it finishes.

    ``resume``: today every run continues the trial numbering of a journal
    already in the run directory (the library always does), and the strategy
    starts afresh. Resuming the search itself needs issue #9; then this
    becomes ``hyperdeme.stream(..., resume=resume)``.
    """
    del resume  # needs issue #9: hyperdeme.stream(..., resume=resume)
    return hyperdeme.stream(experiment.optimizer, experiment.params)


@dataclass(slots=True)
class _InFlight:
    """Evaluations running now, counted from the engine's ``trial.*`` events."""

    progress: Progress
    started: int = 0
    finished: int = 0

    def __call__(self, event: str) -> None:
        if event == "trial.started":
            self.started += 1
        elif event == "trial.finished":
            self.finished += 1
        else:
            return
        self.progress.set_in_flight(self.started - self.finished)


def run_experiment(
    experiment: Experiment,
    *,
    resume: bool = False,
    quiet: bool = False,
    out: TextIO,
    console: Console | None = None,
) -> hyperdeme.Result:
    """Run to the end; print the run directory, then a summary, to ``out`` unless ``quiet``.

    Live progress goes to ``console`` (stderr by default) when it is a
    terminal and not ``quiet``. Raises :class:`CommandError` when the run fails
    or no trial succeeded.
    """
    journal = experiment.run_dir / JOURNAL_NAME
    if journal.exists() and not resume:
        raise UsageProblem(
            f"{experiment.run_dir} already holds a run ({JOURNAL_NAME}); pass --resume to "
            "continue it, or give the experiment another name (or --run-path)."
        )
    if not quiet:
        print(f"run directory: {experiment.run_dir}", file=out, flush=True)
    progress = Progress(
        budget=trial_budget(experiment.optimizer, experiment.params),
        console=console if console is not None else Console(stderr=True, quiet=quiet),
    )
    with observe_events(_InFlight(progress)), progress:
        try:
            anyio.run(_drive, experiment, resume, progress, backend=experiment.optimizer.backend)
        except hyperdeme.ConfigError as error:
            raise UsageProblem(f"{experiment.path}: {error}") from None
        except (hyperdeme.HyperdemeError, OSError) as error:
            raise CommandError(f"the run failed: {error}") from None
    result = experiment.optimizer.result
    assert result is not None  # set when the run starts
    if not quiet:
        _summary(result, out)
    if result.best_trial is None:
        raise CommandError(
            f"no trial succeeded ({len(result.trials)} finished); see the trials' stderr.log "
            f"files in {experiment.run_dir}."
        )
    return result


async def _drive(experiment: Experiment, resume: bool, progress: Progress) -> None:
    """Run, feeding ``progress``; stop cleanly on SIGTERM, then exit 143."""
    terminated = False
    try:
        async with anyio.create_task_group() as group:
            if threading.current_thread() is threading.main_thread():

                async def watch() -> None:
                    nonlocal terminated
                    with anyio.open_signal_receiver(signal.SIGTERM) as signals:
                        async for _ in signals:
                            terminated = True
                            group.cancel_scope.cancel()
                            return

                group.start_soon(watch)
            async with open_run(experiment, resume=resume) as trials:
                async for trial in trials:
                    progress.trial_finished(trial)
            group.cancel_scope.cancel()
    except BaseExceptionGroup as group_error:
        leaves = _leaves(group_error)
        if len(leaves) == 1:
            raise leaves[0] from None
        raise
    if terminated:
        raise SystemExit(128 + signal.SIGTERM)


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]


def _summary(result: hyperdeme.Result, out: TextIO) -> None:
    failed = f", {result.n_failed} failed" if result.n_failed else ""
    stopped = f", {result.n_stopped} stopped early" if result.n_stopped else ""
    cancelled = f", {result.n_cancelled} cancelled" if result.n_cancelled else ""
    counts = f"{failed}{stopped}{cancelled}"
    print(f"trials: {len(result.trials)}{counts} in {result.elapsed:.1f} s", file=out)
    if math.isfinite(result.best_fom):
        best = result.best_trial
        assert best is not None
        print(f"best FoM: {result.best_fom:.10g} (trial {best.id})", file=out)
        print(f"best flags: {' '.join(hyperparameter_args(best.params))}", file=out)


def dry_run(experiment: Experiment, *, out: TextIO, count: int = DRY_RUN_COMMANDS) -> None:
    """Print what the run would do, and its first ``count`` command lines; run nothing."""
    optimizer = experiment.optimizer
    budget = trial_budget(optimizer, experiment.params)
    print(f"experiment file: {experiment.path}", file=out)
    print(f"run directory: {experiment.run_dir}", file=out)
    print(
        f"optimizer: {type(optimizer).__name__}, "
        f"{'unknown number of' if budget is None else budget} trials",
        file=out,
    )
    print(f"parameters: {', '.join(experiment.params.flags)}", file=out)
    strategy = optimizer.make_strategy(experiment.params)
    seed = getattr(optimizer, "seed", None)
    if seed is None:
        print("first command lines:", file=out)
    elif seed:
        print(f"first command lines (seed {seed}):", file=out)
    else:
        print(
            f"first command lines (seed {strategy.seed}, drawn for this listing: the run "
            "draws its own; set [optimizer] seed to repeat it):",
            file=out,
        )
    evaluator = experiment.evaluator
    for trial_id in range(1, count + 1):
        candidate = strategy.ask(trial_id)
        if candidate is None:
            break
        active = experiment.params.active(candidate.params)
        nodes = evaluator.nodes_for(active)
        print(f"  {evaluator.command_for(active, nodes=nodes)}", file=out)
