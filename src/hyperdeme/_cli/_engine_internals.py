"""The engine internals the command reuses: the one place that imports them.

Everything else in :mod:`hyperdeme._cli` uses the public ``hyperdeme`` API.
"""

from __future__ import annotations

from .._core._direction import Direction as Direction
from .._core._direction import best_of as best_of
from .._core._direction import is_better as is_better
from .._core._direction import pareto_front as pareto_front
from .._core._direction import rank_key as rank_key
from .._core._direction import wording as wording
from .._core._nofollow import write_new as write_new
from .._core._trial import FAILURES as FAILURES
from .._engine._command import format_value as format_value
from .._engine._command import hyperparameter_args as hyperparameter_args
from .._engine._evaluator_config import DEFAULT_RUN_PATH as DEFAULT_RUN_PATH
from .._engine._journal import JOURNAL_NAME as JOURNAL_NAME
from .._engine._journal import read_direction as read_direction
from .._engine._journal import read_objectives as read_objectives
from .._engine._journal import read_records as read_records
from .._engine._journal import read_trials as read_trials
from .._engine._lock import driver_of as driver_of
from .._engine._workspace import check_experiment_path as check_experiment_path
from ..launchers._contain import allow_subreaper as allow_subreaper

__all__ = [
    "DEFAULT_RUN_PATH",
    "FAILURES",
    "JOURNAL_NAME",
    "Direction",
    "allow_subreaper",
    "best_of",
    "check_experiment_path",
    "driver_of",
    "format_value",
    "hyperparameter_args",
    "is_better",
    "pareto_front",
    "rank_key",
    "read_direction",
    "read_objectives",
    "read_records",
    "read_trials",
    "wording",
    "write_new",
]
