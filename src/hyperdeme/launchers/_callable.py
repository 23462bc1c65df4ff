"""Run each evaluation in-process: a Python function of the parameters.

A coroutine function is awaited on the event loop (no thread hop). A plain
function runs in a worker thread (``runs_in="thread"``, the default: cheap,
from a thread limiter of the run's own, sized to its slots, never anyio's
default one of 40 threads that the application's own ``to_thread`` calls share;
shares the driver's memory, but a thread cannot be killed, so a function
that overruns ``eval_timeout`` is abandoned and keeps running in its thread
(on asyncio the interpreter then waits for it at exit), or in a worker
process (``runs_in="process"``: the function and its arguments are pickled,
each call costs a round trip to a process that is reused, and a timed-out or
cancelled evaluation is killed with its process).

Whatever the function raises, ``SystemExit`` and ``KeyboardInterrupt`` of a
plain function included, is a failed attempt with its traceback in the
trial's stderr; only the run's own cancellation goes through (and a
``KeyboardInterrupt`` inside a coroutine function, which on trio may be the
user's Ctrl-C).

A function taking a trial handle (see :mod:`._signature`) gets a
:class:`~._trial_context.TrialContext` whose reports reach ``job.report_step``
on the event loop: directly from a coroutine function, through
``anyio.from_thread`` from a worker thread, over a Unix socket from a worker
process (:mod:`._report_channel`). A cancelled evaluation marks its handle
stopped, so an abandoned thread's next report raises ``Stopped``.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import shutil
import tempfile
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import anyio

from .._core._errors import ConfigError
from ._base import Exit, Job, Launcher
from ._signature import CallStyle, call_style
from ._trial_context import LoopReporter, Reporter, StepListener, TrialContext

if TYPE_CHECKING:
    from ._report_channel import ChannelReporter

__all__ = ["CallableLauncher", "RunsIn", "takes_checkpoint"]

RunsIn = Literal["thread", "process"]


class CallableLauncher(Launcher):
    """Calls ``job.function(params)``; see the module docstring.

    The function returns a number (the FoM) or a dict of metrics. An exception
    is a failed attempt (exit code 1): its traceback goes to the trial's
    ``stderr.log``. So is returning ``None`` (a forgotten ``return``), with a
    message saying what to return. A function with a ``checkpoint`` parameter
    gets the attempt's checkpoint directory (``str``, or None without a plan):
    ``f(params, checkpoint=...)``; one taking a trial handle gets a
    :class:`~hyperdeme.TrialContext` (see :mod:`._signature` for the rule).
    """

    name = "callable"

    def __init__(self, *, runs_in: RunsIn = "thread", slots: int = 1) -> None:
        self.runs_in = runs_in
        #: as many worker threads (or processes) as the run has slots: its own, so that
        #: 64 slots run 64 at a time and the application's ``to_thread`` calls never wait
        self.slots = slots
        self._limiter: anyio.CapacityLimiter | None = None
        #: per function: how it is called, read once from its signature
        self._styles: dict[Callable[..., Any], CallStyle] = {}
        #: a private directory (0700) for the report sockets of worker processes
        self._sockets: str | None = None
        self._calls = itertools.count(1)

    async def run(self, job: Job) -> Exit:
        function = job.function
        if function is None:
            raise ConfigError("the callable launcher needs an evaluation function.", name="cmd")
        params: dict[str, Any] = dict(job.params)
        style = self._styles.get(function)
        if style is None:
            style = self._styles[function] = call_style(function)
        handle, channel = self._handle(job, style)
        call, args = _bound(function, style, params, job, handle)
        try:
            result = await self._call(call, args, style, job, channel)
        except anyio.get_cancelled_exc_class():
            if handle is not None:  # an abandoned thread's next report raises Stopped
                handle.halt()
            raise
        except anyio.BrokenWorkerProcess as error:
            job.stderr.write(_broken_worker(error).encode())
            return Exit(1)
        except _Exited as error:  # raised in a worker process: its own words, as in a thread
            job.stderr.write(f"{error}\n".encode())
            return Exit(1)
        except KeyboardInterrupt:
            if style.coroutine:
                raise
            job.stderr.write(traceback.format_exc().encode())
            return Exit(1)
        except BaseException:
            job.stderr.write(traceback.format_exc().encode())
            return Exit(1)
        if result is None:
            name = getattr(function, "__qualname__", repr(function))
            job.stderr.write(
                f"{name} returned None; an evaluation function must return a number (the "
                "figure of merit) or a dict of metrics such as {'loss': 0.25}. Is a return "
                "statement missing?\n".encode()
            )
            return Exit(1)
        return Exit(0, result=result)

    def _handle(
        self, job: Job, style: CallStyle
    ) -> tuple[TrialContext | None, ChannelReporter | None]:
        """The trial handle for this call (None when the function takes none), and the
        worker's end of its report channel in process mode."""
        if not style.takes_handle:
            return None, None
        listener: StepListener = job.report_step or _unheard
        channel = None
        reporter: Reporter
        if self.runs_in == "process" and not style.coroutine:
            # sockets and anyio's stream classes: imported by the first such call only
            from ._report_channel import ChannelReporter

            reporter = channel = ChannelReporter(self._socket_path())
        else:
            reporter = LoopReporter(listener)
        checkpoint = None if job.checkpoint is None else str(job.checkpoint)
        handle = TrialContext(
            id=job.trial_id,
            params=job.params,
            checkpoint_dir=checkpoint,
            reporter=reporter,
            gpus=job.gpus,
        )
        return handle, channel

    async def _call(
        self,
        call: Callable[..., Any],
        args: tuple[Any, ...],
        style: CallStyle,
        job: Job,
        channel: ChannelReporter | None,
    ) -> Any:
        if style.coroutine:
            return await call(*args)
        if self.runs_in == "process":
            if channel is not None:
                return await self._in_process_with_reports(call, args, job, channel)
            return await anyio.to_process.run_sync(
                _in_worker,
                call,
                args,
                None,
                dict(job.env),
                cancellable=True,
                limiter=self._workers(),
            )
        return await anyio.to_thread.run_sync(
            call, *args, abandon_on_cancel=True, limiter=self._workers()
        )

    async def _in_process_with_reports(
        self, call: Callable[..., Any], args: tuple[Any, ...], job: Job, channel: ChannelReporter
    ) -> Any:
        """Run ``call`` in a worker process while serving its reports on ``channel``'s
        socket; the socket goes with the call."""
        from ._report_channel import serve_reports

        listener = await anyio.create_unix_listener(channel.address)
        result: Any = None
        failure: BaseException | None = None
        try:
            async with listener, anyio.create_task_group() as tg:
                tg.start_soon(serve_reports, listener, job.report_step or _unheard)
                try:
                    result = await anyio.to_process.run_sync(
                        _in_worker,
                        call,
                        args,
                        channel,
                        dict(job.env),
                        cancellable=True,
                        limiter=self._workers(),
                    )
                except anyio.get_cancelled_exc_class():
                    raise
                except BaseException as error:  # raised below, out of the task group
                    failure = error
                finally:
                    tg.cancel_scope.cancel()
        finally:
            with contextlib.suppress(OSError):
                os.unlink(channel.address)
        if failure is not None:
            raise failure
        return result

    def _socket_path(self) -> str:
        if self._sockets is None:
            self._sockets = tempfile.mkdtemp(prefix="hyperdeme-reports-")  # mode 0700
        return os.path.join(self._sockets, f"{next(self._calls)}.sock")

    async def aclose(self) -> None:
        if self._sockets is not None:
            shutil.rmtree(self._sockets, ignore_errors=True)
            self._sockets = None

    def _workers(self) -> anyio.CapacityLimiter:
        """The run's own limiter (made in the run's event loop, on first use)."""
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(max(1, self.slots))
        return self._limiter


def _bound(
    function: Callable[..., Any],
    style: CallStyle,
    params: dict[str, Any],
    job: Job,
    handle: TrialContext | None,
) -> tuple[Callable[..., Any], tuple[Any, ...]]:
    """The function with its keywords bound (``checkpoint=``, ``trial=``), and its
    positional arguments (the dict, and the handle when it goes second)."""
    keywords: dict[str, Any] = {}
    if style.checkpoint:
        keywords["checkpoint"] = None if job.checkpoint is None else str(job.checkpoint)
    if style.handle == "keyword":
        keywords["trial"] = handle
    call = functools.partial(function, **keywords) if keywords else function
    return call, (params, handle) if style.handle == "positional" else (params,)


def _unheard(value: object, step: int | None) -> bool:
    """The listener when the engine gives none: reports are accepted and go nowhere."""
    return False


def _broken_worker(error: BaseException) -> str:
    return (
        f"the worker process died before returning a result ({type(error).__name__}: "
        f"{error}). With function_runs_in='process' each worker imports the script that "
        "started the run again: if the script starts the optimization at module level, "
        "the worker runs it too and breaks. Put the script's top-level code under "
        "`if __name__ == '__main__':` and define the evaluation function at module level "
        "(the function itself may also have ended its process: os._exit, a crash).\n"
    )


class _Exited(Exception):
    """A function in a worker process raised SystemExit or KeyboardInterrupt."""


def _in_worker(
    function: Callable[..., Any],
    args: tuple[Any, ...],
    channel: ChannelReporter | None,
    env: dict[str, str],
) -> Any:
    """Call ``function`` in a worker process, which must survive it: a ``SystemExit`` (or
    ``KeyboardInterrupt``) would end the worker and break the next call made to it. The
    report channel (if any) is closed when the call ends: the worker serves other calls.

    The worker runs one evaluation at a time, so the evaluation's variables (its
    ``CUDA_VISIBLE_DEVICES``, ``HYPERDEME_SLOT`` ...) are set in its environment, as a
    program's would be; the next evaluation there sets its own."""
    os.environ.update(env)
    try:
        return function(*args)
    except (SystemExit, KeyboardInterrupt) as error:
        text = str(error)
        raise _Exited(f"{type(error).__name__}: {text}" if text else type(error).__name__) from None
    finally:
        if channel is not None:
            channel.close()


def takes_checkpoint(function: Callable[..., Any]) -> bool:
    """True if ``function`` has a ``checkpoint`` parameter that can be passed by keyword."""
    try:
        return call_style(function).checkpoint
    except ConfigError:  # refused by the Evaluator already
        return False
