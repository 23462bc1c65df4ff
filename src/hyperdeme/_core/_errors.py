"""hyperdeme's exceptions, and the one place task-group errors are unwrapped.

Every error hyperdeme raises for bad input or misuse derives from
:class:`HyperdemeError`, and also from the builtin it corresponds to, so
``except ValueError`` keeps working for code written against crayai.hpo::

    HyperdemeError
     ├── ConfigError (+ ValueError)        bad argument, raised before any evaluation;
     │    │                                 .name (the setting), .value (the bad value)
     │    ├── ConfigTypeError (+ TypeError) unknown keyword, wrong type
     │    └── ConditionError               bad condition or a cycle in the graph
     ├── UsageError (+ RuntimeError)       e.g. the blocking API called inside an event loop
     ├── EvaluationError (+ RuntimeError)  the run cannot go on (every first trial failed)
     ├── JournalError (+ OSError)          the journal cannot be written or is held by another run
     └── LauncherError (+ RuntimeError)    a workload manager misbehaved
          ├── TransientLauncherError       worth another attempt (node failure, busy step)
          └── AllocationEnded              the allocation ended under the run (time limit,
                                           scancel/qdel, preemption): .allocation, .state

A config error carries its subject as data: ``name`` is the setting that failed
(``"mutation_rate"``, ``"launcher_options.namespace"``, a parameter's flag
``"--lr"``, the unknown keyword), ``value`` the bad value when known; nobody
parses the message to find them. ``name`` is None when no one setting is to blame.

Advisories are :class:`HyperdemeWarning` warnings (so ``-W error`` can stop them).
Errors of the operating system (``OSError``) reach callers as themselves.
A run holds task groups; :func:`unwrap` turns a group holding one error back
into that error, so no caller ever sees a raw ``ExceptionGroup`` for it.
"""

from __future__ import annotations

from typing import Any, NoReturn

__all__ = [
    "AllocationEnded",
    "ConditionError",
    "ConfigError",
    "ConfigTypeError",
    "EvaluationError",
    "HyperdemeError",
    "HyperdemeWarning",
    "JournalError",
    "LauncherError",
    "TransientLauncherError",
    "UsageError",
    "unwrap",
]


class HyperdemeError(Exception):
    """Root of every exception hyperdeme raises on purpose."""


class ConfigError(HyperdemeError, ValueError):
    """An argument is invalid; the message names the value and what is allowed.

    ``name`` is the setting that failed (None when no one setting is to blame),
    ``value`` the bad value (None when unknown).
    """

    def __init__(self, message: str, *, name: str | None = None, value: Any = None) -> None:
        super().__init__(message)
        self.name = name
        self.value = value


class ConfigTypeError(ConfigError, TypeError):
    """An argument has the wrong type, or a keyword is unknown."""


class ConditionError(ConfigError):
    """A condition does not fit the search space, or the conditions form a cycle."""


class UsageError(HyperdemeError, RuntimeError):
    """The API was called in a way that cannot work (e.g. blocking inside an event loop)."""


class _CommandContext(HyperdemeError):
    """An error about an external command: what ran, how it ended, its last words."""

    def __init__(
        self,
        message: str,
        *,
        command: str | None = None,
        returncode: int | None = None,
        stderr_tail: str = "",
    ) -> None:
        super().__init__(message)
        self.command = command
        self.returncode = returncode
        self.stderr_tail = stderr_tail

    def __str__(self) -> str:
        """The message, then the command and its last stderr lines unless it quotes them."""
        text = super().__str__()
        if self.command and self.command not in text:
            text += f"\n  command: {self.command}"
        if self.stderr_tail and self.stderr_tail not in text:
            text += "\n  stderr: " + self.stderr_tail.replace("\n", "\n          ")
        return text


class EvaluationError(_CommandContext, RuntimeError):
    """The evaluations cannot succeed (for example, a typo in the command).

    Carries the context of the first failure that proved it.
    """

    def __init__(
        self,
        message: str,
        *,
        trial_id: int | None = None,
        command: str | None = None,
        returncode: int | None = None,
        stderr_tail: str = "",
    ) -> None:
        super().__init__(message, command=command, returncode=returncode, stderr_tail=stderr_tail)
        self.trial_id = trial_id


class LauncherError(_CommandContext, RuntimeError):
    """A workload manager command failed in a way that is not the evaluation's fault.

    The message names the command and ends with the last lines it wrote to stderr.
    """


class TransientLauncherError(LauncherError):
    """A launcher failure that another attempt may not meet (node failure, busy queue)."""


class AllocationEnded(LauncherError):
    """The allocation the evaluations ran in ended (time limit, cancelled, preempted).

    Not the parameters' fault: the attempts it ended are journalled ``interrupted``
    and run again on resume. ``allocation`` is the scheduler's job id, ``state`` its
    final state (``TIMEOUT``, ``CANCELLED``, ...), ``reason`` the words for it.
    """

    def __init__(
        self,
        message: str,
        *,
        allocation: str,
        state: str = "",
        reason: str = "",
        command: str | None = None,
        returncode: int | None = None,
        stderr_tail: str = "",
    ) -> None:
        super().__init__(message, command=command, returncode=returncode, stderr_tail=stderr_tail)
        self.allocation = allocation
        self.state = state
        self.reason = reason


class JournalError(HyperdemeError, OSError):
    """The journal cannot be written (disk full, I/O error), another driver holds it,
    or a line of it is not a record hyperdeme could have written (``line`` names it).

    ``errno`` and ``filename`` are set as for the :class:`OSError` behind it; the
    message says what happened and what to do.
    """

    def __init__(
        self,
        message: str,
        *,
        errno: int | None = None,
        filename: str | None = None,
        line: int | None = None,
    ) -> None:
        super().__init__(message)
        self.errno = errno
        self.filename = filename
        #: the journal's line that is not a record hyperdeme could have written (reading)
        self.line = line

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class HyperdemeWarning(UserWarning):
    """An advisory: the settings work, but probably not as intended."""


def unwrap(group: BaseExceptionGroup[BaseException]) -> NoReturn:
    """Re-raise the one error inside a task group's ``group`` as itself.

    Several different errors (a bug, or two things going wrong at once) stay
    grouped: nothing is hidden. Cancellations among the leaves are ignored
    when a real error is there too.
    """
    leaves = _leaves(group)
    real = [leaf for leaf in leaves if not _is_cancellation(leaf)] or leaves
    if len(real) == 1 or all(leaf is real[0] for leaf in real):
        raise real[0] from None
    # several at once (out of file descriptors, two places fail): the first deliberate
    # or operating-system error is the one to report; the others are named in a note
    for kind in (HyperdemeError, OSError):
        first = next((leaf for leaf in real if isinstance(leaf, kind)), None)
        if first is not None:
            others = "; ".join(
                f"{type(leaf).__name__}: {leaf}" for leaf in real if leaf is not first
            )
            first.add_note(f"at the same time: {others}")
            raise first from None
    raise group


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]


def _is_cancellation(error: BaseException) -> bool:
    # both backends' cancellation types, without importing either
    return type(error).__name__ in ("CancelledError", "Cancelled")
