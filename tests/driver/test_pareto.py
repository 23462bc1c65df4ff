"""Several objectives end to end: the journal records them, a stopped run resumes
exactly, and a single FoM's journal stays as it was."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import hyperdeme
from hyperdeme import Status

SPACE = hyperdeme.Params([["--x", 0.5, (0.0, 1.0)], ["--y", 0.5, (0.0, 1.0)]])
OBJECTIVES = {"loss": "minimize", "accuracy": "maximize"}


def two(params: dict[str, Any]) -> dict[str, float]:
    x, y = params["--x"], params["--y"]
    return {"loss": x * x + y, "accuracy": 1 - (x - 1) ** 2 - y, "seconds": 0.5}


def make(tmp_path: Path, **options: Any) -> hyperdeme.Optimizer:
    evaluator = hyperdeme.Evaluator(two, run_path=str(tmp_path / "run"), objectives=OBJECTIVES)
    return hyperdeme.GeneticOptimizer(evaluator, max_evals=40, seed=3, name="exp", **options)


async def test_each_trial_records_every_objective_and_the_front_is_the_results(
    tmp_path: Path,
) -> None:
    result = await hyperdeme.optimize(make(tmp_path), SPACE)
    assert len(result.trials) == 40
    assert result.objectives == OBJECTIVES
    for trial in result.trials:
        assert list(trial.objectives) == ["loss", "accuracy"]  # the evaluator's order
        assert trial.fom == trial.objectives["loss"]  # the first objective's value
    # nothing lost: the journal holds what the run reported, objectives included
    journalled = hyperdeme.read_journal(result.journal_path or "")
    assert [(t.id, t.objectives) for t in journalled] == [
        (t.id, t.objectives) for t in result.trials
    ]
    header = json.loads((result.journal_path or Path()).read_text().splitlines()[0])
    assert header["fingerprint"]["objectives"] == OBJECTIVES
    front = result.pareto_front
    assert front
    assert all(t in result.trials for t in front)
    assert [t.objectives["loss"] for t in front] == sorted(t.objectives["loss"] for t in front)


async def test_a_stopped_pareto_search_resumes_to_exactly_the_uninterrupted_run(
    tmp_path: Path,
) -> None:
    whole = await hyperdeme.optimize(make(tmp_path / "whole"), SPACE)
    seen = []
    async with hyperdeme.stream(make(tmp_path / "parts"), SPACE) as trials:
        async for trial in trials:
            seen.append(trial)
            if len(seen) == 17:
                break
    resumed = await hyperdeme.optimize(make(tmp_path / "parts"), SPACE, resume=True)
    done = [t for t in resumed.trials if t.status is Status.OK]
    assert sorted((t.id, tuple(t.objectives.items())) for t in done) == sorted(
        (t.id, tuple(t.objectives.items())) for t in whole.trials
    )
    assert [t.id for t in resumed.pareto_front] == [t.id for t in whole.pareto_front]


async def test_a_changed_objective_is_refused_on_resume(tmp_path: Path) -> None:
    await hyperdeme.optimize(make(tmp_path), SPACE)
    evaluator = hyperdeme.Evaluator(
        two, run_path=str(tmp_path / "run"), objectives={"loss": "minimize", "accuracy": "minimize"}
    )
    optimizer = hyperdeme.GeneticOptimizer(evaluator, max_evals=40, seed=3, name="exp")
    with pytest.raises(
        hyperdeme.ConfigError, match=r"objectives\.accuracy: 'maximize' -> 'minimize'"
    ):
        await hyperdeme.optimize(optimizer, SPACE, resume=True)


async def test_a_single_fom_journal_has_no_objectives_anywhere(tmp_path: Path) -> None:
    evaluator = hyperdeme.Evaluator(
        lambda p: p["--x"], run_path=str(tmp_path / "run"), metric={"loss": 1.0}
    )
    optimizer = hyperdeme.RandomOptimizer(evaluator, num_iters=3, seed=1, name="one")
    result = await hyperdeme.optimize(optimizer, SPACE)
    text = (result.journal_path or Path()).read_text()
    assert '"objectives":' not in text
    assert result.objectives == {}
    assert all(t.objectives == {} for t in result.trials)
