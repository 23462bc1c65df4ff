"""Run each evaluation in-process: a Python function of the parameters."""

from __future__ import annotations

import inspect
import traceback
from typing import Any

import anyio

from .._core._errors import ConfigError
from ._base import Exit, Job, Launcher

__all__ = ["CallableLauncher"]


class CallableLauncher(Launcher):
    """``await f(params)`` for a coroutine function; a plain one runs in a worker thread.

    The function returns a number (the FoM) or a dict of metrics. An exception
    is a failed attempt (exit code 1): its traceback goes to the trial's
    ``stderr.log``. So is returning ``None`` (a forgotten ``return``), with a
    message saying what to return. A thread cannot be killed: on cancellation
    the result is abandoned.
    """

    name = "callable"

    async def run(self, job: Job) -> Exit:
        function = job.function
        if function is None:
            raise ConfigError("the callable launcher needs an evaluation function.")
        params: dict[str, Any] = dict(job.params)
        try:
            if inspect.iscoroutinefunction(function):
                result = await function(params)
            else:
                result = await anyio.to_thread.run_sync(function, params, abandon_on_cancel=True)
        except anyio.get_cancelled_exc_class():
            raise
        except Exception:
            job.stderr.write(traceback.format_exc().encode())
            return Exit(1)
        job.stdout.write(f"{result!r}\n".encode())
        if result is None:
            name = getattr(function, "__qualname__", repr(function))
            job.stderr.write(
                f"{name} returned None; an evaluation function must return a number (the "
                "figure of merit) or a dict of metrics such as {'loss': 0.25}. Is a return "
                "statement missing?\n".encode()
            )
            return Exit(1)
        return Exit(0, result=result)
