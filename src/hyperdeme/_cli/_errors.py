"""The command's errors, each carrying its exit code.

::

    CommandError          exit code set per error
     ├── UsageProblem     2: bad usage or configuration (ExperimentError too)
     │    └── ExperimentError   names the TOML file and the key
     └── Interrupted      130 (Ctrl-C) or 143 (SIGTERM): stopped, says how to continue
"""

from __future__ import annotations

from pathlib import Path

import hyperdeme

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "CommandError",
    "ExperimentError",
    "Interrupted",
    "UsageProblem",
    "culprit",
]

EXIT_OK = 0
#: the run (or the command's work) failed
EXIT_FAILED = 1
#: bad usage or configuration
EXIT_USAGE = 2


class CommandError(Exception):
    """A failure the command reports as one message and an exit code."""

    exit_code = EXIT_FAILED


class UsageProblem(CommandError):
    """The command line, an input file or the installation does not fit."""

    exit_code = EXIT_USAGE


class Interrupted(CommandError):
    """The run was stopped by a signal (``exit_code`` 128 + its number); not an error."""

    def __init__(self, message: str, *, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class ExperimentError(UsageProblem):
    """A mistake in an experiment file: ``FILE: key 'table.key': what is wrong``."""

    def __init__(self, path: Path, key: str, problem: str) -> None:
        super().__init__(f"{path}: key {key!r}: {problem}")
        self.path = path
        self.key = key
        self.problem = problem


#: table -> its library object's arguments that the file gives elsewhere, and where
_ELSEWHERE = {
    "evaluator": {"cmd": "command"},
    "optimizer": {"name": "name", "evaluator": "command"},
}


def culprit(table: str, error: Exception) -> str:
    """The file's key a library error is about: the setting it names (its ``.name``),
    under ``table``; ``table`` itself when it names none."""
    name = error.name if isinstance(error, hyperdeme.ConfigError) else None
    if name is None:
        return table
    return _ELSEWHERE.get(table, {}).get(name, f"{table}.{name}")
