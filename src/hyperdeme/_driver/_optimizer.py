"""``Optimizer``: an evaluator plus a strategy config, crayai.hpo's user-facing object.

``opt.optimize(params)`` blocks (it runs its own event loop);
``await hyperdeme.optimize(opt, params)`` runs inside the caller's loop.
Either way ``opt.result``, ``opt.best_fom`` and ``opt.best_params`` are set
afterwards.
"""

from __future__ import annotations

import datetime
import re
from abc import ABC, abstractmethod
from typing import Any, Literal

from .._core._checks import boolean, one_of, text
from .._core._checks import seed as check_seed
from .._core._errors import ConfigError, ConfigTypeError
from .._core._settings import UNSET, Config, Unset
from .._engine._evaluator import Evaluator
from .._space import Params
from ..strategies import Strategy
from ._blocking import run_blocking
from ._experiment import Emit, run_experiment
from ._result import Result
from ._run_spec import RunSpec

__all__ = ["Backend", "Optimizer"]

Backend = Literal["asyncio", "trio"]

#: names the engine gives its own files in the run directory
_RESERVED = re.compile(r"^(trials\.jsonl|\d+|checkpoints|\..*)$")


def _experiment_name(name: str, value: Any) -> str:
    experiment: str = text(name, value)
    if "/" in experiment or experiment in (".", ".."):
        raise ConfigError(
            f"{name} names the experiment's directory under run_path: a plain name "
            f"without '/' (and not '.' or '..'), got {value!r}.",
            name=name,
            value=value,
        )
    return experiment


def _log_name(name: str, value: Any) -> str:
    file: str = text(name, "" if value is None else value)
    if "/" in file or (file and _RESERVED.match(file)):
        raise ConfigError(
            f"{name} must be a file name in the run directory, without '/', and not one of "
            f"the engine's own (trials.jsonl, trial directories, checkpoints, dot files); "
            f"got {value!r}.",
            name=name,
            value=value,
        )
    return file


class Optimizer(ABC):
    """Base of the optimizers: holds the evaluator, builds a strategy, keeps the result.

    Subclasses give a typed constructor (crayai's keywords) that builds their
    strategy config, and :meth:`make_strategy`.
    """

    def __init__(
        self,
        evaluator: Evaluator | None,
        config: Config,
        *,
        seed: int | None = 0,
        name: str = "",
        verbose: bool | int = False,
        log_fn: str | None = "",
        backend: Backend = "asyncio",
    ) -> None:
        if evaluator is not None and not isinstance(evaluator, Evaluator):
            raise ConfigTypeError(
                f"evaluator must be a hyperdeme.Evaluator, got {type(evaluator).__name__}.",
                name="evaluator",
                value=evaluator,
            )
        self.evaluator = evaluator
        self.config = config
        self.seed: int = check_seed("seed", seed)
        self.name: str = _experiment_name("name", name)
        self.verbose: bool = boolean("verbose", verbose)
        self.log_fn: str = _log_name("log_fn", log_fn)
        self.backend: Backend = one_of(("asyncio", "trio"))("backend", backend)
        self.result: Result | None = None
        self._experiment = ""

    @abstractmethod
    def make_strategy(self, params: Params, *, seed: int | Unset | None = UNSET) -> Strategy:
        """A fresh strategy over ``params`` configured by this optimizer.

        ``seed``: the strategy's seed (None: a fresh one); by default this optimizer's.
        """

    def _seed(self, seed: int | Unset | None) -> int | None:
        if seed is UNSET:
            return self.seed or None
        return seed

    def __repr__(self) -> str:
        settings = [f"{key}={value!r}" for key, value in vars(self.config).items()]
        if self.seed:
            settings.append(f"seed={self.seed}")
        if self.name:
            settings.append(f"name={self.name!r}")
        return f"{type(self).__name__}({', '.join(settings)})"

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

    def optimize(self, params: Params, *, resume: bool = False, progress: bool = False) -> Result:
        """Run to completion in a new event loop (see :mod:`._blocking`).

        ``resume=True`` continues the experiment named ``name`` under run_path (without
        a name, the newest one there that matches this search): its finished trials are
        not run again, they rebuild the strategy and count against the budget; trials
        its driver left unfinished run again. A changed search space, strategy or seed
        is refused. Nothing to resume: it starts fresh, and says so.

        ``progress=True`` shows live progress (trials done of the budget, running,
        failed, best FoM, elapsed, remaining) on stderr when it is a terminal.
        """
        return run_blocking(
            lambda: self.run(params, resume=resume, progress=progress),
            backend=self.backend,
            what=f"{type(self).__name__}.optimize()",
        )

    async def run(
        self,
        params: Params,
        emit: Emit | None = None,
        *,
        resume: bool = False,
        progress: bool = False,
    ) -> Result:
        """Run inside the caller's event loop; ``emit`` is awaited with each finished trial.

        ``resume``, ``progress``: see :meth:`optimize`.
        """
        if self.evaluator is None:
            raise ConfigError(
                f"{type(self).__name__} has no evaluator; pass one: "
                f"{type(self).__name__}(hyperdeme.Evaluator('python3 train.py'), ...).",
                name="evaluator",
            )
        if not isinstance(params, Params):
            raise ConfigTypeError(
                f"params must be a hyperdeme.Params, got {type(params).__name__}.",
                name="params",
                value=params,
            )
        result = Result()
        self.result = result
        experiment = RunSpec(
            evaluator=self.evaluator,
            params=params,
            make_strategy=lambda seed: self.make_strategy(params, seed=seed),
            seed=self.seed,
            name=self.name or None,
            default_name=self.experiment,
            verbose=self.verbose,
            log_fn=self.log_fn,
            progress=progress,
        )
        self._experiment = await run_experiment(experiment, result, emit, resume=resume)
        return result
