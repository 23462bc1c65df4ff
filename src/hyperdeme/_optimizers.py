"""User-facing optimizers: an evaluator plus a strategy, crayai.hpo's names and defaults.

``opt.optimize(params)`` blocks (it runs its own event loop);
``await hyperdeme.optimize(opt, params)`` runs inside the caller's loop.
Either way ``opt.result``, ``opt.best_fom`` and ``opt.best_params`` are set
afterwards.
"""

from __future__ import annotations

import asyncio
import datetime
import inspect
import signal
import sys
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, Literal

import anyio

from ._errors import ConfigError, ConfigTypeError, UsageError, raise_single
from ._evaluator import Evaluator
from ._result import Result
from ._space import Params
from .strategies import GeneticSearch, GridSearch, RandomSearch, Strategy

__all__ = ["GeneticOptimizer", "GridOptimizer", "Optimizer", "RandomOptimizer"]

#: a one-parameter space used to check strategy arguments at construction time
_PROBE = Params([["--probe", 0.5, (0.0, 1.0)]])


class Optimizer(ABC):
    """Base of the optimizers: holds the evaluator, runs a strategy, keeps the result."""

    def __init__(
        self,
        evaluator: Evaluator | None,
        *,
        name: str = "",
        verbose: bool = False,
        log_fn: str | None = "",
        backend: Literal["asyncio", "trio"] = "asyncio",
        **unknown: Any,
    ) -> None:
        if unknown:
            raise ConfigTypeError(
                f"{type(self).__name__} got unknown keyword argument(s) "
                f"{', '.join(sorted(unknown))}; allowed: {', '.join(_keywords(type(self)))}."
            )
        if evaluator is not None and not isinstance(evaluator, Evaluator):
            raise ConfigError(
                f"evaluator must be a hyperdeme.Evaluator, got {type(evaluator).__name__}."
            )
        if not isinstance(name, str) or "/" in name:
            raise ConfigError(f"name must be a string without '/', got {name!r}.")
        if log_fn is None:
            log_fn = ""
        if not isinstance(log_fn, str) or "/" in log_fn:
            raise ConfigError(
                "log_fn must be a file name without '/' (the log is written in the run "
                f"directory), got {log_fn!r}."
            )
        if backend not in ("asyncio", "trio"):
            raise ConfigError(f"backend must be 'asyncio' or 'trio', got {backend!r}.")
        self.evaluator = evaluator
        self.name = name
        self.verbose = verbose
        self.log_fn = log_fn
        self.backend = backend
        self.result: Result | None = None
        self._experiment = ""
        self.make_strategy(_PROBE)  # argument errors surface now, not at optimize()

    @abstractmethod
    def make_strategy(self, params: Params) -> Strategy:
        """A fresh strategy over ``params`` configured by this optimizer."""

    @property
    def experiment(self) -> str:
        """The run directory's name: ``name``, or a timestamped default chosen once."""
        if not self._experiment:
            stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
            self._experiment = self.name or f"{type(self).__name__.lower()}-{stamp}"
        return self._experiment

    @property
    def best_fom(self) -> float | None:
        return self.result.best_fom if self.result is not None else None

    @property
    def best_params(self) -> dict[str, Any] | None:
        return self.result.best_params if self.result is not None else None

    def optimize(self, params: Params) -> Result:
        """Run to completion in a new event loop.

        Ctrl-C, and SIGTERM (a batch system ending the driver's job), stop the run
        cleanly: evaluations killed, allocations released, journal consistent.
        Then KeyboardInterrupt, or SystemExit(143) for SIGTERM, propagates.
        """
        if _loop_running():
            raise UsageError(
                f"{type(self).__name__}.optimize() blocks, but an event loop is running in "
                "this thread; use `result = await hyperdeme.optimize(opt, params)` instead."
            )
        return anyio.run(self._optimize_until_terminated, params, backend=self.backend)

    async def _optimize_until_terminated(self, params: Params) -> Result:
        from ._optimize import optimize

        if threading.current_thread() is not threading.main_thread():
            return await optimize(self, params)
        terminated = False
        try:
            async with anyio.create_task_group() as tg:

                async def watch() -> None:
                    nonlocal terminated
                    with anyio.open_signal_receiver(signal.SIGTERM) as signals:
                        async for _ in signals:
                            terminated = True
                            tg.cancel_scope.cancel()
                            return

                tg.start_soon(watch)
                result = await optimize(self, params)
                tg.cancel_scope.cancel()
        except BaseExceptionGroup as group:
            raise_single(group)
        if terminated:
            raise SystemExit(128 + signal.SIGTERM)
        return result


def _keywords(cls: type[Optimizer]) -> list[str]:
    """The keyword arguments ``cls(...)`` accepts, for error messages."""
    names: set[str] = set()
    for klass in (cls, Optimizer):
        for parameter in inspect.signature(klass.__init__).parameters.values():
            if parameter.kind not in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL):
                names.add(parameter.name)
    return sorted(names - {"self"})


def _loop_running() -> bool:
    """True inside a running asyncio or trio loop in this thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        return True
    trio = sys.modules.get("trio")
    if trio is None:
        return False
    try:
        trio.lowlevel.current_trio_token()
    except RuntimeError:
        return False
    return True


class RandomOptimizer(Optimizer):
    """``num_iters`` random points; the first is the defaults when all parameters have one.

    ``seed=0`` draws a fresh seed (``result.seed`` tells which, for replay).
    """

    def __init__(
        self,
        evaluator: Evaluator | None = None,
        num_iters: int = 10,
        seed: int = 0,
        verbose: bool = False,
        **kwargs: Any,
    ) -> None:
        self.num_iters = num_iters
        self.seed = seed
        super().__init__(evaluator, verbose=verbose, **kwargs)

    def make_strategy(self, params: Params) -> Strategy:
        return RandomSearch(params, num_iters=self.num_iters, seed=self.seed or None)


class GridOptimizer(Optimizer):
    """``grid_size`` points per range, the full product (iterated lazily), plus the baseline."""

    def __init__(
        self,
        evaluator: Evaluator | None = None,
        grid_size: int = 5,
        chunk_size: int = 50,
        verbose: bool = False,
        **kwargs: Any,
    ) -> None:
        self.grid_size = grid_size
        self.chunk_size = chunk_size
        super().__init__(evaluator, verbose=verbose, **kwargs)

    def make_strategy(self, params: Params) -> Strategy:
        return GridSearch(params, grid_size=self.grid_size, chunk_size=self.chunk_size)


class GeneticOptimizer(Optimizer):
    """Multi-deme genetic search; ``mode="steady"`` feeds each result to the next child."""

    def __init__(
        self,
        evaluator: Evaluator | None = None,
        generations: int = 1000,
        num_demes: int = 4,
        pop_size: int = 64,
        mutation_rate: float = 0.05,
        crossover_rate: float = 0.33,
        migration_interval: int = 5,
        mul_mutation_bounds: Sequence[float] = (0.01, 0.1, 0.2),
        add_mutation_bounds: Sequence[float] = (0.03, 0.03, 0.13),
        name: str = "",
        verbose: bool = False,
        mode: Literal["steady", "generational"] = "steady",
        seed: int = 0,
        log_fn: str | None = "",
        **kwargs: Any,
    ) -> None:
        self.generations = generations
        self.num_demes = num_demes
        self.pop_size = pop_size
        self.mutation_rate = mutation_rate
        self.crossover_rate = crossover_rate
        self.migration_interval = migration_interval
        self.mul_mutation_bounds = mul_mutation_bounds
        self.add_mutation_bounds = add_mutation_bounds
        self.mode = mode
        self.seed = seed
        super().__init__(evaluator, name=name, verbose=verbose, log_fn=log_fn, **kwargs)

    def make_strategy(self, params: Params) -> Strategy:
        # no ``slots``: the scheduler bounds the evaluations in flight, and only it
        # knows the slots of an allocation found when the launcher is entered
        return GeneticSearch(
            params,
            generations=self.generations,
            num_demes=self.num_demes,
            pop_size=self.pop_size,
            mutation_rate=self.mutation_rate,
            crossover_rate=self.crossover_rate,
            migration_interval=self.migration_interval,
            mul_mutation_bounds=self.mul_mutation_bounds,
            add_mutation_bounds=self.add_mutation_bounds,
            mode=self.mode,
            seed=self.seed or None,
        )
