"""``Evaluator``: what to run for one set of hyperparameters, and where."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ._command import build_command
from ._errors import ConfigError, ConfigTypeError
from ._logging import get_logger
from ._metrics import MetricSpec
from ._settings import Settings

__all__ = ["Evaluator"]

log = get_logger("hyperdeme.evaluator")

EvalFunction = Callable[[dict[str, Any]], Awaitable[Any] | Any]
_SETTINGS = {f.name for f in dataclasses.fields(Settings)} - {"run_path_given"}
#: hyperdeme's own keywords beyond crayai's
_EXTRA = {"retry_delay", "fsync"}


_warned: set[str] = set()


def _warn_once_run_path_without_src_path(run_path: str) -> None:
    """crayai's warning: without src_path, programs run in the current directory."""
    if "run_path" in _warned:
        return
    _warned.add("run_path")
    log.warning(
        "evaluator.run_path_without_src_path",
        run_path=run_path,
        message=(
            "run_path is set but src_path is not: evaluations run in the current directory "
            "and only their logs go under run_path; set src_path to give each trial its own "
            "directory."
        ),
    )


class Evaluator:
    """Runs a training program (or a Python function) for one set of hyperparameters.

    ``cmd`` is a shell command without hyperparameter flags
    (``"python3 train.py --epochs 3"``): each active hyperparameter is appended
    as one quoted argument ``flag=value``. Or ``cmd`` is a function of the
    parameter dict returning the FoM or a dict of metrics: a coroutine
    function is awaited, a plain one runs in a worker thread.

    Keyword arguments are crayai.hpo's, with its defaults: ``src_path``,
    ``run_path``, ``metric``, ``checkpoint``, ``nodes``, ``nodes_per_eval``,
    ``num_parallel_evals``, ``workload_manager``, ``launcher``,
    ``workload_image``, ``launch_args``, ``alloc_jobid``, ``alloc_timeout``,
    ``alloc_args``, ``timeout`` (minutes, whole run), ``flag``, ``verbose``,
    ``num_retries``; plus ``eval_timeout`` (seconds per attempt, 0 = none),
    ``env`` (extra environment variables), ``retry_delay`` (first back-off
    between attempts, seconds, doubling up to a minute), ``fsync`` (journal
    durability, default True) and ``launcher_options`` (backend extras such
    as a Kubernetes namespace).
    """

    def __init__(self, cmd: str | EvalFunction, **kwargs: Any) -> None:
        unknown = sorted(set(kwargs) - _SETTINGS - _EXTRA)
        if unknown:
            allowed = ", ".join(sorted(_SETTINGS | _EXTRA))
            raise ConfigTypeError(
                f"Evaluator got unknown keyword argument(s) {', '.join(unknown)}; "
                f"allowed: {allowed}."
            )
        retry_delay = kwargs.pop("retry_delay", 1.0)
        if (
            isinstance(retry_delay, bool)
            or not isinstance(retry_delay, int | float)
            or not retry_delay >= 0
        ):
            raise ConfigError(f"retry_delay must be a number >= 0 (seconds), got {retry_delay!r}.")
        self.retry_delay = float(retry_delay)
        self.fsync = bool(kwargs.pop("fsync", True))
        self.function: EvalFunction | None = None
        if callable(cmd):
            self.function = cmd
            self.cmd = getattr(cmd, "__qualname__", repr(cmd))
        elif isinstance(cmd, str) and cmd.strip():
            self.cmd = cmd
        else:
            raise ConfigError(
                f"cmd must be a shell command such as 'python3 train.py' or a function, "
                f"got {cmd!r}."
            )
        kwargs["run_path_given"] = "run_path" in kwargs
        self.settings = Settings(**kwargs)
        if self.settings.run_path_given and not self.settings.src_path and self.function is None:
            _warn_once_run_path_without_src_path(self.settings.run_path)
        self.metric = MetricSpec(self.settings.metric)

    def __repr__(self) -> str:
        return f"Evaluator({self.cmd!r})"

    @property
    def is_callable(self) -> bool:
        return self.function is not None

    @property
    def is_async_callable(self) -> bool:
        return self.function is not None and inspect.iscoroutinefunction(self.function)

    def nodes_for(self, params: Mapping[str, Any]) -> int:
        """Nodes one evaluation needs: a hyperparameter named by ``flag``, else nodes_per_eval."""
        flag = self.settings.nodes_per_eval_flag
        if flag is not None and flag in params:
            value = params[flag]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(
                    f"the nodes-per-evaluation parameter {flag} must take integers >= 1, "
                    f"got {value!r}."
                )
            return value
        return max(1, self.settings.nodes_per_eval)

    def command_for(
        self, params: Mapping[str, Any], *, nodes: int, checkpoint_dir: str | None = None
    ) -> str:
        """The shell command of one evaluation (see :func:`build_command`)."""
        return build_command(
            self.cmd,
            params,
            nodes_flag=self.settings.nodes_per_eval_flag,
            nodes=nodes,
            checkpoint_dir=checkpoint_dir,
        )
