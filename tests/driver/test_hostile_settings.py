"""Hostile values in settings: each a ConfigError naming the setting before any evaluation.

Found by probing every Evaluator and optimizer keyword with wrong types, NaN,
infinities, negative, huge (``10**400``), empty and non-ASCII values (issue 18):
these were an OverflowError, or an ENAMETOOLONG OSError once the run had started.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import hyperdeme

HUGE = 10**400  # past a float's range
LONG = "p" * 300  # past PC_NAME_MAX (255 bytes on Linux file systems)


def run(tmp_path: Path, evaluator: dict[str, Any], optimizer: dict[str, Any]) -> None:
    marker = tmp_path / "ran"
    (tmp_path / "src").mkdir(exist_ok=True)
    settings = {"run_path": str(tmp_path / "run"), "src_path": str(tmp_path / "src"), **evaluator}
    ev = hyperdeme.Evaluator(f"touch {marker}; echo FoM: 1", **settings)
    kind = optimizer.pop("kind", hyperdeme.RandomOptimizer)
    kind(ev, **optimizer).optimize(hyperdeme.Params([["--x", [1, 2, 3]]]))


@pytest.mark.parametrize(
    ("evaluator", "optimizer", "name"),
    [
        ({"timeout": HUGE}, {}, "timeout"),
        ({"eval_timeout": HUGE}, {}, "eval_timeout"),
        ({"retry_delay": HUGE}, {}, "retry_delay"),
        ({}, {"kind": hyperdeme.GeneticOptimizer, "mutation_rate": HUGE}, "mutation_rate"),
        ({}, {"kind": hyperdeme.GeneticOptimizer, "crossover_rate": HUGE}, "crossover_rate"),
        ({}, {"kind": hyperdeme.PBTOptimizer, "quantile": HUGE}, "quantile"),
        ({}, {"kind": hyperdeme.PBTOptimizer, "resample_probability": HUGE}, None),
        ({"run_path": LONG}, {}, "run_path"),
        ({"src_path": LONG}, {}, "src_path"),
        ({"checkpoint": LONG}, {}, "checkpoint"),
        ({"run_path": "/".join(["d" * 250] * 17)}, {}, "run_path"),
        ({}, {"name": LONG}, "name"),
        ({}, {"name": "é" * 128}, "name"),
        ({}, {"name": "n" * 5000}, "name"),  # past PATH_MAX too: stat() itself refuses it
        ({}, {"log_fn": LONG}, "log_fn"),
    ],
    ids=lambda v: str(v)[:30] if not isinstance(v, dict) else ",".join(v)[:30],
)
def test_a_hostile_setting_is_a_config_error_before_any_evaluation(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    evaluator: dict[str, Any],
    optimizer: dict[str, Any],
    name: str | None,
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(hyperdeme.ConfigError) as caught:
        run(tmp_path, evaluator, optimizer)
    if name is not None:
        assert caught.value.name == name
    assert not (tmp_path / "ran").exists()


def test_a_huge_number_is_shown_shortened() -> None:
    with pytest.raises(hyperdeme.ConfigError, match=r"got 10000000000000000000\.\.\. \(401 dig"):
        hyperdeme.Evaluator("true", timeout=HUGE)


@pytest.mark.parametrize(("name", "value"), [("pop_size", 10**26), ("num_demes", 2**63)])
def test_a_genetic_population_too_large_to_hold_is_a_config_error(name: str, value: int) -> None:
    """It hung, building a plan of every member (library and ``run --dry-run`` alike)."""
    evaluator = hyperdeme.Evaluator("true")
    with pytest.raises(hyperdeme.ConfigError, match=r"at most 10,000,000 members") as caught:
        hyperdeme.GeneticOptimizer(evaluator, generations=1, **{name: value})
    assert caught.value.name == name
