"""Budgets that grow: resume with a larger num_iters, max_evals or generations.

The finished trials are kept (their journal lines untouched, never run again),
the strategy is rebuilt by replaying them and goes on to the new budget; only
the budget may change, and a budget smaller than what was spent is refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

import hyperdeme

SPACE = hyperdeme.Params(
    [["--x", 0.9, (0.0, 1.0)], ["--n", 1, (1, 10)], ["--act", "relu", ["relu", "tanh"]]]
)
calls: list[dict[str, Any]] = []


def quadratic(params: dict[str, Any]) -> float:
    calls.append(dict(params))
    return float((params["--x"] - 0.3) ** 2 + 0.1 * (params["--n"] - 5) ** 2)


def make(kind: str, tmp_path: Path, budget: int, **settings: Any) -> hyperdeme.Optimizer:
    evaluator = hyperdeme.Evaluator(quadratic, run_path=str(tmp_path / "run"), fsync=False)
    if kind == "random":
        return hyperdeme.RandomOptimizer(
            evaluator, num_iters=budget, seed=3, name="exp", **settings
        )
    if kind == "genetic-generations":
        return hyperdeme.GeneticOptimizer(
            evaluator, num_demes=2, pop_size=4, generations=budget, seed=3, name="exp", **settings
        )
    return hyperdeme.GeneticOptimizer(evaluator, max_evals=budget, seed=3, name="exp", **settings)


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def asked(path: Path) -> list[tuple[int, Any]]:
    """(id, genes) of the journal's started records, in order."""
    records = [json.loads(line) for line in lines(path)]
    return [(r["id"], r["genes"]) for r in records if r["type"] == "started"]


@pytest.mark.parametrize(("kind", "before", "after"), [("random", 40, 60), ("genetic", 40, 60)])
async def test_a_larger_budget_continues_the_experiment(
    tmp_path: Path, kind: str, before: int, after: int
) -> None:
    first = await hyperdeme.optimize(make(kind, tmp_path, before), SPACE)
    path = first.journal_path
    assert path is not None
    assert len(first.trials) == before
    kept = lines(path)
    calls.clear()
    with capture_logs() as logs:
        grown = await hyperdeme.optimize(make(kind, tmp_path, after), SPACE, resume=True)
    assert [t.id for t in grown.trials] == list(range(1, after + 1))
    assert lines(path)[: len(kept)] == kept  # the first trials untouched
    assert len(calls) == after - before  # none of them run again
    changed = [e for e in logs if e["event"] == "run.budget_changed"]
    assert len(changed) == 1
    # the search went on where it stood: what a run with the larger budget from the
    # start asks (one slot: the order of results is the order of asks)
    fresh = await hyperdeme.optimize(make(kind, tmp_path / "fresh", after), SPACE)
    assert fresh.journal_path is not None
    assert asked(path) == asked(fresh.journal_path)


@pytest.mark.parametrize(("mode", "sizes"), [("steady", (24, 40)), ("generational", (20, 32))])
async def test_more_generations_continue_the_experiment(
    tmp_path: Path, mode: str, sizes: tuple[int, int]
) -> None:
    first = await hyperdeme.optimize(make("genetic-generations", tmp_path, 3, mode=mode), SPACE)
    assert len(first.trials) == sizes[0]
    grown = await hyperdeme.optimize(
        make("genetic-generations", tmp_path, 5, mode=mode), SPACE, resume=True
    )
    fresh = await hyperdeme.optimize(
        make("genetic-generations", tmp_path / "f", 5, mode=mode), SPACE
    )
    assert len(grown.trials) == len(fresh.trials) == sizes[1]
    assert first.journal_path is not None
    assert fresh.journal_path is not None
    assert asked(first.journal_path) == asked(fresh.journal_path)


async def test_a_budget_smaller_than_spent_is_refused(tmp_path: Path) -> None:
    await hyperdeme.optimize(make("random", tmp_path, 40), SPACE)
    with pytest.raises(hyperdeme.ConfigError, match=r"at least 40") as caught:
        await hyperdeme.optimize(make("random", tmp_path, 30), SPACE, resume=True)
    assert caught.value.name == "num_iters"
    assert caught.value.value == 30
    assert "with a budget of 30 evaluations (num_iters=30): it already holds 40" in str(
        caught.value
    )
    calls.clear()
    same = await hyperdeme.optimize(make("random", tmp_path, 40), SPACE, resume=True)
    assert len(same.trials) == 40
    assert calls == []


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"mutation_rate": 0.3}, "strategy.settings.mutation_rate: 0.05 -> 0.3"),
        ({"mode": "generational"}, "strategy.settings.mode"),
    ],
)
async def test_a_changed_setting_besides_the_budget_is_still_refused(
    tmp_path: Path, change: dict[str, Any], named: str
) -> None:
    await hyperdeme.optimize(make("genetic", tmp_path, 20), SPACE)
    with pytest.raises(hyperdeme.ConfigError, match="cannot resume") as caught:
        await hyperdeme.optimize(make("genetic", tmp_path, 30, **change), SPACE, resume=True)
    assert named in str(caught.value)
    assert "only the budget (max_evals, generations) may change" in str(caught.value)


async def test_without_a_name_the_experiment_with_another_budget_is_found(
    tmp_path: Path,
) -> None:
    evaluator = hyperdeme.Evaluator(quadratic, run_path=str(tmp_path), fsync=False)
    first = await hyperdeme.optimize(
        hyperdeme.RandomOptimizer(evaluator, num_iters=5, seed=4), SPACE
    )
    again = hyperdeme.RandomOptimizer(evaluator, num_iters=8, seed=4)
    grown = await hyperdeme.optimize(again, SPACE, resume=True)
    assert grown.journal_path == first.journal_path
    assert len(grown.trials) == 8
