"""Run each evaluation in-process: a Python function of the parameters."""

from __future__ import annotations

import functools
import inspect
import traceback
from collections.abc import Callable
from typing import Any, cast

import anyio

from .._core._errors import ConfigError
from ._base import Exit, Job, Launcher

__all__ = ["CallableLauncher", "takes_checkpoint"]


class CallableLauncher(Launcher):
    """``await f(params)`` for a coroutine function; a plain one runs in a worker thread.

    The function returns a number (the FoM) or a dict of metrics. An exception
    is a failed attempt: its traceback goes to the trial's ``stderr.log``.
    A function with a ``checkpoint`` parameter gets the attempt's checkpoint
    directory (``str``, or None without a plan): ``f(params, checkpoint=...)``.
    A thread cannot be killed: on cancellation the result is abandoned.
    """

    name = "callable"

    async def run(self, job: Job) -> Exit:
        function = job.function
        if function is None:
            raise ConfigError("the callable launcher needs an evaluation function.")
        params: dict[str, Any] = dict(job.params)
        call: Callable[[dict[str, Any]], Any] = function
        if takes_checkpoint(function):
            checkpoint = None if job.checkpoint is None else str(job.checkpoint)
            call = functools.partial(cast(Callable[..., Any], function), checkpoint=checkpoint)
        try:
            if inspect.iscoroutinefunction(function):
                result = await call(params)
            else:
                result = await anyio.to_thread.run_sync(call, params, abandon_on_cancel=True)
        except anyio.get_cancelled_exc_class():
            raise
        except Exception:
            job.stderr.write(traceback.format_exc().encode())
            return Exit(1)
        job.stdout.write(f"{result!r}\n".encode())
        return Exit(0, result=result)


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
