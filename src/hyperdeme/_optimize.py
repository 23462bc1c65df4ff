"""Running an optimizer: ``await optimize(...)`` and ``async with stream(...)``.

Everything that can be wrong with the arguments is checked before the first
evaluation starts. Then the launcher is entered (allocation made), the
scheduler runs the strategy, and every finished trial is journalled, added to
the result and handed to the caller.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from types import TracebackType
from typing import TYPE_CHECKING, NoReturn

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream

from ._errors import ConfigError, raise_single
from ._humanlog import HumanLog
from ._journal import Journal, read_journal
from ._logging import get_logger, verbose_output
from ._nodes import NodePool
from ._parameters import Choice
from ._result import Result
from ._runner import TrialRunner
from ._scheduler import Scheduler
from ._space import Params
from ._trial import Trial
from ._workspace import Workspace
from .launchers import CallableLauncher, Launcher, create
from .launchers._detect import resolve

if TYPE_CHECKING:
    from ._evaluator import Evaluator
    from ._optimizers import Optimizer

__all__ = ["optimize", "stream"]

log = get_logger("hyperdeme.run")


async def optimize(optimizer: Optimizer, params: Params) -> Result:
    """Run ``optimizer`` over ``params`` inside the caller's event loop; return the result.

    Cancelling the caller's scope stops every evaluation (processes killed,
    allocations released) and leaves a consistent journal.
    """
    return await _run(optimizer, params, _ignore)


def stream(optimizer: Optimizer, params: Params) -> _Stream:
    """Each finished trial as it arrives::

        async with hyperdeme.stream(opt, params) as trials:
            async for trial in trials:
                ...

    Leaving the block early stops the run. ``opt.result`` holds the result after it.
    """
    return _Stream(optimizer, params)


class _Stream:
    def __init__(self, optimizer: Optimizer, params: Params) -> None:
        self._context = _open_stream(optimizer, params)

    async def __aenter__(self) -> MemoryObjectReceiveStream[Trial]:
        return await self._context.__aenter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        return await self._context.__aexit__(exc_type, exc, tb)

    def __aiter__(self) -> NoReturn:
        raise TypeError(
            "hyperdeme.stream() is an async context manager (a run holds a task group, "
            "which must not live inside an async generator); write\n"
            "    async with hyperdeme.stream(opt, params) as trials:\n"
            "        async for trial in trials: ..."
        )


@asynccontextmanager
async def _open_stream(
    optimizer: Optimizer, params: Params
) -> AsyncIterator[MemoryObjectReceiveStream[Trial]]:
    send, receive = anyio.create_memory_object_stream[Trial](math.inf)

    async def produce() -> None:
        async with send:
            await _run(optimizer, params, send.send)

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(produce)
            async with receive:
                yield receive
            tg.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        raise_single(group)


async def _ignore(trial: Trial) -> None:
    return None


async def _run(
    optimizer: Optimizer, params: Params, emit: Callable[[Trial], Awaitable[None]]
) -> Result:
    evaluator = optimizer.evaluator
    if evaluator is None:
        raise ConfigError(
            f"{type(optimizer).__name__} has no evaluator; pass one: "
            f"{type(optimizer).__name__}(hyperdeme.Evaluator('python3 train.py'), ...)."
        )
    if not isinstance(params, Params):
        raise ConfigError(f"params must be a hyperdeme.Params, got {type(params).__name__}.")
    _check_nodes_parameter(evaluator, params)
    strategy = optimizer.make_strategy(params)  # validates against the space
    settings = evaluator.settings
    workspace = Workspace.create(
        settings.run_path, optimizer.experiment, settings.src_path, settings.checkpoint
    )
    launcher = await _launcher(evaluator)
    first_id = _next_trial_id(workspace)
    result = Result(journal_path=workspace.journal_path, seed=strategy.seed)
    optimizer.result = result
    started = time.monotonic()
    with (
        verbose_output(settings.verbose or optimizer.verbose),
        Journal(workspace.journal_path, fsync=evaluator.fsync) as journal,
        HumanLog(workspace.root, optimizer.log_fn) as human,
    ):
        log.info(
            "run.started",
            experiment=optimizer.experiment,
            launcher=launcher.name,
            seed=result.seed,
            directory=str(workspace.root),
        )

        async def on_trial(trial: Trial) -> None:
            result.trials.append(trial)
            human.write(trial)
            await emit(trial)

        async with launcher:
            total_nodes = launcher.total_nodes
            runner = TrialRunner(
                evaluator,
                params,
                launcher,
                workspace,
                nodes=NodePool(total_nodes) if total_nodes else None,
                experiment=optimizer.experiment,
            )
            scheduler = Scheduler(
                runner,
                journal,
                slots=settings.slots(total_nodes),
                time_budget=settings.timeout * 60 if settings.timeout else math.inf,
                first_id=first_id,
            )
            try:
                await scheduler.run(strategy, on_trial)
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
    return result


async def _launcher(evaluator: Evaluator) -> Launcher:
    if evaluator.function is not None:
        return CallableLauncher()
    # detection may ask `qsub --version`: keep the event loop free meanwhile
    name, reason = await anyio.to_thread.run_sync(resolve, evaluator.settings)
    log.info("launcher.detected", launcher=name, reason=reason)
    return create(name, evaluator.settings)


def _check_nodes_parameter(evaluator: Evaluator, params: Params) -> None:
    flag = evaluator.settings.nodes_per_eval_flag
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
