"""Pins the public API: a change here is a change of the contract."""

import hyperdeme
from hyperdeme import condition, hpo

EXPECTED = {
    "ASHA",
    "AllocationEnded",
    "CMAESOptimizer",
    "CMAESSearch",
    "Candidate",
    "CheckpointPlan",
    "Choice",
    "ConditionError",
    "ConfigError",
    "ConfigTypeError",
    "EarlyStopping",
    "EvaluationError",
    "Evaluator",
    "Exit",
    "GeneticOptimizer",
    "GeneticSearch",
    "GridOptimizer",
    "GridSearch",
    "GridAxis",
    "HyperdemeError",
    "HyperdemeWarning",
    "Job",
    "JournalError",
    "Launcher",
    "LauncherError",
    "LauncherOptions",
    "Optimizer",
    "OptunaOptimizer",
    "OptunaSearch",
    "PBTOptimizer",
    "PBTSearch",
    "Parameter",
    "Params",
    "RandomOptimizer",
    "Range",
    "RandomSearch",
    "Result",
    "Status",
    "Stopped",
    "Strategy",
    "TransientLauncherError",
    "Trial",
    "TrialContext",
    "UsageError",
    "aread_journal",
    "condition",
    "optimize",
    "read_journal",
    "register_launcher",
    "stream",
}


def test_all_is_pinned() -> None:
    assert set(hyperdeme.__all__) == EXPECTED


def test_every_exported_name_reports_the_public_module() -> None:
    """As anyio's do: reprs and tracebacks show ``hyperdeme.ConfigError``."""
    for name in hyperdeme.__all__:
        member = getattr(hyperdeme, name)
        if name in ("condition",):
            assert member.__name__ == "hyperdeme.condition"
            continue
        if name == "Parameter":  # a type alias, Range | Choice
            assert member == hyperdeme.Range | hyperdeme.Choice
            continue
        assert member.__module__ == "hyperdeme", name
    assert repr(hyperdeme.ConfigError("x")) == "ConfigError('x')"
    assert f"{hyperdeme.ConfigError.__module__}.{hyperdeme.ConfigError.__qualname__}" == (
        "hyperdeme.ConfigError"
    )
    for name in condition.__all__:
        assert getattr(condition, name).__module__ == "hyperdeme.condition", name


def test_subpackage_names_report_their_subpackage() -> None:
    from hyperdeme import early_stopping, launchers, strategies

    assert strategies.GeneticConfig.__module__ == "hyperdeme.strategies"
    assert strategies.ConcurrencyLimiter.__module__ == "hyperdeme.strategies"
    assert strategies.PBTConfig.__module__ == "hyperdeme.strategies"
    assert launchers.LauncherOptions.__module__ == "hyperdeme"  # also exported at the root
    assert launchers.resolve.__module__ == "hyperdeme.launchers"
    assert early_stopping.EarlyStoppingState.__module__ == "hyperdeme.early_stopping"
    assert early_stopping.ASHA is hyperdeme.ASHA


def test_condition_module_has_the_crayai_classes() -> None:
    assert {"Condition", "equals", "not_equals", "greater_than", "less_than", "inside"} <= set(
        condition.__all__
    )


def test_hpo_is_a_crayai_drop_in() -> None:
    assert hpo.Params is hyperdeme.Params
    assert hpo.Evaluator is hyperdeme.Evaluator
    # hpo's optimizers are hyperdeme's, printing what crayai printed (hpo/_console.py)
    assert issubclass(hpo.GeneticOptimizer, hyperdeme.GeneticOptimizer)
    assert issubclass(hpo.RandomOptimizer, hyperdeme.RandomOptimizer)
    assert issubclass(hpo.GridOptimizer, hyperdeme.GridOptimizer)
    assert issubclass(hpo.PBTOptimizer, hyperdeme.PBTOptimizer)
    assert hpo.GeneticOptimizer.__module__ == "hyperdeme.hpo"
    assert hpo.condition is condition
    assert hpo.genetic.Optimizer is hpo.GeneticOptimizer
    assert hpo.random.Optimizer is hpo.RandomOptimizer
    assert hpo.grid.Optimizer is hpo.GridOptimizer
    assert hpo.pbt.Optimizer is hpo.PBTOptimizer


def test_errors_inherit_the_matching_builtin() -> None:
    assert issubclass(hyperdeme.ConfigError, ValueError)
    assert issubclass(hyperdeme.ConfigTypeError, TypeError)
    assert issubclass(hyperdeme.ConditionError, hyperdeme.ConfigError)
    assert issubclass(hyperdeme.EvaluationError, RuntimeError)
    assert issubclass(hyperdeme.UsageError, RuntimeError)
    assert issubclass(hyperdeme.TransientLauncherError, hyperdeme.LauncherError)
    assert issubclass(hyperdeme.AllocationEnded, hyperdeme.LauncherError)
    assert not issubclass(hyperdeme.AllocationEnded, hyperdeme.TransientLauncherError)
    assert issubclass(hyperdeme.ConfigTypeError, hyperdeme.ConfigError)
    assert issubclass(hyperdeme.JournalError, OSError)
    assert issubclass(hyperdeme.HyperdemeWarning, UserWarning)
    for name in ("ConfigError", "EvaluationError", "JournalError", "LauncherError", "UsageError"):
        assert issubclass(getattr(hyperdeme, name), hyperdeme.HyperdemeError)
