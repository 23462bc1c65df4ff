"""Run one trial: prepare it, run attempts through the launcher, classify, retry.

Each attempt ends ``ok``, ``failed`` (non-zero exit, launcher error),
``no_metric`` (exit 0 but a metric missing, NaN, refused or infinitely good),
``timeout`` (``eval_timeout`` hit), ``stopped`` (the evaluator's
``early_stopping`` rule stopped it; see :mod:`._stopping`), ``interrupted``
(the machine could not run it; see :mod:`._machine`) or ``cancelled``.
Exceptions become endings in one place, :func:`_ending_of`. Which endings are tried
again, how often and after how long is the run's :class:`~._retries.RetryPolicy`.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import anyio

from .._core._devices import device_environment
from .._core._errors import AllocationEnded, ConfigError, LauncherError, TransientLauncherError
from .._core._hosts import HostPool
from .._core._logging import get_logger, log_context
from .._core._trial import Candidate, Status, Trial
from .._space import Params
from ..early_stopping import EarlyStoppingState
from ..launchers import Exit, Job, Launcher
from ._checkpoints import CheckpointStore
from ._evaluator import Evaluator
from ._files import FileWork, off_loop
from ._machine import describe as describe_machine
from ._machine import machine_error
from ._metrics import MetricScanner, missing
from ._retries import RetryPolicy
from ._sinks import LogSink
from ._slot_numbers import SlotNumbers
from ._stopping import AttemptMonitor, start_early_stopping
from ._workspace import Workspace

__all__ = ["TrialRunner"]

log = get_logger("hyperdeme.trial")


@dataclass(frozen=True, slots=True)
class _Place:
    """Where a trial runs: its own directory (None in-process) and the program's cwd."""

    directory: Path | None
    cwd: Path


@dataclass(slots=True)
class _Attempt:
    """How one attempt ended; ``transient``: the launcher said another may succeed."""

    status: Status
    fom: float = math.inf
    metrics: dict[str, float] | None = None
    returncode: int | None = None
    error: str = ""
    transient: bool = False


class TrialRunner:
    """Turns a candidate into a finished :class:`Trial` (never raises for a failed run)."""

    def __init__(
        self,
        evaluator: Evaluator,
        space: Params,
        launcher: Launcher,
        workspace: Workspace,
        nodes: HostPool[int] | None = None,
        experiment: str = "",
        early_stopping: EarlyStoppingState | None = None,
        *,
        file_work: FileWork = off_loop,
        gpus: Sequence[str] = (),
    ) -> None:
        self.evaluator = evaluator
        self.space = space
        self.launcher = launcher
        self.workspace = workspace
        self.nodes = nodes
        self.experiment = experiment
        self.config = evaluator.config
        #: where each trial's directory and logs are made (a worker thread: see _files)
        self.file_work = file_work
        self.checkpoints = CheckpointStore.for_run(evaluator, workspace)
        #: one per run: fresh from the rule, or given (a resumed run's, rebuilt)
        self.early_stopping = early_stopping
        if early_stopping is None:
            self.early_stopping = start_early_stopping(self.config.early_stopping)
        self.retries: RetryPolicy[_Attempt] = RetryPolicy(
            num_retries=self.config.num_retries, retry_delay=self.config.retry_delay
        )
        #: the allocation ended under the run: the scheduler starts nothing new and stops
        self.allocation_ended: AllocationEnded | None = None
        #: the device ids each trial holds ``gpus_per_eval`` of from its start to its end
        #: (its journalled times), retries included (None: no pinning)
        self.gpus = HostPool(gpus) if gpus and not launcher.packs_gpus else None
        #: a launcher that packs evaluations onto nodes places them per host instead
        self.device_pool = tuple(gpus) if launcher.packs_gpus else ()
        #: each running trial's slot (HYPERDEME_SLOT: the lowest number no running trial
        #: has, so 0..slots-1 under a scheduler of ``slots``) and devices
        self._held: dict[int, tuple[int, list[str]]] = {}
        self._slot_numbers = SlotNumbers()

    def new_trial(self, trial_id: int, candidate: Candidate) -> Trial:
        params = self.space.active(candidate.params)
        if len(params) == len(candidate.params):  # every gene active: the same mapping
            params = candidate.params  # shared, as info (a copy per trial: ~0.26 KB)
        return Trial(
            id=trial_id,
            params=params,
            info=candidate.info,  # shared, never changed in place (a copy per trial: ~0.4 KB)
            candidate=candidate,
            nodes=self.evaluator.nodes_for(params),
        )

    async def run(self, trial: Trial) -> Trial:
        """Run ``trial`` to its end, filling it in; on cancellation it is left ``cancelled``.

        It holds a slot (``HYPERDEME_SLOT``) and its devices throughout; the devices
        are enough for every slot (see :mod:`.._driver._gpus`), so it never waits in
        practice.
        """
        if self.gpus is None:  # no devices to hold: no context (a generator a trial)
            return await self._in_slot(trial, [])
        async with self._devices() as gpus:
            if gpus:  # journalled: which devices it ran on (an in-process function's too)
                trial.info = {**trial.info, "gpus": list(gpus)}
            return await self._in_slot(trial, gpus)

    async def _in_slot(self, trial: Trial, gpus: list[str]) -> Trial:
        slot = self._slot_numbers.take()
        self._held[trial.id] = (slot, gpus)
        try:
            return await self._timed(trial)
        finally:
            del self._held[trial.id]
            self._slot_numbers.give_back(slot)

    @asynccontextmanager
    async def _devices(self) -> AsyncIterator[list[str]]:
        """The trial's ``gpus_per_eval`` devices while it runs (a pool is there)."""
        assert self.gpus is not None
        async with self.gpus.hold(self.config.gpus_per_eval_count) as gpus:
            yield gpus

    async def _timed(self, trial: Trial) -> Trial:
        trial.started = time.time()
        start = time.monotonic()
        with log_context(trial=trial.id):
            try:
                await self._attempts(trial)
            except anyio.get_cancelled_exc_class():
                trial.status = Status.CANCELLED
                trial.fom = math.inf
                raise
            finally:
                trial.ended = time.time()
                trial.duration = time.monotonic() - start
                log.info(
                    "trial.finished",
                    status=trial.status.value,
                    fom=trial.fom,
                    attempts=trial.attempts,
                    duration=round(trial.duration, 3),
                )
        return trial

    async def _attempts(self, trial: Trial) -> None:
        log.info("trial.started", params=trial.params, nodes=trial.nodes)
        if self.nodes is not None and trial.nodes > self.nodes.in_service:
            # no attempt can ever get these nodes: a failed trial, not a crash of the run
            error = (
                f"this trial needs {trial.nodes} nodes but the allocation has only "
                f"{self.nodes.in_service}; lower nodes_per_eval (or the {trial.nodes}-node "
                "values of the nodes parameter) or request more nodes."
            )
            self._record(trial, _Attempt(Status.FAILED, error=error))
            return
        place: list[_Place] = []  # prepared by the first attempt that gets that far

        async def attempt() -> _Attempt:
            result = await self._try(trial, place)
            self._record(trial, result)
            return result

        await self.retries.retry(await attempt(), attempt)

    async def _try(self, trial: Trial, place: list[_Place]) -> _Attempt:
        """One attempt, whatever happens short of cancellation: how it ended."""
        trial.attempts += 1
        try:
            if not place:
                place.append(await self._prepare(trial))
            return await self._attempt(trial, place[0])
        except Exception as error:
            return _ending_of(error)

    async def _prepare(self, trial: Trial) -> _Place:
        """The trial's directory and working directory, and its command line."""
        directory, cwd = (None, self.workspace.cwd)  # in-process trials "run" here
        checkpoint = None
        if not self.evaluator.is_callable:
            # in a worker thread: with a src_path of 200 entries this is 200 symlinks,
            # tens of milliseconds the caller's event loop must not wait (see _files)
            directory, cwd = await self.file_work(self.workspace.prepare, trial.id, trial.params)
            checkpoint = await self.checkpoints.directory(trial)
        trial.command = self.evaluator.command_for(
            trial.params, nodes=trial.nodes, checkpoint_dir=checkpoint
        )
        return _Place(directory, cwd)

    def _record(self, trial: Trial, result: _Attempt) -> None:
        trial.status = result.status
        trial.fom = result.fom
        trial.metrics = result.metrics or {}
        trial.objectives = self.evaluator.metric.objective_values(trial.metrics)
        trial.returncode = result.returncode
        trial.error = result.error
        if result.status not in (Status.OK, Status.STOPPED):
            log.info(
                "trial.attempt_failed",
                status=result.status.value,
                returncode=result.returncode,
                error=result.error[-300:],
            )

    async def _attempt(self, trial: Trial, place: _Place) -> _Attempt:
        if not self.checkpoints.enabled:  # no scratch to make: no context (a generator)
            return await self._on_nodes(trial, place, None)
        async with self.checkpoints.attempt(trial) as scratch:
            if scratch.error:
                return _Attempt(Status.FAILED, error=scratch.error)
            if scratch.path is not None:  # this attempt's own copy of the checkpoint
                trial.command = self.evaluator.command_for(
                    trial.params, nodes=trial.nodes, checkpoint_dir=str(scratch.path)
                )
            result = await self._on_nodes(trial, place, scratch.path)
            if result.status is Status.OK and (error := await scratch.commit()):
                return _Attempt(Status.FAILED, returncode=0, error=error)
            return result

    async def _on_nodes(self, trial: Trial, place: _Place, checkpoint: Path | None) -> _Attempt:
        if self.nodes is None:
            return await self._launch(trial, place, checkpoint)
        async with self.nodes.hold(trial.nodes):
            return await self._launch(trial, place, checkpoint)

    async def _launch(self, trial: Trial, place: _Place, checkpoint: Path | None) -> _Attempt:
        """Run the attempt through the launcher, its logs open, and say how it ended."""
        # a program's output is scanned as it streams, each FoM line a step the
        # early-stopping rule may judge; in-process, the function returns its metrics
        # a function taking a trial handle reports its steps through it
        monitor = None
        if place.directory is not None:
            monitor = AttemptMonitor(trial, self.early_stopping, self.config.direction)
        elif self.evaluator.takes_trial:
            monitor = AttemptMonitor(
                trial,
                self.early_stopping,
                self.config.direction,
                metric=self.evaluator.metric,
                grace=self.config.launch.grace_period,
            )
        scanner = None
        if monitor is not None and place.directory is not None:
            # live: a rule judges each step as it is printed
            scanner = self.evaluator.metric.scanner(monitor.on_step, live=monitor.state is not None)
        if place.directory is None:
            stdout, stderr = LogSink(None), LogSink(None)
        else:
            stdout, stderr = await self.file_work(
                _open_logs, place.directory, trial.attempts, scanner
            )
        with stdout, stderr:
            job = self._job(trial, place, checkpoint, stdout, stderr)
            if monitor is not None and place.directory is None:
                job = dataclasses.replace(job, report_step=monitor.on_report)
            ending = await self._ending(trial, job, monitor, scanner, stderr)
        # a log that could not be written: the machine's failure (known once closed)
        lost = stdout.error or stderr.error
        return ending if lost is None else _ending_of(lost)

    def _job(
        self, trial: Trial, place: _Place, checkpoint: Path | None, out: LogSink, err: LogSink
    ) -> Job:
        slot, gpus = self._held[trial.id]
        env = {**self.config.env, "HYPERDEME_SLOT": str(slot), "HYPERDEME_TRIAL": str(trial.id)}
        if gpus:
            env.update(device_environment(gpus))
        return Job(
            trial_id=trial.id,
            attempt=trial.attempts,
            command=trial.command,
            cwd=place.cwd,
            env=env,
            nodes=trial.nodes,
            stdout=out,
            stderr=err,
            params=trial.params,
            name=f"{self.experiment}-{trial.id}",
            directory=place.directory,
            experiment=self.experiment,
            function=self.evaluator.function,
            checkpoint=checkpoint,
            device_pool=self.device_pool,
            gpus_per_eval=(
                self.config.gpus_per_eval_count if self.device_pool else self.config.cluster_gpus
            ),
        )

    async def _ending(
        self,
        trial: Trial,
        job: Job,
        monitor: AttemptMonitor | None,
        scanner: MetricScanner | None,
        stderr: LogSink,
    ) -> _Attempt:
        """How the launched attempt ended (its logs still open)."""
        try:
            exit_ = await self._run(job, monitor, scanner)
        except TransientLauncherError:
            raise
        except AllocationEnded as error:
            return self._interrupted(trial, error)
        except LauncherError as error:
            return _Attempt(Status.FAILED, returncode=error.returncode, error=str(error))
        if isinstance(exit_, _Attempt):
            return exit_
        if exit_.info:  # where it ran (the allocation), journalled with the trial
            trial.info = {**trial.info, **exit_.info}
        if exit_.returncode != 0:
            return _Attempt(Status.FAILED, returncode=exit_.returncode, error=stderr.tail)
        return self._judge(exit_, scanner)

    def _interrupted(self, trial: Trial, error: AllocationEnded) -> _Attempt:
        """The allocation ended under the attempt: not its parameters' fault (run again
        on resume), and no new evaluation starts."""
        if self.allocation_ended is None:
            self.allocation_ended = error
        trial.info = {**trial.info, "allocation": error.allocation}
        return _Attempt(Status.INTERRUPTED, error=str(error))

    async def _run(
        self, job: Job, monitor: AttemptMonitor | None, scanner: MetricScanner | None
    ) -> Exit | _Attempt:
        """The launcher's exit, or the attempt's end when the rule or the timeout stopped it."""
        limit = self.config.launch.time_limit
        if limit is None and monitor is None:  # no scope at all: the in-process hot path
            return await self.launcher.run(job)
        # the rule's scope and the timeout's: either stops the work the same way
        stop = monitor.scope if monitor is not None else nullcontext()
        began = time.monotonic()
        with anyio.move_on_after(limit or math.inf) as scope, stop:
            exit_ = await self.launcher.run(job)
        if limit is not None and not scope.cancel_called and time.monotonic() - began > limit:
            return _Attempt(Status.TIMEOUT, error=_blocked(time.monotonic() - began, limit))
        if monitor is not None and monitor.stopped:
            metrics = dict(scanner.metrics if scanner else monitor.metrics)
            return _Attempt(Status.STOPPED, fom=monitor.fom, metrics=metrics)
        if scope.cancelled_caught:
            return _Attempt(Status.TIMEOUT, error=f"killed after eval_timeout={limit} s")
        return exit_

    def _judge(self, exit_: Exit, scanner: MetricScanner | None) -> _Attempt:
        """A clean exit's ending: ``ok`` with its FoM, or why its metrics do not count."""
        spec = self.evaluator.metric
        try:
            if exit_.result is not None:
                metrics = spec.from_result(exit_.result)
            elif scanner is not None:
                metrics = scanner.close()
            else:
                raise ConfigError(
                    f"{self.evaluator.cmd} returned None; an evaluation function must return "
                    "a number (the figure of merit) or a dict of metrics such as "
                    "{'loss': 0.25}."
                )
        except ConfigError as error:
            return _Attempt(Status.FAILED, returncode=0, error=str(error))
        fom = spec.fom(metrics)
        if fom is None or math.isnan(fom):
            refused = scanner.refused if scanner is not None else {}
            why = missing(spec, metrics, refused)
            return _Attempt(Status.NO_METRIC, metrics=metrics, returncode=0, error=why)
        if fom == _TOO_GOOD[self.config.direction]:
            return _Attempt(
                Status.NO_METRIC,
                metrics=metrics,
                returncode=0,
                error=f"the FoM is {fom}, better than any result can be ({self.config.direction}"
                "): a broken metric, not a result (a diverged run's FoM is the worst, "
                f"{-fom}: a result, ranked last).",
            )
        return _Attempt(Status.OK, fom=fom, metrics=metrics, returncode=0)


def _blocked(took: float, limit: float) -> str:
    """Why an attempt ran past ``eval_timeout`` untouched: its deadline passed while the
    event loop was not running, so the cancellation could not land (a loop-lag check)."""
    return (
        f"ran {took:.1f} s, past eval_timeout={limit} s, without giving the event loop "
        "back (an `async def` evaluation function that blocks: time.sleep, CPU work, a "
        "blocking call), so it could not be stopped in time; define it with plain `def` "
        "(it then runs in a worker thread), or await such work with "
        "anyio.to_thread.run_sync."
    )


#: the infinite FoM that would beat every result: a broken metric (see the guide's "FoM")
_TOO_GOOD = {"minimize": -math.inf, "maximize": math.inf}


def _ending_of(error: Exception) -> _Attempt:
    """How an attempt that raised ended: the one place exceptions become endings.

    A launcher's passing failure is retried on its own budget; the machine's (see
    :mod:`._machine`) too, and ends the trial ``interrupted`` if it lasts; anything
    else (an argument list too long, a file in the way ...) is a failed attempt,
    recorded, never a crashed run.
    """
    if isinstance(error, TransientLauncherError):
        return _Attempt(
            Status.FAILED, returncode=error.returncode, error=str(error), transient=True
        )
    machine = machine_error(error)
    if machine is not None:
        return _Attempt(Status.INTERRUPTED, error=describe_machine(machine), transient=True)
    return _Attempt(Status.FAILED, error=f"the evaluation could not start: {_describe(error)}")


def _describe(error: BaseException) -> str:
    if isinstance(error, BaseExceptionGroup):  # say what is inside, not "1 sub-exception"
        return "; ".join(_describe(inner) for inner in error.exceptions)
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _open_logs(
    directory: Path, attempt: int, scanner: MetricScanner | None
) -> tuple[LogSink, LogSink]:
    """The attempt's ``stdout.log`` (scanned) and ``stderr.log``, earlier attempts' kept."""
    out, err = directory / "stdout.log", directory / "stderr.log"
    if attempt > 1:  # keep the earlier attempt's logs beside the new ones
        for path in (out, err):
            if path.exists():
                path.rename(path.with_suffix(f".attempt{attempt - 1}.log"))
    stdout = LogSink(out, scanner=scanner)
    try:
        return stdout, LogSink(err)
    except BaseException:
        stdout.close()
        raise
