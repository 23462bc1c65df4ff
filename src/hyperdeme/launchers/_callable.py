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
"""

from __future__ import annotations

import functools
import inspect
import os
import traceback
from collections.abc import Callable
from typing import Any, Literal, cast

import anyio

from .._core._errors import ConfigError
from ._base import Exit, Job, Launcher

__all__ = ["CallableLauncher", "RunsIn", "takes_checkpoint"]

RunsIn = Literal["thread", "process"]


class CallableLauncher(Launcher):
    """Calls ``job.function(params)``; see the module docstring.

    The function returns a number (the FoM) or a dict of metrics. An exception
    is a failed attempt (exit code 1): its traceback goes to the trial's
    ``stderr.log``. So is returning ``None`` (a forgotten ``return``), with a
    message saying what to return. A function with a ``checkpoint`` parameter
    gets the attempt's checkpoint directory (``str``, or None without a plan):
    ``f(params, checkpoint=...)``.
    """

    name = "callable"

    def __init__(self, *, runs_in: RunsIn = "thread", slots: int = 1) -> None:
        self.runs_in = runs_in
        #: as many worker threads (or processes) as the run has slots: its own, so that
        #: 64 slots run 64 at a time and the application's ``to_thread`` calls never wait
        self.slots = slots
        self._limiter: anyio.CapacityLimiter | None = None
        #: per function: (is a coroutine function, takes a checkpoint), asked once
        self._kinds: dict[Callable[..., Any], tuple[bool, bool]] = {}

    async def run(self, job: Job) -> Exit:
        function = job.function
        if function is None:
            raise ConfigError("the callable launcher needs an evaluation function.", name="cmd")
        params: dict[str, Any] = dict(job.params)
        kind = self._kinds.get(function)
        if kind is None:
            kind = self._kinds[function] = (
                inspect.iscoroutinefunction(function),
                takes_checkpoint(function),
            )
        coroutine, checkpointed = kind
        call: Callable[[dict[str, Any]], Any] = function
        if checkpointed:
            checkpoint = None if job.checkpoint is None else str(job.checkpoint)
            call = functools.partial(cast(Callable[..., Any], function), checkpoint=checkpoint)
        try:
            if coroutine:
                result = await call(params)
            elif self.runs_in == "process":
                result = await anyio.to_process.run_sync(
                    _in_worker, call, params, dict(job.env), cancellable=True,
                    limiter=self._workers(),
                )  # fmt: skip
            else:
                result = await anyio.to_thread.run_sync(
                    call, params, abandon_on_cancel=True, limiter=self._workers()
                )
        except anyio.get_cancelled_exc_class():
            raise
        except anyio.BrokenWorkerProcess as error:
            job.stderr.write(_broken_worker(error).encode())
            return Exit(1)
        except _Exited as error:  # raised in a worker process: its own words, as in a thread
            job.stderr.write(f"{error}\n".encode())
            return Exit(1)
        except KeyboardInterrupt:
            if coroutine:
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

    def _workers(self) -> anyio.CapacityLimiter:
        """The run's own limiter (made in the run's event loop, on first use)."""
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(max(1, self.slots))
        return self._limiter


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
    function: Callable[[dict[str, Any]], Any], params: dict[str, Any], env: dict[str, str]
) -> Any:
    """Call ``function`` in a worker process, which must survive it: a ``SystemExit`` (or
    ``KeyboardInterrupt``) would end the worker and break the next call made to it.

    The worker runs one evaluation at a time, so the evaluation's variables (its
    ``CUDA_VISIBLE_DEVICES``, ``HYPERDEME_SLOT`` ...) are set in its environment, as a
    program's would be; the next evaluation there sets its own."""
    os.environ.update(env)
    try:
        return function(params)
    except (SystemExit, KeyboardInterrupt) as error:
        text = str(error)
        raise _Exited(f"{type(error).__name__}: {text}" if text else type(error).__name__) from None


def takes_checkpoint(function: Callable[..., Any]) -> bool:
    """True if ``function`` has a ``checkpoint`` parameter that can be passed by keyword."""
    try:
        parameter = inspect.signature(function).parameters.get("checkpoint")
    except (TypeError, ValueError):  # a builtin without a signature
        return False
    return parameter is not None and parameter.kind in (
        parameter.POSITIONAL_OR_KEYWORD,
        parameter.KEYWORD_ONLY,
    )
