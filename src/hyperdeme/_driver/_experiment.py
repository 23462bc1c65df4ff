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
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from .._core._errors import ConfigError
from .._core._logging import get_logger, verbose_output
from .._core._pool import HostPool
from .._core._trial import Trial
from .._core._version import __version__
from .._engine._evaluator import Evaluator
from .._engine._journal import JOURNAL_NAME, Journal, read_records
from .._engine._lock import ExperimentLock
from .._engine._runner import TrialRunner
from .._engine._scheduler import Scheduler
from .._engine._workspace import Workspace
from .._space import Choice, Params
from ..launchers import CallableLauncher, Launcher, create, resolve
from ..strategies import Strategy
from ._humanlog import HumanLog
from ._result import Result
from ._resume import Replayed, check_fingerprint, fingerprint, matches, replay

if TYPE_CHECKING:
    from ._progress import Progress

__all__ = ["Experiment", "run_experiment"]

log = get_logger("hyperdeme.run")

Emit = Callable[[Trial], Awaitable[None]]
StrategyFactory = Callable[[int | None], Strategy]


@dataclass(frozen=True, slots=True)
class Experiment:
    """What one run needs: the evaluator, the space, how to build the strategy, where."""

    evaluator: Evaluator
    params: Params
    #: builds the strategy for a seed (None: a fresh one)
    make_strategy: StrategyFactory
    #: the optimizer's seed (0: fresh, or the recorded one when resuming)
    seed: int
    #: the experiment's name, None when not given (see ``default_name``)
    name: str | None
    default_name: str
    verbose: bool = False
    log_fn: str = ""
    #: live progress on stderr when it is a terminal
    progress: bool = False


@dataclass(slots=True)
class _Opened:
    """An experiment ready to run: its directory locked, its journal open and replayed."""

    name: str
    workspace: Workspace
    journal: Journal
    human: HumanLog
    strategy: Strategy
    replayed: Replayed


@contextmanager
def _opened(experiment: Experiment, *, resume: bool) -> Iterator[_Opened]:
    """Choose the experiment, lock it, open (and when resuming replay) its journal.

    Synchronous file work, done once before any evaluation starts.
    """
    evaluator = experiment.evaluator
    config = evaluator.config
    probe = experiment.make_strategy(experiment.seed or 1)
    current = fingerprint(experiment.params, probe, evaluator.cmd)
    name = _choose(experiment, Path(config.run_root).absolute(), current, resume=resume)
    workspace = Workspace.create(config.run_root, name, config.src_path, config.checkpoint)
    with (
        ExperimentLock(workspace.root),
        Journal(workspace.journal_path, fsync=config.fsync) as journal,
        HumanLog(workspace.root, experiment.log_fn) as human,
    ):
        strategy, replayed = _open(experiment, journal, current, resume=resume)
        yield _Opened(name, workspace, journal, human, strategy, replayed)


async def run_experiment(
    experiment: Experiment, result: Result, emit: Emit | None, *, resume: bool = False
) -> str:
    """Run ``experiment`` to its end, filling ``result`` as trials finish; its name."""
    evaluator = experiment.evaluator
    config = evaluator.config
    _check_nodes_parameter(evaluator, experiment.params)
    started = time.monotonic()
    with (
        verbose_output(config.verbose or experiment.verbose),
        _opened(experiment, resume=resume) as run,
    ):
        result.journal_path = run.workspace.journal_path
        result.seed = run.strategy.seed
        result.trials.extend(run.replayed.finished)
        launcher = await _launcher(evaluator)
        log.info(
            "run.started",
            experiment=run.name,
            launcher=launcher.name,
            seed=result.seed,
            directory=str(run.workspace.root),
            resumed=len(run.replayed.finished),
            rerun=len(run.replayed.rerun),
        )

        display = _progress(experiment, run)

        async def on_trial(trial: Trial) -> None:
            result.trials.append(trial)
            run.human.write(trial)
            if display is not None:
                display.trial_finished(trial)
            if emit is not None:
                await emit(trial)

        async with launcher:
            total_nodes = launcher.total_nodes
            runner = TrialRunner(
                evaluator,
                experiment.params,
                launcher,
                run.workspace,
                nodes=HostPool(range(total_nodes)) if total_nodes else None,
                experiment=run.name,
            )
            scheduler = Scheduler(
                runner,
                run.journal,
                slots=config.slots(total_nodes),
                time_budget=config.time_budget,
                first_id=run.replayed.next_id,
            )
            try:
                with display if display is not None else nullcontext():
                    await scheduler.run(
                        run.strategy,
                        on_trial,
                        rerun=run.replayed.rerun,
                        on_start=display.trial_started if display is not None else None,
                    )
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
    return run.name


def _progress(experiment: Experiment, run: _Opened) -> Progress | None:
    if not experiment.progress:
        return None
    from ._progress import Progress  # rich loads only when progress is shown

    display = Progress(budget=run.strategy.budget)
    for trial in run.replayed.finished:
        display.trial_finished(trial)
    return display


def _choose(experiment: Experiment, root: Path, current: dict[str, object], *, resume: bool) -> str:
    """The experiment's name; without one, when resuming, the newest that matches."""
    name = experiment.name or experiment.default_name
    if resume and experiment.name is None:
        found = _newest_matching(root, current, seed=bool(experiment.seed))
        if found is None:
            log.warning(
                "run.nothing_to_resume",
                run_path=str(root),
                message=f"no experiment under {root} matches this search; starting {name}",
            )
            return name
        log.warning(
            "run.resuming",
            experiment=found,
            message=f"resuming {root / found}, the newest experiment there that matches",
        )
        return found
    journal = root / name / JOURNAL_NAME
    if resume and not _has_records(journal):
        log.warning(
            "run.nothing_to_resume",
            experiment=name,
            message=f"{root / name} holds no journal to resume; starting it",
        )
    if not resume and _has_records(journal):
        raise ConfigError(
            f"the experiment {root / name} already holds trials; resume it (resume=True, or "
            "hyperdeme run --resume: finished trials are not run again), or choose another name."
        )
    return name


def _open(
    experiment: Experiment, journal: Journal, current: dict[str, object], *, resume: bool
) -> tuple[Strategy, Replayed]:
    """The strategy, rebuilt from the journal when resuming; the journal's header written."""
    if not (resume and not journal.empty):
        strategy = experiment.make_strategy(experiment.seed or None)
        journal.experiment(
            fingerprint(experiment.params, strategy, experiment.evaluator.cmd),
            version=__version__,
        )
        return strategy, Replayed()
    records = list(read_records(journal.path))
    header = next((r for r in records if r.get("type") == "experiment"), None)
    where = f"the experiment {journal.path.parent}"
    if header is None or not isinstance(header.get("fingerprint"), dict):
        raise ConfigError(
            f"cannot resume {where}: its journal has no fingerprint (it was written by "
            "hyperdeme 0.1, which could not resume); start a new experiment."
        )
    recorded = header["fingerprint"]
    if experiment.seed:
        check_fingerprint(recorded, current, where)
    else:  # seed 0: the seed the experiment was started with
        check_fingerprint(recorded, {**current, "seed": recorded.get("seed")}, where)
    if recorded.get("command") != current.get("command"):
        log.warning(
            "run.command_changed",
            recorded=recorded.get("command"),
            now=current.get("command"),
        )
    strategy = experiment.make_strategy(int(recorded["seed"]))
    replayed = replay(strategy, records, where)
    for trial_id in replayed.interrupted:
        journal.interrupted(trial_id)
    journal.resumed(finished=len(replayed.finished), interrupted=replayed.interrupted)
    log.info(
        "run.resumed",
        finished=len(replayed.finished),
        interrupted=replayed.interrupted,
        rerun=[trial_id for trial_id, _ in replayed.rerun],
    )
    return strategy, replayed


def _newest_matching(root: Path, current: dict[str, object], *, seed: bool) -> str | None:
    if not root.is_dir():
        return None
    journals = sorted(
        (path for path in root.glob(f"*/{JOURNAL_NAME}") if path.is_file()),
        key=lambda path: path.stat().st_mtime,
        reverse=True,
    )
    for path in journals:
        header = next(iter(_first_records(path)), None)
        if header and header.get("type") == "experiment":
            recorded = header.get("fingerprint")
            if isinstance(recorded, dict) and matches(recorded, current, seed=seed):
                return path.parent.name
    return None


def _first_records(path: Path) -> list[dict[str, object]]:
    records = read_records(path)
    try:
        return [next(records)]
    except StopIteration:
        return []
    finally:
        records.close()


def _has_records(journal: Path) -> bool:
    return journal.is_file() and journal.stat().st_size > 0


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
