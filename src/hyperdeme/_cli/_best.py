"""``hyperdeme best``: the best trial's parameters as flags, pasteable after the command."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from ._engine_internals import hyperparameter_args
from ._errors import CommandError
from ._journal_view import RunView

__all__ = ["best_flags", "flags"]


def flags(params: Mapping[str, Any]) -> str:
    """``params`` exactly as the engine puts them on the command line, shell-quoted."""
    return " ".join(shlex.quote(arg) for arg in hyperparameter_args(params))


def best_flags(view: RunView) -> str:
    """The flags of the run's best trial; CommandError when no trial succeeded yet."""
    best = view.best
    if best is None:
        raise CommandError(
            f"no trial of {view.directory} has succeeded yet ({len(view.trials)} finished, "
            f"{len(view.running)} running), so there are no best parameters."
        )
    return flags(best.params)
