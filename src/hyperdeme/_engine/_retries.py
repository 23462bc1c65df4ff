"""When a trial's failed attempt is tried again, and after how long (tenacity).

Failed, no-metric and timed-out attempts are retried up to ``num_retries``
times; a :class:`~hyperdeme.TransientLauncherError` (node failure, step
creation refused) is retried on its own budget of :data:`MAX_TRANSIENT_RETRIES`,
whatever ``num_retries`` says, and so is an attempt the machine could not run
(``interrupted``: file descriptors, memory, disk; see :mod:`._machine`), on a
budget of :data:`MAX_MACHINE_RETRIES`. The pause before attempt ``n + 1`` is
``retry_delay * 2**(n - 1)`` seconds, at most :data:`MAX_DELAY`; after the
machine's failure at least ``MACHINE_DELAY * 2**(n - 1)``, so that what the
machine lacked (descriptors held by other trials, memory) has time to come
back. A cancelled attempt is never retried: cancellation passes straight through.

The policy is tenacity's ``AsyncRetrying`` (as the status polls of
:mod:`hyperdeme.launchers._poll` are), built once per run. A trial enters it
only after its first attempt failed: most trials succeed at once, and the
in-process hot path then pays neither tenacity's import (about 60 ms) nor its
per-call bookkeeping (see the guide's "Retries").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import anyio

from .._core._logging import get_logger
from .._core._trial import Status

if TYPE_CHECKING:
    from tenacity import RetryCallState
    from tenacity.asyncio import AsyncRetrying

__all__ = [
    "MACHINE_DELAY",
    "MAX_DELAY",
    "MAX_MACHINE_RETRIES",
    "MAX_TRANSIENT_RETRIES",
    "RETRIED",
    "RetryPolicy",
]

log = get_logger("hyperdeme.trial")

#: attempts a launcher's passing failures (node failure, busy queue) may take
MAX_TRANSIENT_RETRIES = 5
#: attempts the machine's failures (EMFILE, ENOSPC, fork failing) may take
MAX_MACHINE_RETRIES = 5
#: the first pause after the machine's failure, in seconds (then doubled each time)
MACHINE_DELAY = 0.2
#: the longest pause between two attempts, in seconds
MAX_DELAY = 60.0
#: attempts ending so are tried again while retries are left
RETRIED = (Status.FAILED, Status.NO_METRIC, Status.TIMEOUT, Status.INTERRUPTED)


class Ending(Protocol):
    """How an attempt ended, as much as the policy needs to know."""

    @property
    def status(self) -> Status: ...

    @property
    def transient(self) -> bool: ...

    @property
    def error(self) -> str: ...


E = TypeVar("E", bound=Ending)


class RetryPolicy(Generic[E]):
    """A run's retry policy: :meth:`retry` tries a trial again after a failed first attempt."""

    def __init__(
        self,
        *,
        num_retries: int,
        retry_delay: float,
        max_transient: int = MAX_TRANSIENT_RETRIES,
        max_machine: int = MAX_MACHINE_RETRIES,
        machine_delay: float | None = None,
        max_delay: float = MAX_DELAY,
    ) -> None:
        self.num_retries = num_retries
        self.retry_delay = retry_delay
        self.max_transient = max_transient
        self.max_machine = max_machine
        self.machine_delay = MACHINE_DELAY if machine_delay is None else machine_delay
        self.max_delay = max_delay
        # tenacity is imported and the policy built now, as the run starts, not at its
        # first retry: by then the machine may be out of file descriptors (an import
        # opens files), and the retry meant to ride out the shortage would crash the run
        self._retrying  # noqa: B018

    async def retry(self, first: E, again: Callable[[], Awaitable[E]]) -> E:
        """Run ``again()`` while the last attempt (``first`` to begin with) should be
        retried and the budget lasts; the last attempt's ending."""
        if not _retried(first):
            return first
        replay = [first]  # tenacity's first "attempt" is the one already made

        async def attempt() -> E:
            return replay.pop() if replay else await again()

        budget = _Budget(
            num_retries=self.num_retries,
            max_transient=self.max_transient,
            max_machine=self.max_machine,
        )
        retrying = self._retrying.copy(stop=budget)
        ending: E = await retrying(attempt)
        return ending

    @cached_property
    def _retrying(self) -> AsyncRetrying:
        """Everything but the per-trial budget, built once, when the run starts."""
        from tenacity import retry_if_result, wait_exponential
        from tenacity.asyncio import AsyncRetrying

        usual = wait_exponential(multiplier=self.retry_delay, max=self.max_delay)
        machine = wait_exponential(
            multiplier=max(self.retry_delay, self.machine_delay), max=self.max_delay
        )

        def wait(state: RetryCallState) -> float:
            shortage = _ending(state).status is Status.INTERRUPTED
            return float(machine(state) if shortage else usual(state))

        return AsyncRetrying(
            sleep=anyio.sleep,
            retry=retry_if_result(_retried),  # an exception (cancellation) is never retried
            wait=wait,
            before_sleep=_log_retry,
            retry_error_callback=_last_ending,  # out of budget: the last attempt stands
        )


class _Budget:
    """A trial's three retry budgets, counted as its attempts fail (tenacity's ``stop``)."""

    def __init__(self, *, num_retries: int, max_transient: int, max_machine: int) -> None:
        self.num_retries = num_retries
        self.max_transient = max_transient
        self.max_machine = max_machine
        self.failures = 0
        self.transient = 0
        self.machine = 0

    def __call__(self, state: RetryCallState) -> bool:
        """Count the failed attempt that just ended; True when no retry is left."""
        ending = _ending(state)
        if ending.status is Status.INTERRUPTED:
            self.machine += 1
        elif ending.transient:
            self.transient += 1
        else:
            self.failures += 1
        return (
            self.failures > self.num_retries
            or self.transient > self.max_transient
            or self.machine > self.max_machine
        )


def _ending(state: RetryCallState) -> Any:
    assert state.outcome is not None  # tenacity asks only after an attempt
    return state.outcome.result()


def _retried(ending: Ending) -> bool:
    """Whether to try again: a failure, or the machine's passing shortage (``interrupted``
    and ``transient``); an allocation that ended (``interrupted``, not transient) is
    tried again only on resume, in a new allocation."""
    if ending.status is Status.INTERRUPTED:
        return ending.transient
    return ending.status in RETRIED


def _last_ending(state: RetryCallState) -> Any:
    return _ending(state)


def _log_retry(state: RetryCallState) -> None:
    reason = _ending(state).error[-300:]
    delay = float(state.upcoming_sleep)
    log.info("trial.retry", attempt=state.attempt_number, delay=delay, reason=reason)
