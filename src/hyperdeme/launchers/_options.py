"""``LauncherOptions``: what a launcher is told about where and how evaluations run.

The Evaluator's settings that concern launching, validated once. A launcher
factory registered with :func:`hyperdeme.register_launcher` receives one;
``extra`` carries the Evaluator's ``launcher_options`` dict, whose keys each
backend declares (:attr:`hyperdeme.Launcher.launcher_options`, read with
:meth:`hyperdeme.Launcher.read_extra`).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._core._checks import Check, count, number, optional, text
from .._core._errors import ConfigError, ConfigTypeError
from .._core._settings import Config, setting

__all__ = ["LauncherOptions"]


def _arguments(name: str, value: Any) -> str:
    """A string of command-line arguments that splits like a shell would split it."""
    line: str = text(name, value)
    try:
        shlex.split(line)
    except ValueError as error:
        raise ConfigError(
            f"{name} must split into arguments like a shell line: {error} in {value!r}.",
            name=name,
            value=value,
        ) from None
    return line


def _job_id(name: str, value: Any) -> int | None:
    """An existing allocation's job id; None or 0 (crayai's argparse default): none."""
    value = optional(count(0))(name, value)
    return value or None


def _extra(name: str, value: Any) -> dict[str, Any]:
    # the Evaluator's keyword for it
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise ConfigTypeError(
            f"launcher_options must be a dict such as {{'namespace': 'team-a'}}, got {value!r}.",
            name="launcher_options",
            value=value,
        )
    return dict(value)


_minutes: Check = count(0)


@dataclass(frozen=True, kw_only=True)
class LauncherOptions(Config):
    """Where and how evaluations run, as the Evaluator was told (crayai's names).

    A launcher reads what concerns it and ignores the rest.
    """

    #: nodes to allocate (0: none asked for; inside an allocation, its nodes are used)
    nodes: int = setting(0, count(0))
    #: nodes one evaluation needs by default (0 means 1)
    nodes_per_eval: int = setting(0, count(0))
    #: run inside this existing allocation (a Slurm job id); None: none given
    alloc_jobid: int | None = setting(None, _job_id)
    #: minutes an allocation (or a PBS job) may last
    alloc_timeout: int = setting(30, _minutes, unit="minutes")
    #: extra arguments for the allocation command (``salloc``, ``qsub``)
    alloc_args: str = setting("", _arguments)
    #: extra arguments for the launch command (``srun``, ``run_training``)
    launch_args: str = setting("", _arguments)
    #: crayai: extra ``run_training`` arguments for the Urika launcher
    urika_args: str = setting("", _arguments)
    #: the container image of each evaluation (Kubernetes)
    workload_image: str = setting("", text)
    #: seconds one attempt may take (0: no limit); the engine enforces it, a
    #: launcher may also tell its workload manager (Kubernetes' activeDeadlineSeconds)
    eval_timeout: float = setting(0.0, number(0.0, infinite=True, unit="seconds"), unit="seconds")
    #: seconds between SIGTERM and SIGKILL when an evaluation is stopped (every
    #: launcher's stop and the watchdog's), so a caller's timeout bounds the real stop
    grace_period: float = setting(5.0, number(0.0, unit="seconds"), unit="seconds")
    #: the Evaluator's ``launcher_options``: backend-specific extras
    extra: Mapping[str, Any] = setting({}, _extra, factory=dict)

    @property
    def time_limit(self) -> float | None:
        """``eval_timeout`` in seconds, or None when there is no limit."""
        limit = self.eval_timeout
        return limit if 0 < limit < float("inf") else None
