"""Running an async optimization to completion from synchronous code.

``opt.optimize(params)`` starts its own event loop. Ctrl-C, and SIGTERM (a
batch system ending the driver's job), stop the run cleanly: evaluations
killed, allocations released, journal consistent; then KeyboardInterrupt, or
SystemExit(143) for SIGTERM, propagates.

Both signals become a cancellation of the run, seen at its next checkpoint, on
asyncio and trio alike. Trio would otherwise raise KeyboardInterrupt at any
line of the run's synchronous code (halfway through starting a program, or
through a journal write); a second Ctrl-C during the clean stop does that.

In any other thread signals are not the run's (Python delivers them to the main
thread): ``opt.cancel()`` stops such a run.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

import anyio

from .._core._errors import UsageError, unwrap

__all__ = ["loop_running", "run_blocking"]

T = TypeVar("T")


def run_blocking(
    function: Callable[[], Awaitable[T]], *, backend: Literal["asyncio", "trio"], what: str
) -> T:
    """``await function()`` in a new event loop of ``backend``; ``what`` names the
    blocking call for the error raised inside a running loop."""
    if loop_running():
        raise UsageError(
            f"{what} blocks, but an event loop is running in this thread; use "
            "`result = await hyperdeme.optimize(opt, params)` instead."
        )
    return anyio.run(_until_terminated, function, backend=backend)


async def _until_terminated(function: Callable[[], Awaitable[T]]) -> T:
    if threading.current_thread() is not threading.main_thread():
        return await function()  # signals are the main thread's
    received: signal.Signals | None = None
    try:
        async with anyio.create_task_group() as tg:

            async def watch() -> None:
                nonlocal received
                with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                    async for signum in signals:
                        received = signum
                        tg.cancel_scope.cancel()
                        return

            tg.start_soon(watch)
            result = await function()
            tg.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        unwrap(group)
    if received is signal.SIGINT:
        raise KeyboardInterrupt
    if received is signal.SIGTERM:
        raise SystemExit(128 + signal.SIGTERM)
    return result


def loop_running() -> bool:
    """True inside a running asyncio or trio loop in this thread.

    Neither is imported to find out: a loop runs only if its module was imported
    (importing asyncio, with ssl and socket, would add 15-35 ms to ``import hyperdeme``).
    """
    asyncio = sys.modules.get("asyncio")
    if asyncio is not None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            return True
    trio = sys.modules.get("trio")
    if trio is None:
        return False
    try:
        trio.lowlevel.current_trio_token()
    except RuntimeError:
        return False
    return True
