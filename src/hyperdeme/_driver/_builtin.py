"""The built-in optimizers: random, grid and genetic search, crayai.hpo's names and
defaults, and population-based training.

Each takes the evaluator, then typed keyword-only settings, kept as the
strategy's config in ``opt.config``; its ``strategy`` factory builds the
strategy from that config. The defaults of a strategy's settings are its
config's (``GeneticConfig()`` ...), referenced here, not repeated.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence

from .._core._checks import count
from .._core._errors import ConfigError, HyperdemeWarning
from .._core._settings import UNSET, Config, Unset, checked_keywords
from .._engine._command import CHECKPOINT_TOKEN
from .._engine._evaluator import Evaluator
from .._space import Params
from ..strategies import (
    ConcurrencyLimiter,
    GeneticConfig,
    GeneticSearch,
    GridConfig,
    GridSearch,
    PBTConfig,
    PBTSearch,
    RandomConfig,
    RandomSearch,
    Strategy,
)
from ..strategies._genetic import Mode
from ..strategies._pbt import PBTMode
from ._optimizer import Backend, Optimizer

__all__ = ["GeneticOptimizer", "GridOptimizer", "PBTOptimizer", "RandomOptimizer"]

_RANDOM = RandomConfig()
_GRID = GridConfig()
_GENETIC = GeneticConfig()
_PBT = PBTConfig()


def _has_token(evaluator: Evaluator) -> bool:
    """Can the evaluations resume a checkpoint: ``@checkpoint`` in the command, or a
    function taking ``checkpoint`` or a trial handle (its ``checkpoint_dir``)."""
    if evaluator.is_callable:
        return evaluator.takes_checkpoint
    return CHECKPOINT_TOKEN in evaluator.cmd


def _inherits(evaluator: Evaluator | None) -> bool:
    """crayai's PBT switch: ``checkpoint`` set and ``@checkpoint`` in the command."""
    return evaluator is not None and bool(evaluator.config.checkpoint) and _has_token(evaluator)


class _Configured(Optimizer):
    """A built-in optimizer: its settings are its strategy's config, shown in its repr."""

    config: Config

    def _settings(self) -> list[str]:
        return [f"{key}={value!r}" for key, value in vars(self.config).items()]


class RandomOptimizer(_Configured):
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
        reproducible: bool = False,
    ) -> None:
        self.config = RandomConfig(num_iters=num_iters)
        super().__init__(
            evaluator,
            strategy=self._search,
            seed=seed,
            name=name,
            verbose=verbose,
            log_fn=log_fn,
            backend=backend,
            reproducible=reproducible,
        )

    def _search(self, params: Params, *, seed: int | None) -> Strategy:
        return RandomSearch(params, self.config, seed=seed)


class GridOptimizer(_Configured):
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
        reproducible: bool = False,
    ) -> None:
        self.config = GridConfig(grid_size=grid_size)
        super().__init__(
            evaluator,
            strategy=self._search,
            name=name,
            verbose=verbose,
            log_fn=log_fn,
            backend=backend,
            reproducible=reproducible,
        )
        self.chunk_size: int = count(1)("chunk_size", chunk_size)

    def _settings(self) -> list[str]:
        return [*super()._settings(), f"chunk_size={self.chunk_size}"]

    def _search(self, params: Params, *, seed: int | None) -> Strategy:
        grid = GridSearch(params, self.config)
        return ConcurrencyLimiter(grid, max_concurrent=self.chunk_size)


class GeneticOptimizer(_Configured):
    """Multi-deme genetic search; ``mode="steady"`` feeds each result to the next child.

    The settings are :class:`~hyperdeme.strategies.GeneticConfig`'s.
    ``max_evals=N`` ("I have N evaluations") stops the run after ``N`` and
    chooses ``num_demes``, ``pop_size`` and ``generations`` for that budget,
    each unless given; without it, those not given are crayai's (4, 64, 1000).
    With crayai's PBT switch, ``Evaluator(checkpoint=DIR)`` and ``@checkpoint`` in
    the command, each child continues the checkpoint of its fitter parent, and
    ``gens_per_epoch`` generations share one epoch of training (see
    :mod:`hyperdeme.strategies._inheritance`). A setting that cannot take
    effect (``gens_per_epoch`` other than 1 without that switch, or only half of
    the switch) is a :class:`~hyperdeme.HyperdemeWarning`.
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
        gens_per_epoch: int = _GENETIC.gens_per_epoch,
        max_evals: int | None = _GENETIC.max_evals,
        seed: int | None = 0,
        name: str = "",
        verbose: bool | int = False,
        log_fn: str | None = "",
        backend: Backend = "asyncio",
        reproducible: bool = False,
    ) -> None:
        given = {"generations": generations, "num_demes": num_demes, "pop_size": pop_size}
        sizes: dict[str, int] = {k: v for k, v in given.items() if not isinstance(v, Unset)}
        self.config = GeneticConfig(
            **sizes,  # type: ignore[arg-type]  # ints for the three sizes
            mutation_rate=mutation_rate,
            crossover_rate=crossover_rate,
            migration_interval=migration_interval,
            mul_mutation_bounds=mul_mutation_bounds,  # type: ignore[arg-type]
            add_mutation_bounds=add_mutation_bounds,  # type: ignore[arg-type]
            mode=mode,
            gens_per_epoch=gens_per_epoch,
            max_evals=max_evals,
        )
        super().__init__(
            evaluator,
            strategy=self._search,
            seed=seed,
            name=name,
            verbose=verbose,
            log_fn=log_fn,
            backend=backend,
            reproducible=reproducible,
        )
        if evaluator is not None:
            for advice in self._checkpoint_advice(evaluator):
                warnings.warn(advice, HyperdemeWarning, stacklevel=3)

    def _checkpoint_advice(self, evaluator: Evaluator) -> list[str]:
        advice = []
        if evaluator.config.checkpoint and not _has_token(evaluator):
            advice.append(
                f"checkpoint={evaluator.config.checkpoint!r} is set but the command has no "
                "@checkpoint, so no program is told where its checkpoint is and no child can "
                "continue its parent's weights; put @checkpoint in the command (e.g. "
                "'python3 train.py --checkpoint-dir @checkpoint')."
            )
        elif _has_token(evaluator) and not evaluator.config.checkpoint:
            advice.append(
                "the command has @checkpoint but checkpoint is not set, so each genetic trial "
                "starts from an empty checkpoint directory of its own; set "
                "Evaluator(checkpoint=DIR) to make each child continue its fitter parent's "
                "checkpoint (crayai's PBT)."
            )
        if self.config.gens_per_epoch != 1 and not _inherits(evaluator):
            advice.append(
                f"gens_per_epoch={self.config.gens_per_epoch} has no effect: generations share "
                "epochs of training only when children continue their parents' checkpoints, "
                "which needs Evaluator(checkpoint=DIR) and @checkpoint in the command."
            )
        return advice

    def _search(self, params: Params, *, seed: int | None) -> Strategy:
        config = dataclasses.replace(self.config, inherit_checkpoints=_inherits(self.evaluator))
        return GeneticSearch(params, config, seed=seed)


class PBTOptimizer(_Configured):
    """Population-based training (Jaderberg et al. 2017, as Ray Tune does it).

    ``population`` members each train ``steps`` slices, one evaluation each,
    resuming from ``@checkpoint``; a ready member in the bottom ``quantile``
    copies the checkpoint and hyperparameters of a random top member and
    perturbs them. The settings are :class:`~hyperdeme.strategies.PBTConfig`'s;
    the command must contain ``@checkpoint`` (the directory the program loads
    its checkpoint from and saves it to), or the function take a ``checkpoint``
    argument.
    """

    config: PBTConfig

    @checked_keywords
    def __init__(
        self,
        evaluator: Evaluator | None = None,
        *,
        population: int = _PBT.population,
        steps: int = _PBT.steps,
        quantile: float = _PBT.quantile,
        perturb: Sequence[float] = _PBT.perturb,
        resample_probability: float = _PBT.resample_probability,
        ready_after: int = _PBT.ready_after,
        mode: PBTMode = _PBT.mode,
        seed: int | None = 0,
        name: str = "",
        verbose: bool | int = False,
        log_fn: str | None = "",
        backend: Backend = "asyncio",
        reproducible: bool = False,
    ) -> None:
        self.config = PBTConfig(
            population=population,
            steps=steps,
            quantile=quantile,
            perturb=perturb,  # type: ignore[arg-type]
            resample_probability=resample_probability,
            ready_after=ready_after,
            mode=mode,
        )
        super().__init__(
            evaluator,
            strategy=self._search,
            seed=seed,
            name=name,
            verbose=verbose,
            log_fn=log_fn,
            backend=backend,
            reproducible=reproducible,
        )
        if evaluator is not None:
            _check_pbt_evaluator(evaluator)

    def _search(self, params: Params, *, seed: int | None) -> Strategy:
        if self.evaluator is not None:
            _check_pbt_evaluator(self.evaluator)
        return PBTSearch(params, self.config, seed=seed)


def _check_pbt_evaluator(evaluator: Evaluator) -> None:
    if evaluator.is_callable and not evaluator.takes_checkpoint:
        raise ConfigError(
            f"PBTOptimizer resumes each member from its checkpoint: give the function "
            f"{evaluator.cmd!r} a checkpoint parameter (def train(params, checkpoint): ...), "
            "the directory to load the checkpoint from and save it to, or a trial handle "
            "(def train(params, trial): ..., the directory is trial.checkpoint_dir).",
            name="evaluator",
            value=evaluator.cmd,
        )
    if not _has_token(evaluator):
        raise ConfigError(
            f"PBTOptimizer needs @checkpoint in the command, the directory each evaluation "
            f"loads its checkpoint from and saves it to (e.g. 'python3 train.py --epochs 1 "
            f"--checkpoint-dir @checkpoint'); got {evaluator.cmd!r}.",
            name="evaluator",
            value=evaluator.cmd,
        )
