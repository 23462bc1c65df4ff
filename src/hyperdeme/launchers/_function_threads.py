"""Long-lived worker threads for plain evaluation functions, one per slot.

A plain function (``function_runs_in="thread"``) is called in a worker thread so
that the event loop stays free while it runs (time limits, cancellation, progress,
and whatever else the application's loop serves). Each call is handed to an idle
thread of the run's own through a :class:`queue.SimpleQueue`, and its outcome comes
back to the loop with one wake-up (asyncio's ``call_soon_threadsafe`` on a future,
trio's ``run_sync_soon`` rescheduling the waiting task).

Written by hand because ``anyio.to_thread.run_sync`` costs about 80 us a call on the
2-core machine this is measured on (``benchmarks/throughput_inprocess.py``): a limiter
acquisition with its own loop pass, a cancel scope, a worker lookup and its idle-timer
bookkeeping, while the hop itself (a queue put, the function, one wake-up) is about
30 us on asyncio. What is kept from anyio: a :class:`anyio.CapacityLimiter` sized to
the slots (taken without a loop pass when free), the caller's context variables in
the function, ``anyio.from_thread`` working from the function without a token, and
abandon-on-cancel: a cancelled call returns at once, its thread finishes the function
and then ends (a thread cannot be killed), never serving another call.

Threads are started as calls need them (never more than the slots that are busy at
once, plus abandoned ones still running) and stopped by :meth:`FunctionThreads.close`
when the run ends. They are daemon threads: a function abandoned by a stopped run
does not hold the interpreter's exit.
"""

from __future__ import annotations

import contextlib
import contextvars
import queue
import threading
from collections.abc import Callable
from typing import Any, cast

import anyio
import anyio.lowlevel

__all__ = ["FunctionThreads"]


class _Call:
    """One call in flight: what to run, and how its outcome reaches the waiting task."""

    __slots__ = ("abandoned", "args", "context", "failed", "function", "value", "wake")

    def __init__(self, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.function = function
        self.args = args
        self.context = contextvars.copy_context()
        self.value: Any = None
        self.failed = False
        self.abandoned = False
        self.wake: Callable[[], None] = _nothing

    def run(self) -> None:
        """In the worker thread: call the function, keep its outcome, wake the loop."""
        try:
            self.value = self.context.run(self.function, *self.args)
        except BaseException as error:  # the loop side raises it: SystemExit, KeyboardInterrupt too
            self.value, self.failed = error, True
        with contextlib.suppress(RuntimeError):  # the loop is closed (trio's RunFinishedError)
            self.wake()

    def outcome(self) -> Any:
        value, self.value = self.value, None  # no reference cycle through the traceback
        if self.failed:
            raise value
        return value


def _nothing() -> None:
    pass


class _Worker:
    """A thread serving calls from its inbox until it gets ``None``."""

    __slots__ = ("inbox", "thread")

    def __init__(self, token: anyio.lowlevel.EventLoopToken) -> None:
        self.inbox: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self.thread = threading.Thread(
            target=_serve, args=(self.inbox, token), name="hyperdeme function worker", daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        """Ends the thread once its current call (if any) returns."""
        self.inbox.put(None)


def _serve(inbox: queue.SimpleQueue[_Call | None], token: anyio.lowlevel.EventLoopToken) -> None:
    _claim(token)
    while (call := inbox.get()) is not None:
        call.run()
        del call


def _claim(token: anyio.lowlevel.EventLoopToken) -> None:
    """Makes this thread one of the loop's workers, as anyio's and trio's own worker
    threads are, so that ``anyio.from_thread.run_sync(f)`` from the function reaches
    the run's loop without being given a token (the guide promises it). Neither
    library has a public call for it: these are the thread-locals their own workers
    set (``tests/launchers/test_function_threads.py`` checks it on both backends)."""
    from anyio._core._eventloop import threadlocals

    threadlocals.current_token = token
    if not hasattr(token.native_token, "call_soon_threadsafe"):  # trio's token
        import trio
        from trio._threads import PARENT_TASK_DATA

        PARENT_TASK_DATA.token = cast(trio.lowlevel.TrioToken, token.native_token)
        PARENT_TASK_DATA.abandon_on_cancel = True  # as anyio's trio workers: the system nursery


class FunctionThreads:
    """At most ``size`` calls at once, each in a worker thread of this pool's own.

    Made, used and closed in one event loop (the run's).
    """

    def __init__(self, *, size: int) -> None:
        self.limiter = anyio.CapacityLimiter(max(1, size))
        self._token = anyio.lowlevel.current_token()
        self._idle: list[_Worker] = []
        self._closed = False
        native = self._token.native_token
        self._asyncio_loop: Any = native if hasattr(native, "call_soon_threadsafe") else None

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """``function(*args)`` in a worker thread; its result, or what it raised.

        Cancelled: returns at once (raising the cancellation), the function's thread
        runs on to the function's end and then stops."""
        await anyio.lowlevel.checkpoint_if_cancelled()
        call = _Call(function, args)
        try:
            self.limiter.acquire_on_behalf_of_nowait(call)
        except anyio.WouldBlock:
            await self.limiter.acquire_on_behalf_of(call)
        try:
            worker = self._idle.pop() if self._idle else _Worker(self._token)
            try:
                if self._asyncio_loop is not None:
                    await self._on_asyncio(call, worker)
                else:
                    await self._on_trio(call, worker)
            except BaseException:
                call.abandoned = True
                worker.stop()  # after the function returns: an abandoned thread serves no more
                raise
            if self._closed:
                worker.stop()
            else:
                self._idle.append(worker)
        finally:
            self.limiter.release_on_behalf_of(call)
        return call.outcome()

    async def _on_asyncio(self, call: _Call, worker: _Worker) -> None:
        loop = self._asyncio_loop
        future = loop.create_future()

        def settle() -> None:
            if not future.done():  # not cancelled meanwhile
                future.set_result(None)

        call.wake = lambda: loop.call_soon_threadsafe(settle)
        worker.inbox.put(call)
        await future

    async def _on_trio(self, call: _Call, worker: _Worker) -> None:
        import trio

        task = trio.lowlevel.current_task()
        token = self._token.native_token
        assert isinstance(token, trio.lowlevel.TrioToken)

        def settle() -> None:
            if not call.abandoned:
                trio.lowlevel.reschedule(task)

        def abort(_: Any) -> trio.lowlevel.Abort:
            call.abandoned = True
            return trio.lowlevel.Abort.SUCCEEDED

        call.wake = lambda: token.run_sync_soon(settle)
        worker.inbox.put(call)
        await trio.lowlevel.wait_task_rescheduled(abort)

    def close(self) -> None:
        """Stops the idle threads and waits for them (they end at once); threads still
        running a call (abandoned, or a call not yet returned) stop after it."""
        self._closed = True
        idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()
        for worker in idle:
            worker.thread.join(timeout=5)
