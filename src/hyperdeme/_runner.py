"""Run one trial: prepare it, run attempts through the launcher, classify, retry.

Each attempt ends ``ok``, ``failed`` (non-zero exit, launcher error),
``no_metric`` (exit 0 but a metric missing or NaN), ``timeout``
(``eval_timeout`` hit) or ``cancelled``. Failed, no-metric and timed-out
attempts are retried up to ``num_retries`` times with exponential back-off;
a :class:`TransientLauncherError` (node failure, step creation refused) is
retried on its own small budget, whatever ``num_retries`` says.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import anyio
from structlog.contextvars import bound_contextvars
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential

from ._errors import ConfigError, LauncherError, TransientLauncherError
from ._evaluator import Evaluator
from ._logging import get_logger
from ._nodes import NodePool
from ._output import LogSink
from ._space import Params
from ._trial import Candidate, Status, Trial
from ._workspace import Workspace
from .launchers import Job, Launcher

__all__ = ["TrialRunner"]

log = get_logger("hyperdeme.trial")

MAX_TRANSIENT_RETRIES = 5
_RETRIED = (Status.FAILED, Status.NO_METRIC, Status.TIMEOUT)
_MAX_DELAY = 60.0


@dataclass(slots=True)
class _Attempt:
    status: Status
    fom: float = math.inf
    metrics: dict[str, float] | None = None
    returncode: int | None = None
    error: str = ""


class _AttemptFailed(Exception):
    def __init__(self, attempt: _Attempt) -> None:
        super().__init__(attempt.status.value)
        self.attempt = attempt


#: what makes an attempt worth another: its own failure, or its launcher's hiccup
_RETRY_ON = (_AttemptFailed, TransientLauncherError)


class TrialRunner:
    """Turns a candidate into a finished :class:`Trial` (never raises for a failed run)."""

    def __init__(
        self,
        evaluator: Evaluator,
        space: Params,
        launcher: Launcher,
        workspace: Workspace,
        nodes: NodePool | None = None,
        experiment: str = "",
    ) -> None:
        self.evaluator = evaluator
        self.space = space
        self.launcher = launcher
        self.workspace = workspace
        self.nodes = nodes
        self.experiment = experiment
        self.settings = evaluator.settings

    def new_trial(self, trial_id: int, candidate: Candidate) -> Trial:
        params = self.space.active(candidate.params)
        return Trial(
            id=trial_id,
            params=params,
            info=dict(candidate.info),
            candidate=candidate,
            nodes=self.evaluator.nodes_for(params),
        )

    async def run(self, trial: Trial) -> Trial:
        """Run ``trial`` to its end, filling it in; on cancellation it is left ``cancelled``."""
        trial.started = time.time()
        start = time.monotonic()
        with bound_contextvars(trial=trial.id):
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
        directory, cwd = (None, Path.cwd())
        if not self.evaluator.is_callable:
            directory, cwd = self.workspace.prepare(trial.id, trial.params)
        checkpoint = None
        if "@checkpoint" in self.evaluator.cmd and not self.evaluator.is_callable:
            checkpoint = str(
                await anyio.to_thread.run_sync(self.workspace.checkpoint_dir, trial.id)
            )
        trial.command = self.evaluator.command_for(
            trial.params, nodes=trial.nodes, checkpoint_dir=checkpoint
        )
        log.info("trial.started", params=trial.params, nodes=trial.nodes)
        if self.nodes is not None and trial.nodes > self.nodes.capacity:
            # no attempt can ever get these nodes: a failed trial, not a crash of the run
            error = (
                f"this trial needs {trial.nodes} nodes but the allocation has only "
                f"{self.nodes.capacity}; lower nodes_per_eval (or the {trial.nodes}-node "
                "values of the nodes parameter) or request more nodes."
            )
            self._record(trial, _Attempt(Status.FAILED, error=error))
            return
        counts = {"failures": 0, "transient": 0}

        def exhausted(error: BaseException | None) -> bool:
            """Count a failed attempt; True when its kind has no retry left."""
            kind = "transient" if isinstance(error, TransientLauncherError) else "failures"
            counts[kind] += 1
            return (
                counts["failures"] > self.settings.num_retries
                or counts["transient"] > MAX_TRANSIENT_RETRIES
            )

        # The first attempt runs without the retry machinery: most trials need no
        # more, and it is the scheduler's hot path.
        try:
            await self._try(trial, directory, cwd)
            return
        except _RETRY_ON as error:
            if exhausted(error):
                self._give_up(trial, error)
                return
            log.info("trial.retry", attempt=1, reason=str(error))
        delay = self.evaluator.retry_delay
        await anyio.sleep(min(delay, _MAX_DELAY))

        def before_sleep(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome is not None else None
            log.info("trial.retry", attempt=state.attempt_number + 1, reason=str(error))

        retrying = AsyncRetrying(
            sleep=anyio.sleep,
            stop=lambda state: exhausted(state.outcome.exception() if state.outcome else None),
            # delays continue the first one: delay, 2 delay, 4 delay ... up to a minute
            wait=wait_exponential(multiplier=2 * delay, max=_MAX_DELAY),
            retry=retry_if_exception_type(_RETRY_ON),
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    await self._try(trial, directory, cwd)
        except _RETRY_ON as error:
            self._give_up(trial, error)

    async def _try(self, trial: Trial, directory: Path | None, cwd: Path) -> None:
        """One attempt, recorded on the trial; raises when it deserves another."""
        result = await self._attempt(trial, directory, cwd)
        self._record(trial, result)
        if result.status in _RETRIED:
            raise _AttemptFailed(result)

    def _give_up(self, trial: Trial, error: Exception) -> None:
        if isinstance(error, TransientLauncherError):  # the attempt itself left no record
            self._record(trial, _Attempt(Status.FAILED, error=_describe(error)))

    def _record(self, trial: Trial, result: _Attempt) -> None:
        trial.status = result.status
        trial.fom = result.fom
        trial.metrics = result.metrics or {}
        trial.returncode = result.returncode
        trial.error = result.error
        if result.status is not Status.OK:
            log.info(
                "trial.attempt_failed",
                status=result.status.value,
                returncode=result.returncode,
                error=result.error[-300:],
            )

    async def _attempt(self, trial: Trial, directory: Path | None, cwd: Path) -> _Attempt:
        trial.attempts += 1
        if self.nodes is None:
            return await self._launch(trial, directory, cwd)
        async with self.nodes.hold(trial.nodes):
            return await self._launch(trial, directory, cwd)

    async def _launch(self, trial: Trial, directory: Path | None, cwd: Path) -> _Attempt:
        spec = self.evaluator.metric
        scanner = spec.scanner()
        out_path, err_path = _log_paths(directory, trial.attempts)
        with LogSink(out_path, scanner=scanner) as stdout, LogSink(err_path) as stderr:
            job = Job(
                trial_id=trial.id,
                attempt=trial.attempts,
                command=trial.command,
                cwd=cwd,
                env=self.settings.env,
                nodes=trial.nodes,
                stdout=stdout,
                stderr=stderr,
                params=trial.params,
                name=f"{self.experiment}-{trial.id}",
                directory=directory,
                experiment=self.experiment,
                function=self.evaluator.function,
            )
            eval_timeout = self.settings.eval_timeout or math.inf
            try:
                with anyio.move_on_after(eval_timeout) as scope:
                    exit_ = await self.launcher.run(job)
            except TransientLauncherError:
                raise
            except LauncherError as error:
                return _Attempt(Status.FAILED, returncode=error.returncode, error=_describe(error))
            if scope.cancelled_caught:
                return _Attempt(Status.TIMEOUT, error=f"killed after eval_timeout={eval_timeout} s")
            if exit_.returncode != 0:
                return _Attempt(Status.FAILED, returncode=exit_.returncode, error=stderr.tail)
            try:
                metrics = (
                    scanner.close() if exit_.result is None else spec.from_result(exit_.result)
                )
            except ConfigError as error:
                return _Attempt(Status.FAILED, returncode=0, error=str(error))
            fom = spec.fom(metrics)
            if fom is None or math.isnan(fom):
                missing = [n for n in spec.names if math.isnan(metrics.get(n, math.nan))]
                return _Attempt(
                    Status.NO_METRIC,
                    metrics=metrics,
                    returncode=0,
                    error=f"metric(s) missing or NaN in the output: {', '.join(missing)}",
                )
            return _Attempt(Status.OK, fom=fom, metrics=metrics, returncode=0)


def _log_paths(directory: Path | None, attempt: int) -> tuple[Path | None, Path | None]:
    if directory is None:  # in-process: the result and traceback are in the journal
        return None, None
    out, err = directory / "stdout.log", directory / "stderr.log"
    if attempt > 1:  # keep the earlier attempt's logs beside the new ones
        for path in (out, err):
            if path.exists():
                path.rename(path.with_suffix(f".attempt{attempt - 1}.log"))
    return out, err


def _describe(error: LauncherError) -> str:
    parts = [str(error)]
    if error.stderr_tail:
        parts.append(error.stderr_tail)
    return "\n".join(parts)
