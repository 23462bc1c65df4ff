"""The async entry points: ``await optimize(opt, params)`` and ``async with stream(...)``."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType
from typing import TYPE_CHECKING, NoReturn

import anyio

from .._core._errors import unwrap
from .._core._trial import Trial
from .._space import Params
from ._optimizer import Optimizer
from ._result import Result

if TYPE_CHECKING:
    from anyio.streams.memory import MemoryObjectReceiveStream

__all__ = ["optimize", "stream"]


async def optimize(
    optimizer: Optimizer, params: Params, *, resume: bool = False, progress: bool | float = False
) -> Result:
    """Run ``optimizer`` over ``params`` inside the caller's event loop; return the result.

    Cancelling the caller's scope stops every evaluation (processes killed,
    allocations released) and leaves a consistent journal; ``opt.cancel()`` (from
    any thread) does the same and returns the result. Errors are raised bare, as
    :func:`stream` and the blocking call raise them (never an ``ExceptionGroup``).
    The run's file work happens in a worker thread, off the caller's loop (see the
    guide's "Embedding hyperdeme"). ``resume=True``
    continues the experiment; ``progress=True`` shows live progress on a terminal
    (see :meth:`hyperdeme.Optimizer.optimize`).
    """
    return await optimizer.run(params, resume=resume, progress=progress)


def stream(
    optimizer: Optimizer, params: Params, *, resume: bool = False, progress: bool | float = False
) -> _Stream:
    """Each finished trial as it arrives::

        async with hyperdeme.stream(opt, params) as trials:
            async for trial in trials:
                ...

    Leaving the block early stops the run; ``opt.cancel()`` ends the iteration.
    ``opt.result`` holds the result after it (every trial the journal holds).
    ``resume=True`` continues the experiment; only trials of this run are streamed.
    """
    return _Stream(optimizer, params, resume=resume, progress=progress)


class _Stream:
    def __init__(
        self, optimizer: Optimizer, params: Params, *, resume: bool, progress: bool | float
    ) -> None:
        self._context = _open_stream(optimizer, params, resume=resume, progress=progress)

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
    optimizer: Optimizer, params: Params, *, resume: bool, progress: bool | float
) -> AsyncIterator[MemoryObjectReceiveStream[Trial]]:
    send, receive = anyio.create_memory_object_stream[Trial](math.inf)

    async def produce() -> None:
        async with send:
            await optimizer.run(params, send.send, resume=resume, progress=progress)

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(produce)
            async with receive:
                yield receive
            tg.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        unwrap(group)
