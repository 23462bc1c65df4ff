"""crayai.hpo's optimizers: hyperdeme's built-in ones, printing what crayai printed.

Each is a subclass of the hyperdeme optimizer of the same name, with the same
keywords, and differs in two things only, both crayai's behaviour:

- it prints on stdout (see :mod:`._console`): the settings banner, a "Global
  Best" block per generation of genetic search, a final "Best:" block, and with
  ``verbose=True`` a line per trial and the program's output;
- its ``log_fn`` files go to the current directory, as crayai's did, unless the
  evaluator was given a ``run_path`` (then to the experiment's directory under
  it, where hyperdeme's own optimizers always put them).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from .._core._settings import Unset
from .._driver._builtin import GeneticOptimizer as _Genetic
from .._driver._builtin import GridOptimizer as _Grid
from .._driver._builtin import PBTOptimizer as _PBT
from .._driver._builtin import RandomOptimizer as _Random
from .._driver._builtin import _inherits
from .._driver._experiment import Emit
from .._driver._optimizer import Optimizer
from .._driver._result import Result
from .._space import Params
from ._console import Console
from ._generations import Generations

__all__ = ["GeneticOptimizer", "GridOptimizer", "PBTOptimizer", "RandomOptimizer"]


class _Printing(Optimizer):
    """What the hpo optimizers share: crayai's console output and log_fn place."""

    def _log_directory(self) -> Path | None:
        run_path = self.evaluator.config.run_path if self.evaluator is not None else ""
        if isinstance(run_path, Unset) or not run_path:
            return Path.cwd()
        return None

    def _title(self) -> str:
        return type(self).__name__.removesuffix("Optimizer") + " Optimizer"

    def _banner_settings(self) -> dict[str, Any]:
        config = getattr(self, "config", None)
        return dict(vars(config)) if config is not None else {}

    def _generations(self) -> Generations | None:
        return None

    async def run(
        self,
        params: Params,
        emit: Emit | None = None,
        *,
        resume: bool = False,
        progress: bool | float = False,
    ) -> Result:
        """As :meth:`hyperdeme.Optimizer.run`, printing crayai's output on stdout."""
        evaluator = self.evaluator
        if evaluator is None or not isinstance(params, Params):
            return await super().run(params, emit, resume=resume, progress=progress)  # refused
        console = Console(
            sys.stdout,
            verbose=self.verbose or evaluator.config.verbose,
            generations=self._generations(),
            direction=evaluator.config.direction,
        )
        console.banner(self._title(), self._banner_settings(), evaluator)

        async def on_trial(trial: Any) -> None:
            result = self.result
            if result is not None:
                console.seed(result.trials[:-1])  # a resumed run's finished trials
                directory = result.journal_path.parent if result.journal_path else None
                await console.trial(trial, directory)
            if emit is not None:
                await emit(trial)

        result = await super().run(params, on_trial, resume=resume, progress=progress)
        console.seed(result.trials)  # nothing ran: count what a resumed run had
        console.finish(result.best_trial)
        return result


class RandomOptimizer(_Printing, _Random):
    __doc__ = _Random.__doc__


class GridOptimizer(_Printing, _Grid):
    __doc__ = _Grid.__doc__

    def _banner_settings(self) -> dict[str, Any]:
        return {**super()._banner_settings(), "chunk_size": self.chunk_size}


class GeneticOptimizer(_Printing, _Genetic):
    __doc__ = _Genetic.__doc__

    def _banner_settings(self) -> dict[str, Any]:
        # crayai's PBT: the evaluator decides whether children continue checkpoints
        return {**super()._banner_settings(), "inherit_checkpoints": _inherits(self.evaluator)}

    def _generations(self) -> Generations:
        config = self.config
        return Generations(
            num_demes=config.num_demes,
            pop_size=config.pop_size,
            generational=config.mode == "generational",
            budget=config.budget,
        )


class PBTOptimizer(_Printing, _PBT):
    __doc__ = _PBT.__doc__
