"""``RunSpec``: everything one run needs, as the optimizer hands it to the driver."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .._engine._evaluator import Evaluator
from .._space import Params
from ..strategies import Strategy

__all__ = ["RunSpec", "SeededFactory"]

#: builds the run's strategy for a seed (the optimizer has bound the space)
SeededFactory = Callable[[int | None], Strategy]


@dataclass(frozen=True, slots=True)
class RunSpec:
    """What one run needs: the evaluator, the space, how to build the strategy, where."""

    evaluator: Evaluator
    params: Params
    #: builds the strategy for a seed (None: a fresh one)
    make_strategy: SeededFactory
    #: the optimizer's seed (0: fresh, or the recorded one when resuming)
    seed: int
    #: the experiment's name, None when not given (see ``default_name``)
    name: str | None
    default_name: str
    verbose: bool = False
    log_fn: str = ""
    #: where the ``log_fn`` files go; None: the experiment's run directory
    log_dir: Path | None = None
    #: live progress on stderr when it is a terminal
    progress: bool | float = False
    #: results told in trial-id order (the same trials whatever the timing)
    reproducible: bool = False
