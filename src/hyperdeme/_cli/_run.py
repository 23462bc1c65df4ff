"""``hyperdeme run``: run an experiment, with live progress on a terminal.

The run is the library's blocking ``optimizer.optimize(params, resume=...,
progress=...)``: Ctrl-C and SIGTERM (a batch system ending the job) stop it
cleanly, then the command says how to continue (``hyperdeme run FILE --resume``) and
exits 130 or 143.
"""

from __future__ import annotations

import math
import shlex
import signal
from collections.abc import Sequence
from typing import TextIO

import hyperdeme

from ._budget import trial_budget
from ._engine_internals import allow_subreaper, hyperparameter_args
from ._errors import CommandError, Interrupted, UsageProblem
from ._experiment import ExperimentFile

__all__ = ["DRY_RUN_COMMANDS", "dry_run", "run_experiment"]

#: the exit codes of a run stopped by Ctrl-C and by SIGTERM: 128 + the signal's number
EXIT_INTERRUPTED = 128 + signal.SIGINT
EXIT_TERMINATED = 128 + signal.SIGTERM
#: how many command lines ``--dry-run`` prints
DRY_RUN_COMMANDS = 5


def run_experiment(
    experiment: ExperimentFile,
    *,
    resume: bool = False,
    quiet: bool = False,
    out: TextIO,
    again: Sequence[str] | None = None,
    progress_every: float = 60.0,
) -> hyperdeme.Result:
    """Run to the end; print the run directory, then a summary, to ``out`` unless ``quiet``.

    Progress goes to stderr unless ``quiet``: live on a terminal, else a plain line
    every ``progress_every`` seconds. Raises
    :class:`CommandError` when the run fails or no trial succeeded, :class:`Interrupted`
    on Ctrl-C or SIGTERM, naming the command line that continues it: ``again``
    (default: ``hyperdeme run FILE --resume``).
    """
    if not quiet:
        print(f"run directory: {experiment.run_dir}", file=out, flush=True)
    # this process is hyperdeme's own: without a cgroup it may adopt the trials' orphans
    allow_subreaper()
    try:
        result = experiment.optimizer.optimize(
            experiment.params, resume=resume, progress=False if quiet else progress_every
        )
    except KeyboardInterrupt:
        raise _stopped("interrupted (Ctrl-C)", EXIT_INTERRUPTED, experiment, again) from None
    except SystemExit as exit:  # the library's SIGTERM
        if exit.code != EXIT_TERMINATED:
            raise
        raise _stopped("stopped (SIGTERM)", EXIT_TERMINATED, experiment, again) from None
    except hyperdeme.ConfigError as error:
        raise UsageProblem(f"{experiment.path}: {error}") from None
    except (hyperdeme.HyperdemeError, OSError) as error:
        raise CommandError(f"the run failed: {error}") from None
    if not quiet:
        _summary(result, out)
    if result.best_trial is None:
        raise CommandError(
            f"no trial succeeded ({len(result.trials)} finished); see the trials' stderr.log "
            f"files in {experiment.run_dir}."
        )
    return result


def _stopped(
    how: str, code: int, experiment: ExperimentFile, again: Sequence[str] | None
) -> Interrupted:
    line = again or ["hyperdeme", "run", str(experiment.path), "--resume"]
    return Interrupted(
        f"{how}; the journal in {experiment.run_dir} keeps every finished trial. "
        f"To continue (finished trials are not run again): {shlex.join(line)}",
        exit_code=code,
    )


def _summary(result: hyperdeme.Result, out: TextIO) -> None:
    failed = f", {result.n_failed} failed" if result.n_failed else ""
    stopped = f", {result.n_stopped} stopped early" if result.n_stopped else ""
    cancelled = f", {result.n_cancelled} cancelled" if result.n_cancelled else ""
    counts = f"{failed}{stopped}{cancelled}"
    before = (
        f" ({len(result.trials) - result.resumed} this run, {result.resumed} before)"
        if result.resumed
        else ""
    )
    print(f"trials: {len(result.trials)}{before}{counts} in {result.elapsed:.1f} s", file=out)
    if result.space_exhausted:
        size = result.space_size
        print(f"the search space has {size} points; all {size} were evaluated", file=out)
    if len(result.objectives) > 1:  # no single best: the front's size
        front = result.pareto_front
        if front:
            print(
                f"Pareto front: {len(front)} trial(s) no other beats in every objective "
                "(hyperdeme best prints their flags)",
                file=out,
            )
    elif math.isfinite(result.best_fom):
        best = result.best_trial
        assert best is not None
        which = "" if result.direction == "minimize" else "; higher is better"
        print(f"best FoM: {result.best_fom:.10g} (trial {best.id}{which})", file=out)
        print(f"best flags: {' '.join(hyperparameter_args(best.params))}", file=out)


def dry_run(experiment: ExperimentFile, *, out: TextIO, count: int = DRY_RUN_COMMANDS) -> None:
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
