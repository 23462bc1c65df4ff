"""Pins the public API: a change here is a change of the contract."""

import hyperdeme
from hyperdeme import condition, hpo

EXPECTED = {
    "Candidate",
    "ConditionError",
    "ConfigError",
    "ConfigTypeError",
    "EvaluationError",
    "Evaluator",
    "Exit",
    "GeneticOptimizer",
    "GeneticSearch",
    "GridOptimizer",
    "GridSearch",
    "HyperdemeError",
    "Job",
    "Launcher",
    "LauncherError",
    "Optimizer",
    "Params",
    "RandomOptimizer",
    "RandomSearch",
    "Result",
    "Status",
    "Strategy",
    "TransientLauncherError",
    "Trial",
    "UsageError",
    "condition",
    "optimize",
    "read_journal",
    "register_launcher",
    "stream",
}


def test_all_is_pinned() -> None:
    assert set(hyperdeme.__all__) == EXPECTED


def test_every_exported_name_exists_and_is_public() -> None:
    for name in hyperdeme.__all__:
        member = getattr(hyperdeme, name)
        module = getattr(member, "__module__", "hyperdeme")
        assert module.startswith("hyperdeme"), name


def test_condition_module_has_the_crayai_classes() -> None:
    assert {"Condition", "equals", "not_equals", "greater_than", "less_than", "inside"} <= set(
        condition.__all__
    )


def test_hpo_is_a_crayai_drop_in() -> None:
    assert hpo.Params is hyperdeme.Params
    assert hpo.Evaluator is hyperdeme.Evaluator
    assert hpo.GeneticOptimizer is hyperdeme.GeneticOptimizer
    assert hpo.RandomOptimizer is hyperdeme.RandomOptimizer
    assert hpo.GridOptimizer is hyperdeme.GridOptimizer
    assert hpo.condition is condition
    assert hpo.genetic.Optimizer is hyperdeme.GeneticOptimizer
    assert hpo.random.Optimizer is hyperdeme.RandomOptimizer
    assert hpo.grid.Optimizer is hyperdeme.GridOptimizer


def test_errors_inherit_the_matching_builtin() -> None:
    assert issubclass(hyperdeme.ConfigError, ValueError)
    assert issubclass(hyperdeme.ConfigTypeError, TypeError)
    assert issubclass(hyperdeme.ConditionError, hyperdeme.ConfigError)
    assert issubclass(hyperdeme.EvaluationError, RuntimeError)
    assert issubclass(hyperdeme.UsageError, RuntimeError)
    assert issubclass(hyperdeme.TransientLauncherError, hyperdeme.LauncherError)
    for name in ("ConfigError", "EvaluationError", "LauncherError", "UsageError"):
        assert issubclass(getattr(hyperdeme, name), hyperdeme.HyperdemeError)
