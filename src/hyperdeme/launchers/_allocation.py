"""An allocation as a resource with a life: asked for, pending, running, ended.

Launcher-neutral: a launcher that runs evaluations inside an allocation (a
Slurm job made with ``salloc`` or the user's ``sbatch``; a PBS job) reads its
scheduler's words into an :class:`AllocationState` and leaves the policy to
this module, so it is the same for every scheduler:

* **Pending.** While the request waits, its reason is logged
  (``allocation.pending``) and shown in the progress line (``pending:
  Resources``) whenever it changes (:func:`report_status`). A reason that can
  never clear (the launcher says which) fails the run at once with the
  scheduler's words; ``alloc_wait`` seconds (default unlimited) bound the wait
  (:func:`never_starts`).
* **Ended under the run** (time limit, ``scancel``/``qdel``, preemption). An
  allocation hyperdeme made itself is renewed with the same request, at most
  ``renewals`` times (:class:`Renewals`, logged ``allocation.renewed``); the
  attempts the end cut short run again in the new one (they raise
  :class:`~hyperdeme.TransientLauncherError`). Otherwise (the user's
  allocation, or no renewal left) the launcher raises
  :class:`~hyperdeme.AllocationEnded` (:func:`ended_error`): the engine
  journals the attempt ``interrupted`` (run again on resume, never told to the
  strategy as a result), starts no new evaluation, and the run stops with that
  error, which names the job, why it ended and how to continue.

A launcher records which allocation ran each attempt in the :class:`Exit`'s
``info`` (``{"allocation": "<id>"}``), which the engine journals with the trial.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal

from .._core._errors import AllocationEnded, LauncherError
from .._core._logging import get_logger

__all__ = [
    "DEFAULT_RENEWALS",
    "AllocationState",
    "Renewals",
    "ended_error",
    "never_starts",
    "report_status",
    "status_listener",
]

log = get_logger("hyperdeme.launchers.allocation")

#: renewals of an allocation hyperdeme made itself, unless ``launcher_options`` say
DEFAULT_RENEWALS = 3

Phase = Literal["pending", "running", "ended"]
StatusListener = Callable[[str | None], None]

_listener: ContextVar[StatusListener | None] = ContextVar("allocation_status", default=None)


@dataclass(frozen=True, slots=True)
class AllocationState:
    """What the scheduler says of one allocation, in its own words.

    ``state`` is the scheduler's (``RUNNING``, ``PENDING``, ``TIMEOUT``; ``GONE``
    when it no longer knows the job), ``reason`` its reason (``Resources``,
    ``TimeLimit``), ``phase`` what it means here, ``why`` a few plain words on
    how it ended (``its time limit ran out``).
    """

    id: str
    state: str
    phase: Phase
    reason: str = ""
    why: str = ""


class Renewals:
    """How many more times an allocation hyperdeme made may be renewed."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    @property
    def left(self) -> bool:
        return self.used < self.limit

    def take(self) -> int:
        """Count one renewal; its number (1 for the first)."""
        self.used += 1
        return self.used


@contextmanager
def status_listener(listener: StatusListener | None) -> Iterator[None]:
    """Send :func:`report_status` texts to ``listener`` (the progress line) meanwhile."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


def report_status(text: str | None) -> None:
    """Show ``text`` (``pending: Resources``) beside the progress line; None clears it."""
    listener = _listener.get()
    if listener is not None:
        listener(text)


def ended_error(
    state: AllocationState,
    *,
    scheduler: str,
    owned: bool,
    renewals: Renewals | None = None,
    stderr_tail: str = "",
    note: str = "",
) -> AllocationEnded:
    """The error that stops a run whose allocation ended: which job, why, how to go on
    (``note``: what else to say, such as why a renewal failed)."""
    why = state.why or f"state {state.state}"
    if not owned:
        whose = "the allocation this run was started in"
    elif renewals is not None and renewals.limit:
        whose = f"hyperdeme's allocation, after {renewals.used} of {renewals.limit} renewals"
    else:
        whose = "hyperdeme's allocation (renewals=0)"
    message = (
        f"{scheduler} job {state.id} ({whose}) ended: {why} ({state.state}"
        f"{f', {state.reason}' if state.reason and state.reason != 'None' else ''})"
        f"{f'; {note}' if note else ''}. The evaluations it cut short are journalled as "
        "interrupted and no new one was started. To continue, run the experiment again "
        "with resume=True (`hyperdeme run --resume`), for example from a new allocation or "
        "batch job; interrupted trials run again first."
    )
    return AllocationEnded(
        message,
        allocation=state.id,
        state=state.state,
        reason=why,
        stderr_tail=stderr_tail,
    )


def never_starts(
    *, scheduler: str, job: str, reason: str, waited: float | None, command: str
) -> LauncherError:
    """The error for a request that will not start: a reason that never clears, or
    ``alloc_wait`` seconds spent waiting (``waited``)."""
    if waited is None:
        message = (
            f"{scheduler} will never start job {job}: it is pending with reason {reason!r}, "
            "which does not clear by waiting (the request asks for more than the "
            "partition or the cluster has, or its nodes are down). Ask for less (nodes, "
            "alloc_timeout, alloc_args) or another partition."
        )
    else:
        message = (
            f"{scheduler} job {job} was still pending after alloc_wait={waited:g} s "
            f"(reason {reason or 'unknown'!r}); it was withdrawn. Raise alloc_wait "
            "(launcher_options) or ask for fewer nodes."
        )
    log.error("allocation.never_started", job=job, reason=reason, waited=waited)
    return LauncherError(message, command=command)
