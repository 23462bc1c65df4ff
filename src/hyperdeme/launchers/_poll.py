"""Following a submitted job by asking its workload manager, every few seconds.

The PBS and Kubernetes launchers poll (``qstat``, ``kubectl get job``). A
server may be briefly unreachable, so :func:`query` asks again (tenacity)
when one status query fails, up to :data:`POLL_FAILURES` times in a row,
``interval`` seconds apart; then the attempt ends with the last error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_fixed,
)

from .._core._checks import Check, number
from .._core._errors import LauncherError
from .._core._logging import get_logger

__all__ = ["DEFAULT_POLL_INTERVAL", "POLL_FAILURES", "QueryFailed", "poll_seconds", "query"]

log = get_logger("hyperdeme.launchers")

T = TypeVar("T")

DEFAULT_POLL_INTERVAL = 2.0
#: failed status queries in a row before giving up
POLL_FAILURES = 5


#: the check of ``launcher_options["poll_interval"]``: seconds between status queries
poll_seconds: Check = number(0.0, above=True, unit="seconds")


class QueryFailed(Exception):
    """A status query failed in a way worth asking again; carries the error to raise
    if it keeps failing."""

    def __init__(self, error: LauncherError) -> None:
        super().__init__(str(error))
        self.error = error


async def query(ask: Callable[[], Awaitable[T]], *, interval: float, job: str) -> T:
    """``await ask()``, asked again after ``interval`` seconds while it raises
    :class:`QueryFailed`, at most :data:`POLL_FAILURES` times in all."""

    def log_failure(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        log.warning("launcher.poll_failed", job=job, attempt=state.attempt_number, error=str(error))

    retrying = AsyncRetrying(
        sleep=anyio.sleep,
        stop=stop_after_attempt(POLL_FAILURES),
        wait=wait_fixed(interval),
        retry=retry_if_exception_type(QueryFailed),
        before_sleep=log_failure,
        reraise=True,
    )
    try:
        async for attempt in retrying:
            with attempt:
                return await ask()
    except QueryFailed as failed:
        raise failed.error from None
    raise AssertionError("tenacity neither returned nor raised")  # pragma: no cover
