"""The evaluator's settings: crayai.hpo's keyword arguments, checked once."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._errors import ConfigError

__all__ = ["LAUNCHERS", "WORKLOAD_MANAGERS", "Settings"]

WORKLOAD_MANAGERS = ("auto", "local", "slurm", "pbs", "k8s")
#: "wlm" is crayai's name for "through the workload manager", the same as "auto"
LAUNCHERS = ("auto", "wlm", "local", "slurm", "pbs", "k8s", "urika")
_FLAG_KEYS = ("nodes_per_evaluation",)


@dataclass(frozen=True, slots=True)
class Settings:
    """Validated ``Evaluator`` keyword arguments (crayai.hpo names and defaults).

    ``timeout`` is minutes for the whole run (crayai); ``eval_timeout`` is
    seconds per attempt; 0 means no limit for both.
    """

    src_path: str = ""
    run_path: str = "run"
    metric: str | Mapping[str, float] = "FoM: "
    checkpoint: str = ""
    nodes: int = 0
    nodes_per_eval: int = 0
    num_parallel_evals: int = 0
    workload_manager: str = "auto"
    launcher: str = "auto"
    workload_image: str = ""
    launch_args: str = ""
    #: crayai: extra run_training options for launcher="urika"
    urika_args: str = ""
    alloc_jobid: int = 0
    alloc_timeout: int = 30
    alloc_args: str = ""
    timeout: float = 0.0
    flag: Mapping[str, str] = field(default_factory=dict)
    verbose: bool = False
    num_retries: int = 0
    eval_timeout: float = 0.0
    env: Mapping[str, str] = field(default_factory=dict)
    run_path_given: bool = False
    #: extra launcher options (k8s namespace, manifest overrides ...)
    launcher_options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in (
            "src_path",
            "run_path",
            "checkpoint",
            "workload_image",
            "launch_args",
            "urika_args",
            "alloc_args",
        ):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise ConfigError(f"{name} must be a string, got {value!r}.")
        if not isinstance(self.verbose, bool | int):  # crayai scripts pass argparse counts
            raise ConfigError(f"verbose must be True or False, got {self.verbose!r}.")
        if not isinstance(self.launcher_options, Mapping):
            raise ConfigError(
                "launcher_options must be a dict such as {'namespace': 'team-a'}, "
                f"got {self.launcher_options!r}."
            )
        for name in (
            "nodes",
            "nodes_per_eval",
            "num_parallel_evals",
            "num_retries",
            "alloc_jobid",
            "alloc_timeout",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(f"{name} must be an integer >= 0, got {value!r}.")
            if value < 0:
                raise ConfigError(f"{name} must be >= 0, got {value}.")
        for name in ("timeout", "eval_timeout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"{name} must be a number >= 0, got {value!r}.")
            if math.isnan(value) or value < 0:
                raise ConfigError(f"{name} must be >= 0 (0 means no limit), got {value}.")
        if self.workload_manager not in WORKLOAD_MANAGERS:
            raise ConfigError(
                f"workload_manager must be one of {', '.join(WORKLOAD_MANAGERS)}; "
                f"got {self.workload_manager!r}."
            )
        if self.launcher not in LAUNCHERS:
            raise ConfigError(
                f"launcher must be one of {', '.join(LAUNCHERS)}; got {self.launcher!r}."
            )
        if not isinstance(self.flag, Mapping):
            raise ConfigError(
                f"flag must be a dict like {{'nodes_per_evaluation': '--N'}}, got {self.flag!r}."
            )
        for key, value in self.flag.items():
            if key not in _FLAG_KEYS:
                raise ConfigError(
                    f"flag key {key!r} is not supported; allowed: {', '.join(_FLAG_KEYS)}."
                )
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"flag[{key!r}] must be a non-empty string, got {value!r}.")
        if "k8s" in (self.workload_manager, self.launcher) and not self.workload_image:
            raise ConfigError(
                "Kubernetes runs each evaluation in a container and needs an image: pass "
                "workload_image='registry.example.com/train:1.0'."
            )
        if self.workload_manager == "local" and self.nodes > 1:
            raise ConfigError(
                f"nodes={self.nodes} needs a workload manager; workload_manager='local' "
                "runs on this machine only (use nodes=0 or 1, or 'slurm'/'pbs'/'k8s')."
            )
        if isinstance(self.metric, str):
            if not self.metric:
                raise ConfigError("metric must be a non-empty prefix such as 'FoM: '.")
        elif isinstance(self.metric, Mapping):
            if not self.metric:
                raise ConfigError("metric dict must name at least one metric and its weight.")
            for name, weight in self.metric.items():
                if not isinstance(name, str) or not name:
                    raise ConfigError(f"metric names must be non-empty strings, got {name!r}.")
                if (
                    isinstance(weight, bool)
                    or not isinstance(weight, int | float)
                    or (not math.isfinite(weight))
                ):
                    raise ConfigError(
                        f"metric weight for {name!r} must be a finite number, got {weight!r}."
                    )
        else:
            raise ConfigError(
                f"metric must be a prefix string or a dict name -> weight, got {self.metric!r}."
            )
        if not isinstance(self.env, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.env.items()
        ):
            raise ConfigError(f"env must be a dict of strings to strings, got {self.env!r}.")

    @property
    def nodes_per_eval_flag(self) -> str | None:
        return self.flag.get("nodes_per_evaluation")

    def slots(self, total_nodes: int | None = None) -> int:
        """Evaluation slots: ``num_parallel_evals``, else nodes // nodes_per_eval, >= 1."""
        if self.num_parallel_evals:
            return self.num_parallel_evals
        nodes = total_nodes or self.nodes
        return max(1, nodes // max(1, self.nodes_per_eval))
