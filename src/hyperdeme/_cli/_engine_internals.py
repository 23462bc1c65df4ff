"""The engine internals the command reuses: the one place that imports them.

Everything else in :mod:`hyperdeme._cli` uses the public ``hyperdeme`` API.
"""

from __future__ import annotations

from .._core._trial import FAILURES as FAILURES
from .._engine._command import format_value as format_value
from .._engine._command import hyperparameter_args as hyperparameter_args
from .._engine._evaluator_config import DEFAULT_RUN_PATH as DEFAULT_RUN_PATH
from .._engine._journal import JOURNAL_NAME as JOURNAL_NAME
from .._engine._journal import read_trials as read_trials
from .._engine._lock import driver_of as driver_of

__all__ = [
    "DEFAULT_RUN_PATH",
    "FAILURES",
    "JOURNAL_NAME",
    "driver_of",
    "format_value",
    "hyperparameter_args",
    "read_trials",
]
