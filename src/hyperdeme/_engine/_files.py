"""File work off the event loop: each trial's directory, ``params.json``, logs and links.

A run often lives in someone else's event loop (a web server's lifespan, a
notebook). Making a trial directory, writing its parameters, linking a
``src_path`` of 200 entries and opening its logs costs 1-3 ms a trial on ext4,
and tens to hundreds of milliseconds with many links or a slow file system:
time during which that loop would answer nobody. So it runs in worker threads,
from a limiter of its own (per event loop) rather than anyio's default one,
which the application's own ``to_thread`` calls share.

The limiter holds one thread: a disk serializes metadata operations, so more
threads only queue in the kernel, and one thread keeps the trials' directories
made in the order their trials were started (anyio's limiters are fair, first
come first served).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, TypeVarTuple, Unpack

import anyio
from anyio.lowlevel import RunVar

__all__ = ["FILE_THREADS", "FileWork", "off_loop", "on_loop"]

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

#: worker threads doing one event loop's file work at once
FILE_THREADS = 1

#: how a runner does its file work: :func:`off_loop`, or :func:`on_loop` where a test
#: drives the scheduler step by step (``wait_all_tasks_blocked`` counts a task waiting
#: for a thread as blocked)
FileWork = Callable[..., Awaitable[Any]]

_LIMITER: RunVar[anyio.CapacityLimiter] = RunVar("hyperdeme_file_threads")


async def off_loop(function: Callable[[Unpack[Ts]], T], *args: *Ts) -> T:
    """``function(*args)`` in a worker thread; a cancellation waits for it (so what it
    opened is returned, to be closed by the caller's ``with``)."""
    try:
        limiter = _LIMITER.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(FILE_THREADS)
        _LIMITER.set(limiter)
    return await anyio.to_thread.run_sync(function, *args, limiter=limiter)


async def on_loop(function: Callable[[Unpack[Ts]], T], *args: *Ts) -> T:
    """``function(*args)`` right here, on the event loop (see :data:`FileWork`)."""
    return function(*args)
