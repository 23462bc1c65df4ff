"""Config errors carry their subject as data: ``.name`` (the setting) and ``.value``."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import pytest

import hyperdeme
from hyperdeme import ASHA, ConfigError, ConfigTypeError, Evaluator, Params, condition

CMD = "python3 train.py"
SPACE = [["--opt", ["sgd", "adam"]], ["--m", (0.0, 1.0)]]


def _evaluator(**settings: Any) -> Callable[[], object]:
    return lambda: Evaluator(CMD, **settings)


def _k8s(**options: Any) -> Callable[[], object]:
    return _evaluator(launcher="k8s", workload_image="img", launcher_options=options)


def _conditions(*conditions: condition.Condition) -> Callable[[], object]:
    return lambda: Params(SPACE, list(conditions))


# (what fails, the error's exact class, .name, .value)
CASES: list[tuple[Callable[[], object], type[ConfigError], str | None, Any]] = [
    # optimizers
    (lambda: hyperdeme.GeneticOptimizer(mutation_rate=1.5), ConfigError, "mutation_rate", 1.5),
    (lambda: hyperdeme.GeneticOptimizer(pop_size="64"), ConfigTypeError, "pop_size", "64"),
    (
        lambda: hyperdeme.GeneticOptimizer(mul_mutation_bounds=(0.3, 0.2, 0.1)),
        ConfigError,
        "mul_mutation_bounds",
        (0.3, 0.2, 0.1),
    ),
    (lambda: hyperdeme.GeneticOptimizer(mode="batch"), ConfigError, "mode", "batch"),
    (lambda: hyperdeme.RandomOptimizer(num_iters=-1), ConfigError, "num_iters", -1),
    (lambda: hyperdeme.RandomOptimizer(num_iter=3), ConfigTypeError, "num_iter", 3),
    (lambda: hyperdeme.RandomOptimizer(seed=-2), ConfigError, "seed", -2),
    (lambda: hyperdeme.RandomOptimizer(name="a/b"), ConfigError, "name", "a/b"),
    (
        lambda: hyperdeme.RandomOptimizer(log_fn="trials.jsonl"),
        ConfigError,
        "log_fn",
        "trials.jsonl",
    ),
    (lambda: hyperdeme.RandomOptimizer(backend="curio"), ConfigError, "backend", "curio"),
    (lambda: hyperdeme.RandomOptimizer(CMD), ConfigTypeError, "evaluator", CMD),  # type: ignore[arg-type]
    (lambda: hyperdeme.GridOptimizer(grid_size=0), ConfigError, "grid_size", 0),
    (lambda: hyperdeme.PBTOptimizer(quantile=0.7), ConfigError, "quantile", 0.7),
    (lambda: hyperdeme.PBTOptimizer(perturb="up"), ConfigTypeError, "perturb", "up"),
    (lambda: hyperdeme.PBTOptimizer(perturb=(0.8, -1.0)), ConfigError, "perturb", -1.0),
    (lambda: hyperdeme.PBTOptimizer(Evaluator(CMD)), ConfigError, "evaluator", CMD),
    # the Evaluator
    (_evaluator(num_parallel_evals=-1), ConfigError, "num_parallel_evals", -1),
    (_evaluator(timeout="5"), ConfigTypeError, "timeout", "5"),
    (_evaluator(num_paralel_evals=2), ConfigTypeError, "num_paralel_evals", 2),
    (_evaluator(workload_manager="lsf"), ConfigError, "workload_manager", "lsf"),
    (_evaluator(fsync="sometimes"), ConfigError, "fsync", "sometimes"),
    (_evaluator(env={"1X": "v"}), ConfigError, "env.1X", "1X"),
    (_evaluator(env={"X": 1}), ConfigTypeError, "env", {"X": 1}),
    (_evaluator(flag={"gpus": "--g"}), ConfigError, "flag.gpus", "gpus"),
    (_evaluator(metric={"loss": "high"}), ConfigTypeError, "metric.loss", "high"),
    (_evaluator(metric=""), ConfigError, "metric", ""),
    (_evaluator(early_stopping="asha"), ConfigTypeError, "early_stopping", "asha"),
    (_evaluator(function_runs_in="process"), ConfigError, "function_runs_in", "process"),
    (_evaluator(workload_manager="local", nodes=4), ConfigError, "nodes", 4),
    (lambda: Evaluator(""), ConfigError, "cmd", ""),
    (lambda: Evaluator(3), ConfigTypeError, "cmd", 3),  # type: ignore[arg-type]
    # LauncherOptions, through the Evaluator
    (_evaluator(nodes=-1), ConfigError, "nodes", -1),
    (_evaluator(alloc_args="'open"), ConfigError, "alloc_args", "'open"),
    (_evaluator(eval_timeout=-1.0), ConfigError, "eval_timeout", -1.0),
    (_evaluator(launcher_options=[1]), ConfigTypeError, "launcher_options", [1]),
    (_k8s(namespace="Team_A"), ConfigError, "launcher_options.namespace", "Team_A"),
    (_k8s(namespace=3), ConfigTypeError, "launcher_options.namespace", 3),
    (_k8s(pod_overrides=3), ConfigTypeError, "launcher_options.pod_overrides", 3),
    (_evaluator(launcher="k8s"), ConfigError, "workload_image", ""),
    (
        _evaluator(launcher="pbs", launcher_options={"pbs_flavour": "lsf"}),
        ConfigError,
        "launcher_options.pbs_flavour",
        "lsf",
    ),
    (
        _evaluator(launcher="pbs", launcher_options={"poll_interval": 0}),
        ConfigError,
        "launcher_options.poll_interval",
        0,
    ),
    # early stopping
    (lambda: ASHA(max_steps=1), ConfigError, "max_steps", 1),
    (lambda: ASHA(max_steps=9, min_steps=9), ConfigError, "min_steps", 9),
    (lambda: ASHA(max_step=9), ConfigTypeError, "max_step", 9),  # type: ignore[call-arg]
    (lambda: ASHA(), ConfigTypeError, "max_steps", None),  # type: ignore[call-arg]
    # Params: the flag
    (lambda: Params([["--lr", (1.0, 0.1)]]), ConfigError, "--lr", (1.0, 0.1)),
    (lambda: Params([["--lr", (0.0, 1.0), {"log": True}]]), ConfigError, "--lr", (0.0, 1.0)),
    (lambda: Params([["--lr", 5.0, (0.1, 1.0)]]), ConfigError, "--lr", 5.0),
    (lambda: Params([["--lr", ("a", 1.0)]]), ConfigTypeError, "--lr", "a"),
    (lambda: Params([["--lr", (0.1, 1.0), {"log": "yes"}]]), ConfigTypeError, "--lr", "yes"),
    (lambda: Params([["--lr", (0.1, 1.0), {"lgo": True}]]), ConfigError, "--lr", "lgo"),
    (lambda: Params([["--opt", ["a", "a"]]]), ConfigError, "--opt", "a"),
    (lambda: Params([["--opt", "c", ["a", "b"]]]), ConfigError, "--opt", "c"),
    (lambda: Params([["--opt", ["a"], {"log": True}]]), ConfigError, "--opt", ["a"]),
    (lambda: Params([["--opt", {"a", "b"}]]), ConfigTypeError, "--opt", {"a", "b"}),
    (lambda: Params([["--lr", (0, 1)], ["--lr", (0, 1)]]), ConfigError, "--lr", "--lr"),
    (lambda: Params("--lr"), ConfigTypeError, "spec", "--lr"),  # type: ignore[arg-type]
    (lambda: Params([]), ConfigError, "spec", []),
    # a flag that cannot be one names no setting; its value is the flag
    (lambda: Params([["a=b", (0, 1)]]), ConfigError, None, "a=b"),
    (lambda: Params([[3, (0, 1)]]), ConfigTypeError, None, 3),
    # conditions: the flag whose domain the value misses
    (
        _conditions(condition.equals("--m", "--opt", "adagrad")),
        hyperdeme.ConditionError,
        "--opt",
        "adagrad",
    ),
    (
        _conditions(condition.greater_than("--opt", "--m", 2.0)),
        hyperdeme.ConditionError,
        "--m",
        2.0,
    ),
    (
        _conditions(condition.equals("--m", "--opt", "sgd", 7.0)),
        hyperdeme.ConditionError,
        "--m",
        7.0,
    ),
    (_conditions(condition.equals("--m", "--x", 1)), hyperdeme.ConditionError, None, "--x"),
    (
        lambda: condition.Condition("--m", "--opt", "sgd", operator="~"),
        hyperdeme.ConditionError,
        "operator",
        "~",
    ),
    (lambda: Params(SPACE, "x"), ConfigTypeError, "conditions", "x"),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("make", "kind", "name", "value"), CASES)
def test_a_config_error_names_the_setting_and_holds_the_value(
    make: Callable[[], object], kind: type[ConfigError], name: str | None, value: Any
) -> None:
    with pytest.raises(ConfigError) as caught:
        make()
    assert type(caught.value) is kind
    assert caught.value.name == name
    assert caught.value.value == value


def test_a_wrong_type_is_a_config_type_error_also_at_run_time() -> None:
    with pytest.raises(ConfigTypeError, match=r"params must be a hyperdeme\.Params") as caught:
        hyperdeme.RandomOptimizer(Evaluator(CMD)).optimize([["--lr", (0.0, 1.0)]])  # type: ignore[arg-type]
    assert (caught.value.name, caught.value.value) == ("params", [["--lr", (0.0, 1.0)]])
    with pytest.raises(ConfigTypeError, match="needs a class or function") as caught:
        hyperdeme.register_launcher("mine")("not a launcher")  # type: ignore[type-var]
    assert (caught.value.name, caught.value.value) == ("factory", "not a launcher")
    with pytest.raises(ConfigTypeError, match="a launcher name must be an identifier"):
        hyperdeme.register_launcher(3)  # type: ignore[arg-type]


def test_the_message_stays_a_sentence_and_name_and_value_default_to_none() -> None:
    plain = ConfigError("something is wrong.")
    assert (str(plain), plain.name, plain.value) == ("something is wrong.", None, None)
    error = ConfigTypeError(
        "pop_size must be an integer >= 2, got '3'.", name="pop_size", value="3"
    )
    assert str(error) == "pop_size must be an integer >= 2, got '3'."
    assert isinstance(error, TypeError)
    assert isinstance(error, ValueError)


def test_name_and_value_survive_pickling() -> None:
    error = ConfigError(
        "mutation_rate must be in [0, 1], got 1.5.", name="mutation_rate", value=1.5
    )
    copy = pickle.loads(pickle.dumps(error))
    assert (str(copy), copy.name, copy.value) == (str(error), "mutation_rate", 1.5)
