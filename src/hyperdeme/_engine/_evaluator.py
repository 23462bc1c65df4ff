"""``Evaluator``: what to run for one set of hyperparameters, and where."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal

from .._core._checks import boolean, is_integer
from .._core._direction import Direction
from .._core._errors import ConfigError, ConfigTypeError, HyperdemeWarning
from .._core._settings import UNSET, Unset, checked_keywords
from ..early_stopping import EarlyStopping
from ..launchers import LauncherOptions
from ..launchers._callable import takes_checkpoint
from ..launchers._signature import call_style
from ._command import build_command
from ._evaluator_config import EvaluatorConfig
from ._journal import Durability
from ._metrics import MetricSpec

__all__ = ["EvalFunction", "Evaluator"]

EvalFunction = Callable[[dict[str, Any]], Awaitable[Any] | Any]

_E = EvaluatorConfig()
_L = LauncherOptions()


class Evaluator:
    """Runs a training program (or a Python function) for one set of hyperparameters.

    ``cmd`` is a shell command without hyperparameter flags
    (``"python3 train.py --epochs 3"``): each active hyperparameter is appended
    as one quoted argument ``flag=value``. Or ``cmd`` is a function of the
    parameter dict returning the FoM or a dict of metrics: a coroutine
    function is awaited on the event loop, a plain one runs in a worker thread.
    A function with a ``checkpoint`` parameter is called as
    ``f(params, checkpoint=directory)``, the directory ``@checkpoint`` would
    name in a command (None when the strategy plans no checkpoint). A function
    taking a second parameter, ``f(params, trial)``, gets a
    :class:`~hyperdeme.TrialContext`: ``trial.report(fom, step=k)`` feeds
    ``early_stopping`` (raising :class:`~hyperdeme.Stopped` when the rule stops
    the trial) and ``trial.checkpoint_dir`` serves PBT. A signature that
    cannot be called so is refused here (see the guide's "Step reports from
    Python objectives").

    The keywords are crayai.hpo's, with its defaults:

    - ``src_path``: a directory whose entries are linked into each trial's own
      working directory (without it, programs run in the current directory);
    - ``run_path``: where the journal and logs go (``run/<experiment>/``);
    - ``metric``: the prefix of the FoM in the output (``"FoM: "``), or a dict
      of metric names to weights, the FoM being the weighted sum;
    - ``checkpoint``: where checkpoints go (``checkpoint/<experiment>/``, else
      ``checkpoints/`` in the run directory); ``@checkpoint`` in ``cmd`` names
      each evaluation's own directory there (see the guide's checkpoint
      contract); with both, the genetic optimizer is crayai's PBT;
    - ``nodes``, ``nodes_per_eval``, ``num_parallel_evals``: nodes to use, per
      evaluation, and evaluations at once (0: ``nodes // nodes_per_eval``);
    - ``workload_manager``, ``launcher``: ``"auto"`` detects (crayai's
      ``launcher="wlm"`` too), or name one: ``local``, ``slurm``, ``pbs``,
      ``k8s``, ``urika``, one registered with ``register_launcher`` or one
      installed as a plug-in (entry point group ``hyperdeme.launchers``);
    - ``workload_image``, ``launch_args``, ``urika_args``, ``alloc_jobid``,
      ``alloc_timeout`` (minutes), ``alloc_args``: passed to the launcher;
    - ``timeout``: minutes for the whole run (0: none); ``flag``: e.g.
      ``{"nodes_per_evaluation": "--N"}``; ``verbose``; ``num_retries``.

    hyperdeme adds ``direction`` (``"minimize"``, crayai's and the default, or
    ``"maximize"`` for an accuracy or a reward: the FoM, the weighted sum of a metric
    dict included, is then maximised and the best trial is the one with the largest),
    ``objectives`` (several objectives instead of ``metric`` and ``direction``:
    ``{"val_loss": "minimize", "latency_ms": "minimize"}``, each read like a dict metric
    and recorded in ``trial.objectives``; the FoM is the first one's value,
    ``Result.pareto_front`` the non-dominated trials, and the genetic optimizer selects
    by NSGA-II ranking), ``eval_timeout`` (seconds per attempt, 0: none), ``grace_period`` (seconds
    between SIGTERM and SIGKILL whenever an evaluation is stopped, 5 by default: a
    timeout, a cancelled run, ``opt.cancel()``, the watchdog), ``env`` (extra
    environment variables), ``retry_delay`` (seconds before the second attempt, doubling
    up to a minute), ``fsync`` (journal durability against an OS crash: ``"batch"``, the
    default, fsyncs off the event loop, at most every 20 ms; ``"always"`` (or True) each
    finished trial before it is reported; ``"never"`` (or False) leaves it to the
    kernel; a SIGKILLed driver loses no finished trial whatever it says),
    ``launcher_options`` (backend extras such as a Kubernetes namespace; each launcher
    accepts only the keys it declares), ``function_runs_in`` (a plain function's worker:
    ``"thread"``, or ``"process"`` so that an evaluation that overruns ``eval_timeout``
    can be killed; the function must then be picklable, i.e. defined at module level)
    and ``early_stopping`` (a rule such as :class:`~hyperdeme.ASHA` that stops a trial
    whose intermediate FoMs, one per line the program prints, are hopeless), ``gpus``
    (a pool of device ids, ``[0, 1, 2, 3]``, or ``"auto"``: each evaluation holds
    ``gpus_per_eval`` of them, 1 by default, exclusively while it runs, and sees them in
    ``CUDA_VISIBLE_DEVICES``, ``HIP_VISIBLE_DEVICES``, ``ROCR_VISIBLE_DEVICES`` and
    ``HYPERDEME_GPUS``; ``num_parallel_evals`` is capped to what the pool allows; see
    the guide's "GPUs").
    Every setting is checked here: a bad one raises
    :class:`~hyperdeme.ConfigError` before anything runs.
    """

    @checked_keywords
    def __init__(
        self,
        cmd: str | EvalFunction,
        *,
        src_path: str = _E.src_path,
        run_path: str | Unset = UNSET,
        metric: str | Mapping[str, float] | Unset = UNSET,
        direction: Direction | Unset = UNSET,
        objectives: Mapping[str, Direction] | None = None,
        checkpoint: str = _E.checkpoint,
        nodes: int = _L.nodes,
        nodes_per_eval: int = _L.nodes_per_eval,
        num_parallel_evals: int = _E.num_parallel_evals,
        workload_manager: str = _E.workload_manager,
        launcher: str = _E.launcher,
        workload_image: str = _L.workload_image,
        launch_args: str = _L.launch_args,
        urika_args: str = _L.urika_args,
        alloc_jobid: int | None = _L.alloc_jobid,
        alloc_timeout: int = _L.alloc_timeout,
        alloc_args: str = _L.alloc_args,
        timeout: float = _E.timeout,
        flag: Mapping[str, str] | None = None,
        verbose: bool | int = _E.verbose,
        num_retries: int = _E.num_retries,
        eval_timeout: float = _L.eval_timeout,
        grace_period: float = _L.grace_period,
        env: Mapping[str, str] | None = None,
        retry_delay: float = _E.retry_delay,
        fsync: Durability | bool = _E.fsync,
        launcher_options: Mapping[str, Any] | None = None,
        function_runs_in: Literal["thread", "process"] = "thread",
        early_stopping: EarlyStopping | None = None,
        gpus: Sequence[int | str] | Literal["auto"] | None = None,
        gpus_per_eval: int | Unset = UNSET,
    ) -> None:
        self.function, self.cmd = _function_and_name(cmd)
        #: how the function is called (None for a command): refused here if it cannot be
        self._style = None if self.function is None else call_style(self.function)
        _check_objectives(objectives, metric=metric, direction=direction)
        self.config = EvaluatorConfig(
            src_path=src_path,
            run_path=run_path,
            metric=_E.metric if isinstance(metric, Unset) else metric,
            direction=_E.direction if isinstance(direction, Unset) else direction,
            objectives=objectives,
            checkpoint=checkpoint,
            num_parallel_evals=num_parallel_evals,
            workload_manager=workload_manager,
            launcher=launcher,
            timeout=timeout,
            flag=flag or {},
            verbose=boolean("verbose", verbose),  # crayai scripts pass argparse counts
            num_retries=num_retries,
            env=env or {},
            retry_delay=retry_delay,
            fsync=fsync,  # type: ignore[arg-type]  # the check maps True/False
            function_runs_in=function_runs_in,
            early_stopping=early_stopping,
            gpus=gpus,  # type: ignore[arg-type]  # the check makes the ids text
            gpus_per_eval=gpus_per_eval,
            launch=LauncherOptions(
                nodes=nodes,
                nodes_per_eval=nodes_per_eval,
                alloc_jobid=alloc_jobid,
                alloc_timeout=alloc_timeout,
                alloc_args=alloc_args,
                launch_args=launch_args,
                urika_args=urika_args,
                workload_image=workload_image,
                eval_timeout=eval_timeout,
                grace_period=grace_period,
                extra=launcher_options or {},
            ),
        )
        self._advise(run_path=run_path, src_path=src_path, early_stopping=early_stopping)
        self.metric = MetricSpec(self.config.metric, objectives=self.config.objectives)
        if function_runs_in == "process" and (self.function is None or self.is_async_callable):
            raise ConfigError(
                "function_runs_in='process' runs a plain Python function in worker processes; "
                f"got {'a command' if self.function is None else 'a coroutine function'}.",
                name="function_runs_in",
                value=function_runs_in,
            )

    def _advise(
        self, *, run_path: str | Unset, src_path: str, early_stopping: EarlyStopping | None
    ) -> None:
        """Warn about settings that are allowed but do not do what they seem to."""
        if run_path is not UNSET and not src_path and self.function is None:
            warnings.warn(
                "run_path is set but src_path is not: evaluations run in the current "
                "directory and only their logs go under run_path; set src_path to give "
                "each trial its own working directory.",
                HyperdemeWarning,
                stacklevel=4,  # the caller of Evaluator(...), past this and checked_keywords
            )
        if early_stopping is not None and self.function is not None and not self.takes_trial:
            warnings.warn(
                "early_stopping has no effect on an evaluation function that takes no trial "
                f"handle ({self.cmd}): it reports no intermediate FoMs; give it a second "
                "parameter (def f(params, trial)) and call trial.report(fom, step=epoch) "
                "each epoch to stop hopeless trials early.",
                HyperdemeWarning,
                stacklevel=4,
            )

    def __repr__(self) -> str:
        settings = [repr(self.cmd)]
        for name, value in self.config.changes().items():
            if name == "launch":
                settings += [f"{k}={v!r}" for k, v in value.changes().items()]
            else:
                settings.append(f"{name}={value!r}")
        return f"Evaluator({', '.join(settings)})"

    @property
    def objectives(self) -> dict[str, Direction]:
        """Each objective's direction, in the order given (``Evaluator(objectives=...)``);
        empty for one FoM (``metric``, ``direction``).

        A strategy is told scores (lower is better): ``trial.objectives`` of the
        trials it hears holds each objective as a score, in this order, so a
        search over them minimises every one (an Optuna study:
        ``directions=["minimize"] * len(evaluator.objectives)``).
        """
        return dict(self.config.objectives or {})

    @property
    def directions(self) -> tuple[Direction, ...]:
        """The user's direction of each objective (one FoM: ``(direction,)``)."""
        objectives = self.config.objectives
        return tuple(objectives.values()) if objectives else (self.config.direction,)

    @property
    def is_callable(self) -> bool:
        return self.function is not None

    @property
    def takes_checkpoint(self) -> bool:
        """True for a function with a ``checkpoint`` parameter or a trial handle (whose
        ``checkpoint_dir`` it is); see the class docstring."""
        return self.function is not None and (self.takes_trial or takes_checkpoint(self.function))

    @property
    def takes_trial(self) -> bool:
        """True for a function taking a trial handle (:class:`~hyperdeme.TrialContext`)."""
        return self._style is not None and self._style.takes_handle

    @property
    def is_async_callable(self) -> bool:
        return self.function is not None and inspect.iscoroutinefunction(self.function)

    def nodes_for(self, params: Mapping[str, Any]) -> int:
        """Nodes one evaluation needs: a hyperparameter named by ``flag``, else nodes_per_eval."""
        flag = self.config.nodes_per_eval_flag
        if flag is not None and flag in params:
            value = params[flag]
            if not is_integer(value) or value < 1:
                raise ConfigError(
                    f"the nodes-per-evaluation parameter {flag} must take integers >= 1, "
                    f"got {value!r}.",
                    name=flag,
                    value=value,
                )
            return int(value)
        return max(1, self.config.launch.nodes_per_eval)

    def command_for(
        self, params: Mapping[str, Any], *, nodes: int, checkpoint_dir: str | None = None
    ) -> str:
        """The command of one evaluation: the shell line (see :func:`build_command`), or
        for a function, the call it makes (``train({'--lr': 0.1})``)."""
        if self.function is not None:
            return f"{self.cmd}({dict(params)!r})"
        return build_command(
            self.cmd,
            params,
            nodes_flag=self.config.nodes_per_eval_flag,
            nodes=nodes,
            checkpoint_dir=checkpoint_dir,
        )


def _check_objectives(objectives: object, *, metric: object, direction: object) -> None:
    """``objectives`` replaces ``metric`` and ``direction``: refuse them together."""
    if objectives is None:
        return
    given = [
        name for name, value in (("metric", metric), ("direction", direction)) if value is not UNSET
    ]
    if given:
        raise ConfigError(
            f"objectives= names each metric and its direction, so it cannot be combined with "
            f"{' and '.join(f'{n}=' for n in given)}; got objectives={objectives!r} and "
            + ", ".join(
                f"{n}={v!r}"
                for n, v in (("metric", metric), ("direction", direction))
                if v is not UNSET
            )
            + ". Give objectives alone (several objectives, a Pareto search), or metric= "
            "and direction= (one FoM).",
            name="objectives",
            value=objectives,
        )


def _function_and_name(cmd: object) -> tuple[EvalFunction | None, str]:
    """The evaluation function (None for a command) and the name logs and errors use."""
    if callable(cmd):
        return cmd, getattr(cmd, "__qualname__", None) or repr(cmd)
    if isinstance(cmd, str) and cmd.strip() and "\0" not in cmd:
        return None, cmd
    error = ConfigError if isinstance(cmd, str) else ConfigTypeError
    raise error(
        f"cmd must be a shell command such as 'python3 train.py' or a function, got {cmd!r}.",
        name="cmd",
        value=cmd,
    )
