"""The model-based optimizers: CMA-ES (on ``cmaes``) and any Optuna sampler.

Like the built-in ones (``_builtin``), each takes the evaluator, then typed
keyword-only settings, and builds its strategy per run; slots, the journal,
resume by replay, early stopping and the CLI (``type = "cmaes"``,
``type = "optuna"``) treat them like any other strategy.

``cmaes`` is a dependency (one small numpy-only module, ~100 kB, by Optuna's
authors): CMA-ES is the search the quality grid recommends for smooth
problems, so it works out of the box. Optuna is an extra
(``hyperdeme[optuna]``): large, with SQLAlchemy and alembic, and only for
users who want its samplers.
"""

from __future__ import annotations

from typing import Any

from .._core._checks import count
from .._core._errors import ConfigError, ConfigTypeError
from .._core._settings import checked_keywords
from .._engine._evaluator import Evaluator
from .._space import Params
from ..strategies import CMAESConfig, CMAESSearch, Strategy
from ..strategies._cmaes import Restarts
from ..strategies._optuna import SAMPLERS, OptunaSearch, require_optuna, sampler_name
from ._builtin import _Configured
from ._optimizer import Backend

__all__ = ["CMAESOptimizer", "OptunaOptimizer"]

_CMAES = CMAESConfig()


class CMAESOptimizer(_Configured):
    """CMA-ES with restarts over the unit box of the space, ``max_evals`` evaluations.

    The settings are :class:`~hyperdeme.strategies.CMAESConfig`'s; how log
    ranges, integers, value lists, conditions, parallel slots and failed or
    stopped trials are handled is in :mod:`hyperdeme.strategies._cmaes` and
    ``_box``. ``seed=0`` draws a fresh seed (``result.seed`` tells which).
    """

    config: CMAESConfig

    @checked_keywords
    def __init__(
        self,
        evaluator: Evaluator | None = None,
        *,
        max_evals: int = _CMAES.max_evals,
        sigma0: float | None = _CMAES.sigma0,
        popsize: int | None = _CMAES.popsize,
        restarts: Restarts | None = _CMAES.restarts,
        seed: int | None = 0,
        name: str = "",
        verbose: bool | int = False,
        log_fn: str | None = "",
        backend: Backend = "asyncio",
        reproducible: bool = False,
    ) -> None:
        self.config = CMAESConfig(
            max_evals=max_evals, sigma0=sigma0, popsize=popsize, restarts=restarts
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

    def _search(self, params: Params, *, seed: int | None) -> Strategy:
        return CMAESSearch(params, self.config, seed=seed)


class OptunaOptimizer(_Configured):
    """An Optuna sampler proposing ``max_evals`` evaluations (ask-and-tell; see
    :mod:`hyperdeme.strategies._optuna`).

    ``sampler`` is an Optuna sampler object (``optuna.samplers.TPESampler(seed=1)``;
    give it a seed for a run that resumes exactly) or a name: ``"tpe"``,
    ``"cmaes"``, ``"gp"``, ``"qmc"``, ``"random"``, ``"nsga2"``, that sampler
    with its defaults, seeded from ``seed``. With several objectives
    (``Evaluator(objectives=...)``) the study has one direction per objective, in
    the evaluator's order, and is told each one's score (``"nsga2"``, ``"tpe"`` and
    ``"gp"`` search such a study; ``"cmaes"``, which Optuna does not allow there, is
    refused before any evaluation). Needs Optuna
    (``pip install 'hyperdeme[optuna]'``): without it, a ConfigError here.
    """

    @checked_keywords
    def __init__(
        self,
        evaluator: Evaluator | None = None,
        *,
        sampler: Any,
        max_evals: int = 100,
        seed: int | None = 0,
        name: str = "",
        verbose: bool | int = False,
        log_fn: str | None = "",
        backend: Backend = "asyncio",
        reproducible: bool = False,
    ) -> None:
        self.sampler = _check_sampler(sampler)
        self.max_evals: int = count(1)("max_evals", max_evals)
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

    def _settings(self) -> list[str]:
        return [f"sampler={sampler_name(self.sampler)!r}", f"max_evals={self.max_evals}"]

    def _search(self, params: Params, *, seed: int | None) -> Strategy:
        # several objectives: the study gets one direction per name (see OptunaSearch)
        objectives = tuple(self.evaluator.objectives) if self.evaluator is not None else ()
        return OptunaSearch(
            params,
            sampler=self.sampler,
            max_evals=self.max_evals,
            objectives=objectives,
            seed=seed,
        )


def _check_sampler(sampler: Any) -> Any:
    """``sampler`` if it is a known name or an Optuna sampler, with Optuna installed."""
    if isinstance(sampler, str):
        if sampler not in SAMPLERS:
            raise ConfigError(
                f"sampler must be an Optuna sampler object or one of {', '.join(SAMPLERS)}; "
                f"got {sampler!r}.",
                name="sampler",
                value=sampler,
            )
        require_optuna(f"OptunaOptimizer(sampler={sampler!r})")
        return sampler
    require_optuna("OptunaOptimizer")
    import optuna

    if not isinstance(sampler, optuna.samplers.BaseSampler):
        raise ConfigTypeError(
            f"sampler must be an Optuna sampler (optuna.samplers.TPESampler(seed=1) ...) or "
            f"one of {', '.join(SAMPLERS)}; got {sampler!r} of type {type(sampler).__name__}.",
            name="sampler",
            value=sampler,
        )
    return sampler
