"""Learning curves streamed the way a training program prints them, in-process.

A learning-curve problem (``Problem.epochs > 0``) is evaluated through the
launcher ``bench_curve``: for each epoch it writes the line
``learning_curve.py`` prints (``epoch <i>: FoM: <loss>``) to the trial's
stdout sink and yields to the event loop: what the engine sees of a real
program printing one line per epoch (metric scanning, steps, the
early-stopping decision, the attempt cancelled through its launcher), without
a process per trial. ``tests/bench`` checks that it gives the same trials as
``learning_curve.py`` run as a program through the local launcher.

``epochs`` of a run count the epochs trials were allowed to train: a stopped
trial's ``steps``. An epoch budget ``budget * problem.epochs`` ("full-
evaluation equivalents") caps a run: the stream is left once it is spent.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel

import hyperdeme
from hyperdeme.launchers import LauncherOptions

from . import learning_curve
from ._problems import Problem

NAME = "bench_curve"


@hyperdeme.register_launcher(NAME)
class CurveLauncher(hyperdeme.Launcher):
    """Prints ``problem``'s learning curve for ``job.params``, one epoch per line."""

    name = NAME
    #: the curve of the problem being run (set by :func:`run_curves`)
    curve: Callable[[dict[str, Any]], list[float]] | None = None

    def __init__(self, options: LauncherOptions | None = None) -> None:
        self.options = options

    async def run(self, job: hyperdeme.Job) -> hyperdeme.Exit:
        assert CurveLauncher.curve is not None
        for epoch, loss in enumerate(CurveLauncher.curve(dict(job.params)), start=1):
            job.stdout.write(learning_curve.line(epoch, loss).encode())
            await anyio.lowlevel.checkpoint()  # where a stop lands, as between two epochs
        return hyperdeme.Exit(0)


@dataclass
class CurveRun:
    """What one run gave: the final FoM of each trial that ran to its end, in order, and
    the epochs every trial was allowed."""

    foms: list[float] = field(default_factory=list)
    epochs: int = 0
    trials: int = 0
    stopped: int = 0

    @property
    def best(self) -> float:
        return min(self.foms, default=math.inf)


MakeOptimizer = Callable[[hyperdeme.Evaluator, int, int], Any]


def run_curves(
    problem: Problem,
    make: MakeOptimizer,
    trials: int,
    seed: int,
    *,
    early_stopping: hyperdeme.EarlyStopping | None = None,
    epoch_budget: int | None = None,
) -> CurveRun:
    """``make(evaluator, trials, seed)``'s run on ``problem``, one trial at a time, until
    the optimizer is done or ``epoch_budget`` epochs are spent."""
    CurveLauncher.curve = problem.curve
    return anyio.run(_run, problem, make, trials, seed, early_stopping, epoch_budget)


async def _run(
    problem: Problem,
    make: MakeOptimizer,
    trials: int,
    seed: int,
    early_stopping: hyperdeme.EarlyStopping | None,
    epoch_budget: int | None,
) -> CurveRun:
    out = CurveRun()
    with tempfile.TemporaryDirectory(prefix="hd-curves-") as run_path:
        source = Path(run_path) / "src"
        source.mkdir()
        evaluator = hyperdeme.Evaluator(
            problem.name,
            launcher=NAME,
            run_path=run_path,
            src_path=str(source),
            fsync=False,
            early_stopping=early_stopping,
        )
        optimizer = make(evaluator, trials, seed)
        async with hyperdeme.stream(optimizer, problem.space.to_hyperdeme()) as stream:
            async for trial in stream:
                if trial.status is hyperdeme.Status.CANCELLED:
                    continue
                out.trials += 1
                out.epochs += trial.steps
                if trial.ok:
                    out.foms.append(trial.fom)
                elif trial.status is hyperdeme.Status.STOPPED:
                    out.stopped += 1
                else:
                    raise RuntimeError(f"trial {trial.id} {trial.status.value}: {trial.error}")
                if epoch_budget is not None and out.epochs >= epoch_budget:
                    break  # leaving the block stops the run
    return out


# ----------------------------------------------------------------------------- Optuna
def run_optuna_curves(
    problem: Problem,
    sampler: str,
    pruner: str,
    trials: int,
    seed: int,
    *,
    reduction_factor: int = 3,
    min_steps: int = 1,
    epoch_budget: int | None = None,
) -> CurveRun:
    """Optuna on ``problem``'s curves: each epoch reported (``trial.report``), pruned when
    its pruner says so (``"none"``, ``"sha"``: SuccessiveHalvingPruner, ``"hyperband"``:
    HyperbandPruner), ``trials`` trials or until ``epoch_budget`` epochs are spent."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    out = CurveRun()
    assert problem.curve is not None
    curve = problem.curve
    samplers = {"random": optuna.samplers.RandomSampler, "tpe": optuna.samplers.TPESampler}
    pruners: dict[str, Callable[[], optuna.pruners.BasePruner]] = {
        "none": optuna.pruners.NopPruner,
        "sha": lambda: optuna.pruners.SuccessiveHalvingPruner(
            min_resource=min_steps, reduction_factor=reduction_factor
        ),
        "hyperband": lambda: optuna.pruners.HyperbandPruner(
            min_resource=min_steps, max_resource=problem.epochs, reduction_factor=reduction_factor
        ),
    }

    def objective(trial: Any) -> float:
        out.trials += 1
        loss = math.inf
        for epoch, loss in enumerate(curve(problem.space.suggest(trial)), start=1):
            out.epochs += 1
            trial.report(loss, epoch)
            if trial.should_prune():
                out.stopped += 1
                raise optuna.TrialPruned()
        out.foms.append(loss)
        return loss

    def budget_spent(study: Any, _trial: Any) -> None:
        if epoch_budget is not None and out.epochs >= epoch_budget:
            study.stop()

    study = optuna.create_study(
        # HyperbandPruner puts a trial in a bracket by a hash of the study name: fix it
        study_name=f"curves-{seed}",
        sampler=samplers[sampler](seed=seed),
        pruner=pruners[pruner](),
    )
    study.optimize(objective, n_trials=trials, callbacks=[budget_spent])
    return out
