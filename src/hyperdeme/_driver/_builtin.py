"""The built-in optimizers: random, grid and genetic search, crayai.hpo's names and defaults.

Each takes the evaluator, then typed keyword-only settings. The defaults of a
strategy's settings are its config's (``GeneticConfig()`` ...), referenced
here, not repeated.
"""

from __future__ import annotations

from collections.abc import Sequence

from .._core._checks import count
from .._core._config import UNSET, Unset, checked_keywords
from .._engine._evaluator import Evaluator
from .._space import Params
from ..strategies import (
    ConcurrencyLimiter,
    GeneticConfig,
    GeneticSearch,
    GridConfig,
    GridSearch,
    RandomConfig,
    RandomSearch,
    Strategy,
)
from ..strategies._genetic import Mode
from ._optimizer import Backend, Optimizer

__all__ = ["GeneticOptimizer", "GridOptimizer", "RandomOptimizer"]

_RANDOM = RandomConfig()
_GRID = GridConfig()
_GENETIC = GeneticConfig()


class RandomOptimizer(Optimizer):
    """``num_iters`` random points; the first is the defaults when all parameters have one.

    ``seed=0`` draws a fresh seed (``result.seed`` tells which, for replay).
    """

    config: RandomConfig

    @checked_keywords
    def __init__(
        self,
        evaluator: Evaluator | None = None,
        *,
        num_iters: int = _RANDOM.num_iters,
        seed: int | None = 0,
        name: str = "",
        verbose: bool | int = False,
        log_fn: str | None = "",
        backend: Backend = "asyncio",
    ) -> None:
        super().__init__(
            evaluator,
            RandomConfig(num_iters=num_iters),
            seed=seed,
            name=name,
            verbose=verbose,
            log_fn=log_fn,
            backend=backend,
        )

    def make_strategy(self, params: Params) -> Strategy:
        return RandomSearch(params, self.config, seed=self.seed or None)


class GridOptimizer(Optimizer):
    """``grid_size`` points per range, the full product (walked lazily), plus the baseline.

    At most ``chunk_size`` points are evaluated at once (crayai's name).
    """

    config: GridConfig

    @checked_keywords
    def __init__(
        self,
        evaluator: Evaluator | None = None,
        *,
        grid_size: int = _GRID.grid_size,
        chunk_size: int = 50,
        name: str = "",
        verbose: bool | int = False,
        log_fn: str | None = "",
        backend: Backend = "asyncio",
    ) -> None:
        super().__init__(
            evaluator,
            GridConfig(grid_size=grid_size),
            name=name,
            verbose=verbose,
            log_fn=log_fn,
            backend=backend,
        )
        self.chunk_size: int = count(1)("chunk_size", chunk_size)

    def __repr__(self) -> str:
        return super().__repr__()[:-1] + f", chunk_size={self.chunk_size})"

    def make_strategy(self, params: Params) -> Strategy:
        grid = GridSearch(params, self.config)
        return ConcurrencyLimiter(grid, max_concurrent=self.chunk_size)


class GeneticOptimizer(Optimizer):
    """Multi-deme genetic search; ``mode="steady"`` feeds each result to the next child.

    The settings are :class:`~hyperdeme.strategies.GeneticConfig`'s.
    ``max_evals=N`` ("I have N evaluations") stops the run after ``N`` and
    chooses ``num_demes``, ``pop_size`` and ``generations`` for that budget,
    each unless given; without it, those not given are crayai's (4, 64, 1000).
    """

    config: GeneticConfig

    @checked_keywords
    def __init__(
        self,
        evaluator: Evaluator | None = None,
        *,
        generations: int | Unset = UNSET,
        num_demes: int | Unset = UNSET,
        pop_size: int | Unset = UNSET,
        mutation_rate: float = _GENETIC.mutation_rate,
        crossover_rate: float = _GENETIC.crossover_rate,
        migration_interval: int = _GENETIC.migration_interval,
        mul_mutation_bounds: Sequence[float] = _GENETIC.mul_mutation_bounds,
        add_mutation_bounds: Sequence[float] = _GENETIC.add_mutation_bounds,
        mode: Mode = _GENETIC.mode,
        max_evals: int | None = _GENETIC.max_evals,
        seed: int | None = 0,
        name: str = "",
        verbose: bool | int = False,
        log_fn: str | None = "",
        backend: Backend = "asyncio",
    ) -> None:
        given = {"generations": generations, "num_demes": num_demes, "pop_size": pop_size}
        sizes: dict[str, int] = {k: v for k, v in given.items() if not isinstance(v, Unset)}
        super().__init__(
            evaluator,
            GeneticConfig(
                **sizes,
                mutation_rate=mutation_rate,
                crossover_rate=crossover_rate,
                migration_interval=migration_interval,
                mul_mutation_bounds=mul_mutation_bounds,  # type: ignore[arg-type]
                add_mutation_bounds=add_mutation_bounds,  # type: ignore[arg-type]
                mode=mode,
                max_evals=max_evals,
            ),
            seed=seed,
            name=name,
            verbose=verbose,
            log_fn=log_fn,
            backend=backend,
        )

    def make_strategy(self, params: Params) -> Strategy:
        return GeneticSearch(params, self.config, seed=self.seed or None)
