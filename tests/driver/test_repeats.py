"""End to end with a callable: no point is evaluated twice, a finite space ends the run
with a line saying so, resume keeps the points done, and a retry is not a repeat."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

import hyperdeme
from hyperdeme import Status

#: 3 x 4 = 12 points
TWELVE = hyperdeme.Params([["--a", 1, [1, 2, 3]], ["--b", 0, (0, 3)]])
MIXED = hyperdeme.Params(
    [
        ["--lr", 1e-3, (1e-5, 1e-1), {"log": True}],
        ["--opt", "sgd", ["sgd", "adam", "rmsprop"]],
        ["--layers", 2, (1, 4)],
        ["--momentum", 0.9, [0.0, 0.5, 0.9, 0.99]],
    ],
    conditions=[hyperdeme.condition.equals("--momentum", "--opt", "sgd")],
)
calls: list[dict[str, Any]] = []


def objective(params: dict[str, Any]) -> float:
    calls.append(dict(params))
    return float(sum(v for v in params.values() if isinstance(v, int | float)))


def key(params: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((flag, repr(value)) for flag, value in params.items()))


def evaluator(tmp_path: Path, **kwargs: Any) -> hyperdeme.Evaluator:
    return hyperdeme.Evaluator(objective, run_path=str(tmp_path / "run"), **kwargs)


@pytest.mark.parametrize("kind", ["random", "genetic"])
async def test_a_12_point_space_runs_12_trials_and_says_so(tmp_path: Path, kind: str) -> None:
    ev = evaluator(tmp_path, num_parallel_evals=3)
    optimizer = (
        hyperdeme.RandomOptimizer(ev, num_iters=50, seed=4)
        if kind == "random"
        else hyperdeme.GeneticOptimizer(ev, max_evals=50, seed=4)
    )
    with capture_logs() as logs:
        result = await hyperdeme.optimize(optimizer, TWELVE)
    assert len(result.trials) == 12
    assert len({key(t.params) for t in result.trials}) == 12
    assert (result.space_size, result.space_exhausted) == (12, True)
    [event] = [e for e in logs if e["event"] == "search_space.exhausted"]
    assert event["points"] == 12
    assert event["message"] == "the search space has 12 points; all 12 were evaluated"


async def test_a_run_that_does_not_cover_its_space_does_not_claim_it(tmp_path: Path) -> None:
    optimizer = hyperdeme.RandomOptimizer(evaluator(tmp_path), num_iters=11, seed=4)
    with capture_logs() as logs:
        result = await hyperdeme.optimize(optimizer, TWELVE)
    assert len(result.trials) == 11
    assert (result.space_size, result.space_exhausted) == (12, False)
    assert not [e for e in logs if e["event"] == "search_space.exhausted"]


async def test_resuming_after_30_of_60_repeats_none_of_the_first_30(tmp_path: Path) -> None:
    def make() -> hyperdeme.GeneticOptimizer:
        ev = evaluator(tmp_path, num_parallel_evals=1)
        return hyperdeme.GeneticOptimizer(ev, max_evals=60, seed=3, name="exp")

    calls.clear()
    async with hyperdeme.stream(make(), MIXED) as trials:
        async for trial in trials:
            if trial.id == 30:
                break
    first = [dict(c) for c in calls]
    result = await hyperdeme.optimize(make(), MIXED, resume=True)
    assert len(result.trials) == 60
    assert len(calls) - len(first) <= 31  # the rest, and perhaps the trial the stop cancelled
    counts = Counter(key(t.params) for t in result.trials)
    assert max(counts.values()) == 1
    finished_first = {key(t.params) for t in result.trials if t.id <= 30}
    assert not finished_first & {key(p) for p in calls[len(first) :]}


async def test_a_retried_failure_is_one_trial_not_a_repeat(tmp_path: Path) -> None:
    failed_once: set[tuple[tuple[str, str], ...]] = set()

    def flaky(params: dict[str, Any]) -> float:
        if key(params) not in failed_once:
            failed_once.add(key(params))
            raise RuntimeError("a transient failure")
        return objective(params)

    ev = hyperdeme.Evaluator(flaky, run_path=str(tmp_path / "run"), num_retries=1, retry_delay=0)
    result = await hyperdeme.optimize(hyperdeme.RandomOptimizer(ev, num_iters=50, seed=1), TWELVE)
    assert len(result.trials) == 12
    assert all((t.status, t.attempts) == (Status.OK, 2) for t in result.trials)
    assert result.space_exhausted
