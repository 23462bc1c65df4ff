"""Opening an experiment: choosing it, locking it, opening and replaying its journal.

Synchronous file work, done once before any evaluation starts: the experiment
directory under run_path (when resuming without a name, the newest one there
that matches this search), its lock (one driver per experiment), what a dead
driver left running (stopped), its journal (the fingerprint written for a new
experiment, checked and replayed into the strategy for a resumed one).

A run does all of it in a worker thread (:func:`opening`): replaying a journal
of 20,000 trials takes most of a second, which the caller's event loop (a web
server's, say) must not spend waiting; closing (the journal's last fsync, the
lock) is done there too. A thread alone does not keep the loop running: the
replay pauses every few milliseconds to leave the loop's thread the GIL
(:mod:`.._core._pacing`), what it builds is kept out of the garbage collector's
full collections (:mod:`.._core._heap`), and the records are freed a slice at a
time (:func:`_release`).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio

from .._core._errors import ConfigError, JournalError
from .._core._heap import replay_heap
from .._core._logging import get_logger
from .._core._pacing import Pacer, paced
from .._core._version import __version__
from .._engine._files import off_loop
from .._engine._journal import JOURNAL_NAME, Journal, Record, read_records
from .._engine._lock import ExperimentLock, driver_of
from .._engine._workspace import Workspace, check_experiment_path
from ..launchers._watchdog import reap
from ..strategies import Strategy
from ._humanlog import HumanLog
from ._resume import Replayed, check_budget, check_fingerprint, fingerprint, matches, replay
from ._run_spec import RunSpec

__all__ = ["Opened", "opened", "opening"]

log = get_logger("hyperdeme.run")

#: journal records freed per step after a replay (see :func:`_release`)
_RELEASED_AT_ONCE = 500


@dataclass(slots=True)
class Opened:
    """An experiment ready to run: its directory locked, its journal open and replayed."""

    name: str
    workspace: Workspace
    journal: Journal
    human: HumanLog
    strategy: Strategy
    replayed: Replayed


@asynccontextmanager
async def opening(experiment: RunSpec, *, resume: bool) -> AsyncIterator[Opened]:
    """:func:`opened`, entered and closed in a worker thread (see the module docstring).

    A cancellation while the thread works waits for it (its result must be closed),
    then closes what it opened: nothing is left open whenever the cancel lands.
    """
    stack = ExitStack()
    try:
        yield await off_loop(stack.enter_context, opened(experiment, resume=resume))
    finally:
        with anyio.CancelScope(shield=True):
            await off_loop(stack.close)


@contextmanager
def opened(experiment: RunSpec, *, resume: bool) -> Iterator[Opened]:
    """Choose the experiment, lock it, open (and when resuming replay) its journal.

    Synchronous file work, done once before any evaluation starts.
    """
    evaluator = experiment.evaluator
    config = evaluator.config
    probe = experiment.make_strategy(experiment.seed or 1)
    current = fingerprint(
        experiment.params, probe, evaluator.cmd, config.direction, config.objectives
    )
    name = _choose(
        experiment,
        Path(config.run_root).absolute(),
        current,
        resume=resume,
        budget=probe.budget_settings,
    )
    workspace = Workspace.create(config.run_root, name, config.src_path, config.checkpoint)
    with (
        ExperimentLock(workspace.root),
        Journal(workspace.journal_path, fsync=config.fsync) as journal,
        HumanLog(experiment.log_dir or workspace.root, experiment.log_fn) as human,
        replay_heap() as heap,  # a replay's objects kept out of the cyclic GC's walks
    ):
        # what a driver that died with its watchdog left running stops before anything new
        reap(workspace.root)
        strategy, replayed = _open(experiment, journal, current, resume=resume)
        heap.replayed(freeze=bool(replayed.finished))
        yield Opened(name, workspace, journal, human, strategy, replayed)


def _choose(
    experiment: RunSpec,
    root: Path,
    current: dict[str, object],
    *,
    resume: bool,
    budget: tuple[str, ...],
) -> str:
    """The experiment's name; without one, when resuming, the newest that matches (its
    budget may differ)."""
    name = experiment.name or experiment.default_name
    check_experiment_path(root / name)  # before any look at it: ENAMETOOLONG is no answer
    if resume and experiment.name is None:
        found = _newest_matching(root, current, seed=bool(experiment.seed), budget=budget)
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
        driver = driver_of(root / name)
        if driver is not None:  # resuming would only meet its lock
            import socket  # only to word this error

            ours = driver.get("pid") == os.getpid() and driver.get("host") == socket.gethostname()
            who = "another run in this process" if ours else "another driver"
            raise JournalError(
                f"the experiment {root / name} is being run by {who} (pid "
                f"{driver.get('pid')} on host {driver.get('host')}); wait for it to end, "
                "stop it, or give this run another name."
            )
        raise ConfigError(
            f"the experiment {root / name} already holds trials; resume it (resume=True, or "
            "hyperdeme run --resume: finished trials are not run again), or choose another name."
        )
    return name


def _open(
    experiment: RunSpec, journal: Journal, current: dict[str, object], *, resume: bool
) -> tuple[Strategy, Replayed]:
    """The strategy, rebuilt from the journal when resuming; the journal's header written."""
    direction = experiment.evaluator.config.direction
    objectives = experiment.evaluator.config.objectives
    if not (resume and not journal.empty):
        strategy = experiment.make_strategy(experiment.seed or None)
        journal.experiment(
            fingerprint(
                experiment.params, strategy, experiment.evaluator.cmd, direction, objectives
            ),
            version=__version__,
        )
        return strategy, Replayed()
    # paced: the GIL is left to the event loop's thread every few ms (see _pacing)
    pacer = Pacer()
    records = list(paced(read_records(journal.path), pacer))
    header = next((r for r in records if r.get("type") == "experiment"), None)
    where = f"the experiment {journal.path.parent}"
    if header is None or not isinstance(header.get("fingerprint"), dict):
        raise ConfigError(
            f"cannot resume {where}: its journal has no fingerprint (it was written by "
            "hyperdeme 0.1, which could not resume); start a new experiment."
        )
    recorded = header["fingerprint"]
    strategy = experiment.make_strategy(int(recorded["seed"]))
    budget = strategy.budget_settings
    if experiment.seed:
        check_fingerprint(recorded, current, where, budget=budget)
    else:  # seed 0: the seed the experiment was started with
        current = {**current, "seed": recorded.get("seed")}
        check_fingerprint(recorded, current, where, budget=budget)
    started = {r["id"] for r in paced(records, pacer) if r.get("type") == "started"}
    check_budget(strategy, len(started), where)
    _log_budget(recorded, current, budget)
    if recorded.get("command") != current.get("command"):
        log.warning(
            "run.command_changed",
            recorded=recorded.get("command"),
            now=current.get("command"),
        )
    replayed = replay(strategy, paced(records, pacer), where, direction, objectives)
    _release(records, pacer)
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


def _release(records: list[Record], pacer: Pacer) -> None:
    """Free ``records`` a slice at a time: freeing 20,000 at once is one C call that
    holds the GIL for tens of milliseconds (the caller's event loop waits for it);
    between two slices the loop's thread can take the GIL."""
    while records:
        del records[-_RELEASED_AT_ONCE:]
        pacer.tick()


def _log_budget(
    recorded: dict[str, object], current: dict[str, object], budget: tuple[str, ...]
) -> None:
    """Say so when the budget settings differ from the recorded ones (a budget that grows)."""
    old, new = (_settings(identity, budget) for identity in (recorded, current))
    if old != new:
        log.info("run.budget_changed", recorded=old, now=new)


def _settings(identity: dict[str, object], keys: tuple[str, ...]) -> dict[str, object]:
    strategy = identity.get("strategy")
    settings = strategy.get("settings") if isinstance(strategy, dict) else None
    if not isinstance(settings, dict):
        return {}
    return {key: settings.get(key) for key in keys}


def _newest_matching(
    root: Path, current: dict[str, object], *, seed: bool, budget: tuple[str, ...]
) -> str | None:
    if not root.is_dir():
        return None
    journals = sorted(
        (path for path in root.glob(f"*/{JOURNAL_NAME}") if path.is_file()),
        key=lambda path: path.stat().st_mtime,
        reverse=True,
    )
    for path in journals:
        header = _first_record(path)
        if header and header.get("type") == "experiment":
            recorded = header.get("fingerprint")
            if isinstance(recorded, dict) and matches(recorded, current, seed=seed, budget=budget):
                return path.parent.name
    return None


def _first_record(path: Path) -> dict[str, object] | None:
    records = read_records(path)
    try:
        return next(records, None)
    except JournalError:  # a damaged journal of another experiment matches nothing here
        return None
    finally:
        records.close()


def _has_records(journal: Path) -> bool:
    # a link is no journal: Workspace.create refuses it, naming it
    return journal.is_file() and not journal.is_symlink() and journal.stat().st_size > 0
