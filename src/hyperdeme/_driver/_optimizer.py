"""``Optimizer``: an evaluator plus a strategy, crayai.hpo's user-facing object.

``hyperdeme.Optimizer(evaluator, strategy=MySearch)`` runs any
:class:`~hyperdeme.Strategy`; the built-in optimizers (``_builtin``) are
subclasses with crayai's typed keywords.

``opt.optimize(params)`` blocks (it runs its own event loop);
``await hyperdeme.optimize(opt, params)`` runs inside the caller's loop.
Either way ``opt.result``, ``opt.best_fom`` and ``opt.best_params`` are set
afterwards.
"""

from __future__ import annotations

import datetime
import inspect
import math
import re
from pathlib import Path
from typing import Any, Literal

from .._core._checks import boolean, one_of, text
from .._core._checks import seed as check_seed
from .._core._errors import ConfigError, ConfigTypeError, unwrap
from .._core._settings import checked_keywords
from .._engine._evaluator import Evaluator
from .._space import Params
from ..strategies import Strategy, StrategyFactory
from ._blocking import run_blocking
from ._cancel import Canceller
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


def _factory(name: str, value: Any) -> StrategyFactory:
    """``value`` if it can be called as ``value(params, seed=seed)``."""
    wanted = (
        f"{name} must be a Strategy subclass, or a factory called as {name}(params, seed=seed) "
        "that returns a hyperdeme.Strategy"
    )
    if not callable(value):
        raise ConfigTypeError(
            f"{wanted}; got {value!r} of type {type(value).__name__}.", name=name, value=value
        )
    factory: StrategyFactory = value
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # some builtins have none: trust them
        return factory
    try:
        signature.bind(None, seed=None)
    except TypeError as error:
        raise ConfigTypeError(
            f"{wanted}; {factory!r} cannot be called so: {error}.", name=name, value=value
        ) from None
    return factory


class Optimizer:
    """Runs a strategy over a search space with an evaluator, and keeps the result::

        opt = hyperdeme.Optimizer(evaluator, strategy=MySearch, seed=1)
        result = opt.optimize(params)

    ``strategy`` is called as ``strategy(params, seed=seed)`` and returns a
    :class:`~hyperdeme.Strategy`: a Strategy subclass whose constructor is
    ``(space, *, seed=None, ...)``, or a ``functools.partial`` or function that
    builds one with settings of its own. ``seed=0`` draws a fresh seed per run
    (``result.seed`` tells which). ``reproducible=True``: the same seed and the
    same ``num_parallel_evals`` give the same trials in the same order whatever
    the timing (results are told to the strategy in trial-id order; see
    :mod:`hyperdeme._engine._in_order`); by default, with more than one slot,
    a steady-state search follows the order in which evaluations finish. The
    built-in optimizers are subclasses with crayai's typed keywords.
    """

    @checked_keywords
    def __init__(
        self,
        evaluator: Evaluator | None = None,
        *,
        #: builds the search: ``strategy(params, seed=seed)`` returns a Strategy
        strategy: StrategyFactory,
        #: the search's seed; 0 draws a fresh one per run (``result.seed`` tells which)
        seed: int | None = 0,
        #: the experiment: its directory under ``run_path`` ("": a timestamped name)
        name: str = "",
        #: a line per finished trial, with what its program printed
        verbose: bool | int = False,
        #: crayai's human-readable log file, global plus one per deme ("": none)
        log_fn: str | None = "",
        #: the event loop the blocking call runs: "asyncio" or "trio"
        backend: Backend = "asyncio",
        #: the same seed and slots give the same trials in the same order, whatever the timing
        reproducible: bool = False,
    ) -> None:
        if evaluator is not None and not isinstance(evaluator, Evaluator):
            raise ConfigTypeError(
                f"evaluator must be a hyperdeme.Evaluator, got {type(evaluator).__name__}.",
                name="evaluator",
                value=evaluator,
            )
        self.evaluator = evaluator
        self.strategy: StrategyFactory = _factory("strategy", strategy)
        self.seed: int = check_seed("seed", seed)
        self.name: str = _experiment_name("name", name)
        self.verbose: bool = boolean("verbose", verbose)
        self.log_fn: str = _log_name("log_fn", log_fn)
        self.backend: Backend = one_of(("asyncio", "trio"))("backend", backend)
        self.reproducible: bool = boolean("reproducible", reproducible)
        self.result: Result | None = None
        self._experiment = ""
        self._canceller = Canceller()

    def make_strategy(self, params: Params, *, seed: int | None = None) -> Strategy:
        """A fresh strategy over ``params``: ``self.strategy(params, seed=...)``, checked.

        ``seed``: the strategy's seed; by default this optimizer's (a fresh one when 0).
        Raises :class:`~hyperdeme.ConfigTypeError` when the factory returns anything
        but a Strategy.
        """
        strategy = self.strategy(params, seed=self.seed or None if seed is None else seed)
        if not isinstance(strategy, Strategy):
            raise ConfigTypeError(
                f"strategy must build a hyperdeme.Strategy, but {self.strategy!r} returned "
                f"{strategy!r} of type {type(strategy).__name__}; return an instance of a "
                "Strategy subclass."
            )
        return strategy

    def _settings(self) -> list[str]:
        """What the repr shows besides the seed and the name, as ``key=value``."""
        factory = self.strategy
        name = getattr(factory, "__qualname__", None)
        return [f"strategy={name}" if isinstance(name, str) else f"strategy={factory!r}"]

    def __repr__(self) -> str:
        settings = self._settings()
        if self.seed:
            settings.append(f"seed={self.seed}")
        if self.name:
            settings.append(f"name={self.name!r}")
        return f"{type(self).__name__}({', '.join(settings)})"

    def _log_directory(self) -> Path | None:
        """Where the ``log_fn`` files go: None, the experiment's run directory
        (``hyperdeme.hpo``'s optimizers put them where crayai did)."""
        return None

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

    def cancel(self) -> None:
        """Stop this optimizer's run as Ctrl-C does, from any thread, a signal handler or
        another event loop: evaluations stopped (SIGTERM, the evaluator's ``grace_period``,
        SIGKILL), the journal consistent. The run (``optimize``, ``await
        hyperdeme.optimize`` or ``stream``) then returns normally; ``opt.result`` holds
        every trial the journal holds and ``result.cancelled`` is True.

        Called while no run is going on, it stops the next run as soon as it starts
        (a thread started with ``opt.optimize`` may not have begun yet).
        """
        self._canceller.cancel()

    def optimize(
        self, params: Params, *, resume: bool = False, progress: bool | float = False
    ) -> Result:
        """Run to completion in a new event loop (see :mod:`._blocking`).

        ``resume=True`` continues the experiment named ``name`` under run_path (without
        a name, the newest one there that matches this search): its finished trials are
        not run again, they rebuild the strategy and count against the budget; trials
        its driver left unfinished run again. A changed search space, strategy or seed
        is refused. Nothing to resume: it starts fresh, and says so.

        ``progress=True`` shows progress (trials done of the budget, running, failed,
        best FoM, elapsed, remaining) on stderr: a live line on a terminal, otherwise
        (a batch job's log) a plain line every 60 seconds; a number instead of True
        sets those seconds (``progress=600``).

        Ctrl-C raises KeyboardInterrupt and SIGTERM SystemExit(143) once the run has
        stopped cleanly; the journal keeps every finished trial, and
        ``opt.optimize(params, resume=True)`` continues the run.
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
        progress: bool | float = False,
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
        if not isinstance(progress, bool) and not (
            isinstance(progress, int | float) and math.isfinite(progress) and progress > 0
        ):
            raise ConfigError(
                "progress must be True, False or the seconds between two progress lines "
                f"(a number > 0), got {progress!r}.",
                name="progress",
                value=progress,
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
            log_dir=self._log_directory(),
            progress=progress,
            reproducible=self.reproducible,
        )
        with self._canceller.scope() as scope:
            try:
                self._experiment = await run_experiment(experiment, result, emit, resume=resume)
            except BaseExceptionGroup as group:  # the bare error, as stream and optimize raise
                unwrap(group)
        result.cancelled = scope.cancelled_caught
        return result
