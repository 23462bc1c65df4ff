"""hyperdeme's exceptions.

Every error hyperdeme raises on purpose derives from :class:`HyperdemeError`,
and also from the builtin it corresponds to, so ``except ValueError`` keeps
working for code written against crayai.hpo::

    HyperdemeError
     ├── ConfigTypeError (+ TypeError)    unknown keyword, wrong type
     ├── ConfigError (+ ValueError)       bad argument, raised before any evaluation
     │    └── ConditionError              bad condition or a cycle in the graph
     ├── EvaluationError (+ RuntimeError) the run cannot go on (every first trial failed)
     ├── UsageError (+ RuntimeError)      e.g. the blocking API called inside an event loop
     └── LauncherError (+ RuntimeError)   a workload manager misbehaved
          └── TransientLauncherError      worth another attempt (node failure, busy step)
"""

from __future__ import annotations

from typing import NoReturn

__all__ = [
    "ConditionError",
    "ConfigError",
    "ConfigTypeError",
    "EvaluationError",
    "HyperdemeError",
    "LauncherError",
    "TransientLauncherError",
    "UsageError",
]


class HyperdemeError(Exception):
    """Root of every exception hyperdeme raises on purpose."""


class ConfigError(HyperdemeError, ValueError):
    """An argument is invalid; the message names the value and what is allowed."""


class ConditionError(ConfigError):
    """A condition does not fit the search space, or the conditions form a cycle."""


class EvaluationError(HyperdemeError, RuntimeError):
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
        super().__init__(message)
        self.trial_id = trial_id
        self.command = command
        self.returncode = returncode
        self.stderr_tail = stderr_tail


class LauncherError(HyperdemeError, RuntimeError):
    """A workload manager command failed in a way that is not the evaluation's fault."""

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


class TransientLauncherError(LauncherError):
    """A launcher failure that another attempt may not meet (node failure, busy queue)."""


class ConfigTypeError(HyperdemeError, TypeError):
    """An argument has the wrong type, or a keyword is unknown."""


class UsageError(HyperdemeError, RuntimeError):
    """The API was called in a way that cannot work (e.g. blocking inside an event loop)."""


def raise_single(group: BaseExceptionGroup[BaseException]) -> NoReturn:
    """Re-raise a task group's lone deliberate error (a HyperdemeError, Ctrl-C) as
    itself; anything else is a bug and stays grouped."""
    leaves = _leaves(group)
    if len(leaves) == 1 and isinstance(leaves[0], HyperdemeError | KeyboardInterrupt):
        raise leaves[0] from None
    raise group


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]
