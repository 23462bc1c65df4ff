"""``EvaluatorConfig``: the Evaluator's settings (crayai.hpo's keywords), checked once.

One frozen dataclass; each field carries its check (see
:mod:`hyperdeme._core._settings`). The settings about where evaluations run
form a :class:`~hyperdeme.launchers.LauncherOptions` of their own, which is
what a launcher is built from; the backend a run names checks them
(``Launcher.read_extra``, ``Launcher.check_options``) before anything starts.

``timeout`` is minutes for the whole run (crayai); ``eval_timeout`` is
seconds per attempt; 0 means no limit for both.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .._core._checks import (
    Check,
    boolean,
    count,
    is_shell_name,
    number,
    one_of,
    part,
    path_text,
    string_mapping,
)
from .._core._devices import DEVICE_VARIABLES, Gpus, check_gpus
from .._core._direction import DIRECTIONS, Direction
from .._core._errors import ConfigError, ConfigTypeError
from .._core._settings import UNSET, Config, Unset, setting
from ..early_stopping import EarlyStopping
from ..launchers import LauncherOptions, check, is_known, registered
from ..launchers._detect import DETECT
from ._journal import Durability

__all__ = ["DEFAULT_RUN_PATH", "EvaluatorConfig", "check_gpus_per_eval"]

DEFAULT_RUN_PATH = "run"
_FLAG_KEYS = ("nodes_per_evaluation",)


def _launcher_names() -> tuple[str, ...]:
    return (*DETECT, *registered())


def _manager_names() -> tuple[str, ...]:
    return ("auto", *registered())


def _launcher_name(auto: tuple[str, ...], names: Callable[[], tuple[str, ...]]) -> Check:
    """A launcher's name: one of ``auto`` or a known launcher. The full list (which
    reads the installed plug-ins) is built only to refuse a name."""

    def check(name: str, value: Any) -> str:
        if isinstance(value, str) and (value in auto or is_known(value)):
            return value
        return str(one_of(names)(name, value))

    return check


def _metric(name: str, value: Any) -> str | dict[str, float]:
    if isinstance(value, str):
        if not value or "\n" in value:
            raise ConfigError(
                f"{name} must be a non-empty one-line prefix such as 'FoM: ', got {value!r}.",
                name=name,
                value=value,
            )
        return value
    if not isinstance(value, Mapping):
        raise ConfigTypeError(
            f"{name} must be a prefix string or a dict name -> weight, got {value!r}.",
            name=name,
            value=value,
        )
    if not value:
        raise ConfigError(
            f"{name} dict must name at least one metric and its weight.", name=name, value=value
        )
    weights: dict[str, float] = {}
    for key, weight in value.items():
        if not isinstance(key, str) or not key or "\n" in key:
            raise ConfigError(
                f"{name} names must be non-empty one-line strings, got {key!r}.",
                name=name,
                value=key,
            )
        label = f"{name}[{key!r}] (its weight)"
        weights[key] = part(number(-math.inf), label, weight, name=f"{name}.{key}")
    return weights


def _objectives(name: str, value: Any) -> dict[str, Direction] | None:
    """None (one FoM), or a non-empty dict of metric name -> "minimize" | "maximize"."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ConfigTypeError(
            f"{name} must be a dict of metric name -> 'minimize' or 'maximize', such as "
            f"{{'val_loss': 'minimize', 'latency_ms': 'minimize'}}; got {value!r}.",
            name=name,
            value=value,
        )
    if not value:
        raise ConfigError(
            f"{name} must name at least one metric and its direction ('minimize' or "
            "'maximize'); got an empty dict (leave it out for one FoM).",
            name=name,
            value=value,
        )
    directions: dict[str, Direction] = {}
    for key, direction in value.items():
        if not isinstance(key, str) or not key.strip() or any(c in key for c in "\n\r"):
            raise ConfigError(
                f"{name} names must be non-empty one-line strings (the metric's name in the "
                f"output or the returned dict), got {key!r}.",
                name=name,
                value=key,
            )
        if direction not in DIRECTIONS:
            raise ConfigError(
                f"{name}[{key!r}] must be 'minimize' or 'maximize', got {direction!r}.",
                name=f"{name}.{key}",
                value=direction,
            )
        directions[key] = direction
    return directions


def _flag(name: str, value: Any) -> dict[str, str]:
    flags: dict[str, str] = string_mapping(what="a dict like {'nodes_per_evaluation': '--N'}")(
        name, value
    )
    for key, flag in flags.items():
        if key not in _FLAG_KEYS:
            raise ConfigError(
                f"{name} key {key!r} is not supported; allowed: {', '.join(_FLAG_KEYS)}.",
                name=f"{name}.{key}",
                value=key,
            )
        if not flag.strip() or any(c in flag for c in "=\n\0"):
            raise ConfigError(
                f"{name}[{key!r}] must be a flag such as '--N', got {flag!r}.",
                name=f"{name}.{key}",
                value=flag,
            )
    return flags


def _environment(name: str, value: Any) -> dict[str, str]:
    env: dict[str, str] = string_mapping()(name, value)
    for key, item in env.items():
        if not is_shell_name(key):
            raise ConfigError(
                f"{name} key {key!r} is not a portable environment variable name: use "
                "letters, digits and '_', not starting with a digit (POSIX names; job "
                "scripts export them through a shell).",
                name=f"{name}.{key}",
                value=key,
            )
        if "\0" in item:
            raise ConfigError(
                f"{name}[{key!r}] must not contain a NUL character.",
                name=f"{name}.{key}",
                value=item,
            )
    return env


def _durability(name: str, value: Any) -> str:
    """``"batch"``, ``"always"`` or ``"never"``; True and False mean always and never."""
    if isinstance(value, bool):
        return "always" if value else "never"
    if value not in ("batch", "always", "never"):
        error = ConfigError if isinstance(value, str) else ConfigTypeError
        raise error(
            f"{name} must be 'batch', 'always' or 'never' (or True/False), got {value!r}.",
            name=name,
            value=value,
        )
    return str(value)


def _early_stopping(name: str, value: Any) -> EarlyStopping | None:
    if value is None or isinstance(value, EarlyStopping):
        return value
    raise ConfigTypeError(
        f"{name} must be an early-stopping rule such as hyperdeme.ASHA(max_steps=27) "
        f"(a hyperdeme.EarlyStopping), or None; got {value!r}.",
        name=name,
        value=value,
    )


def _launch(name: str, value: Any) -> LauncherOptions:
    if not isinstance(value, LauncherOptions):
        raise ConfigTypeError(
            f"{name} must be a LauncherOptions, got {value!r}.", name=name, value=value
        )
    return value


@dataclass(frozen=True, kw_only=True)
class EvaluatorConfig(Config):
    """The Evaluator's settings; see :class:`hyperdeme.Evaluator` for each one."""

    #: a directory whose entries are linked into each trial's own working directory
    src_path: str = setting("", path_text)
    #: UNSET: not given (crayai warns when run_path is given without src_path)
    run_path: str | Unset = setting(UNSET, path_text)
    #: the prefix of the FoM in the output, or a dict metric name -> weight (the FoM is
    #: the weighted sum)
    metric: str | Mapping[str, float] = setting("FoM: ", _metric)
    #: whether the FoM is minimised (crayai) or maximised
    direction: Direction = setting("minimize", one_of(DIRECTIONS))
    #: several objectives, each metric's direction (None: one FoM, ``metric``); the
    #: first one's direction becomes ``direction`` (the FoM is its value)
    objectives: Mapping[str, Direction] | None = setting(None, _objectives)
    #: where checkpoints go; ``@checkpoint`` in the command is each evaluation's directory there
    checkpoint: str = setting("", path_text)
    #: evaluations at once (0: nodes // nodes_per_eval, at least 1)
    num_parallel_evals: int = setting(0, count(0))
    #: ``auto`` detects; or local, slurm, pbs, k8s, urika, a registered or plug-in launcher
    workload_manager: str = setting("auto", _launcher_name(("auto",), _manager_names))
    #: the backend by crayai's second name (``auto`` or ``wlm``: detect); as workload_manager
    launcher: str = setting("auto", _launcher_name(DETECT, _launcher_names))
    #: minutes for the whole run (0: no limit)
    timeout: float = setting(0.0, number(0.0, infinite=True, unit="minutes"), unit="minutes")
    #: {'nodes_per_evaluation': '--N'}: the hyperparameter --N sets each evaluation's nodes
    flag: Mapping[str, str] = setting({}, _flag, factory=dict)
    #: print the run's events as human lines on stderr
    verbose: bool = setting(False, boolean)
    #: attempts after the first when one fails, has no FoM or times out
    num_retries: int = setting(0, count(0))
    #: extra environment variables for each evaluation
    env: Mapping[str, str] = setting({}, _environment, factory=dict)
    #: seconds before the second attempt; it doubles up to a minute
    retry_delay: float = setting(1.0, number(0.0, unit="seconds"), unit="seconds")
    #: journal durability against OS crashes: "batch" (group commit), "always", "never"
    fsync: Durability = setting("batch", _durability)
    #: where a plain evaluation function runs: "thread" or "process" (killable)
    function_runs_in: str = setting("thread", one_of(("thread", "process")))
    #: stops trials whose intermediate FoMs are hopeless (None: every trial runs to its end)
    early_stopping: EarlyStopping | None = setting(None, _early_stopping)
    launch: LauncherOptions = setting(LauncherOptions(), _launch, factory=LauncherOptions)
    #: device ids ([0, 1, 2, 3] or "auto") each evaluation holds ``gpus_per_eval`` of
    gpus: Gpus = setting(None, check_gpus)
    #: devices each evaluation holds (1 with ``gpus``); on launcher "k8s", without
    #: ``gpus``, the GPUs each pod asks the cluster for
    gpus_per_eval: int | Unset = setting(UNSET, count(1))

    def _validate(self) -> None:
        self._check_gpus()
        if self.objectives:  # the FoM is the first objective's value
            object.__setattr__(self, "direction", next(iter(self.objectives.values())))
        if self.workload_manager == "local" and self.launch.nodes > 1:
            raise ConfigError(
                f"nodes={self.launch.nodes} needs a workload manager; workload_manager='local' "
                "runs on this machine only (use nodes=0 or 1, or 'slurm'/'pbs'/'k8s').",
                name="nodes",
                value=self.launch.nodes,
            )
        named = self.named_launcher
        if named is not None:
            check(named, self.launch)

    def _check_gpus(self) -> None:
        if self.named_launcher == "k8s":
            if self.gpus is not None:
                raise ConfigError(
                    f"gpus={self.gpus!r} names device ids of this machine, but launcher 'k8s' "
                    "gets GPUs from the cluster: leave gpus out and pass gpus_per_eval=N, "
                    "and each pod asks for N (resources.limits, launcher_options "
                    "gpu_resource, default nvidia.com/gpu).",
                    name="gpus",
                    value=self.gpus,
                )
            return
        if self.gpus is None:
            if self.gpus_per_eval is not UNSET:
                raise ConfigError(
                    f"gpus_per_eval={self.gpus_per_eval} needs gpus, the pool of device ids "
                    "to take them from: gpus=[0, 1, 2, 3] or gpus='auto' (on launcher 'k8s' "
                    "it is what each pod asks the cluster for, without gpus).",
                    name="gpus_per_eval",
                    value=self.gpus_per_eval,
                )
            return
        if self.gpus != "auto":
            check_gpus_per_eval(self.gpus_per_eval_count, self.gpus)
        if self.launch.nodes_per_eval > 1:
            raise ConfigError(
                f"gpus= gives each evaluation devices of one node; nodes_per_eval="
                f"{self.launch.nodes_per_eval} evaluations need the site's binding instead "
                "(srun --gpus-per-task in launch_args, a gres request): leave gpus out.",
                name="gpus",
                value=self.gpus,
            )
        clash = sorted(set(self.env) & set(DEVICE_VARIABLES))
        if clash:
            raise ConfigError(
                f"env sets {', '.join(clash)}, which gpus= sets for each evaluation (its own "
                "devices); leave it out of env.",
                name=f"env.{clash[0]}",
                value=self.env[clash[0]],
            )

    @property
    def gpus_per_eval_count(self) -> int:
        """Devices each evaluation takes (``gpus_per_eval``, 1 when not given)."""
        return 1 if isinstance(self.gpus_per_eval, Unset) else self.gpus_per_eval

    @property
    def cluster_gpus(self) -> int:
        """GPUs each evaluation asks the cluster for: ``gpus_per_eval`` given without
        ``gpus=`` (allowed on launcher 'k8s' only, whose pods request them); else 0."""
        if self.gpus is None and not isinstance(self.gpus_per_eval, Unset):
            return self.gpus_per_eval
        return 0

    @property
    def named_launcher(self) -> str | None:
        """The launcher the settings name, if they name one (else it is detected)."""
        if self.launcher not in DETECT:
            return self.launcher
        if self.workload_manager != "auto":
            return self.workload_manager
        return None

    @property
    def run_root(self) -> str:
        """``run_path``, or its default when not given."""
        return (
            self.run_path if isinstance(self.run_path, str) and self.run_path else DEFAULT_RUN_PATH
        )

    @property
    def nodes_per_eval_flag(self) -> str | None:
        return self.flag.get("nodes_per_evaluation")

    @property
    def time_budget(self) -> float:
        """The whole run's limit in seconds (inf: none)."""
        return self.timeout * 60 if self.timeout else math.inf

    def slots(self, total_nodes: int | None = None) -> int:
        """Evaluation slots: ``num_parallel_evals``, else nodes // nodes_per_eval, >= 1."""
        if self.num_parallel_evals:
            return self.num_parallel_evals
        nodes = total_nodes or self.launch.nodes
        return max(1, nodes // max(1, self.launch.nodes_per_eval))


def check_gpus_per_eval(per_eval: int, pool: tuple[str, ...]) -> None:
    """Refuse ``gpus_per_eval`` larger than the pool (``pool`` given, or found by "auto")."""
    if per_eval > len(pool):
        raise ConfigError(
            f"gpus_per_eval={per_eval} is more than the {len(pool)} devices of gpus="
            f"{list(pool)!r}; it must be between 1 and {len(pool)}.",
            name="gpus_per_eval",
            value=per_eval,
        )
