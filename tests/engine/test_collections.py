"""Full garbage collections are rarer while runs go on, and put back after the last."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest

import hyperdeme
from hyperdeme._engine._collections import FULL_EVERY, fewer_full_collections


@pytest.fixture(autouse=True)
def default_thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_a_run_raises_the_full_threshold_and_puts_it_back() -> None:
    with fewer_full_collections():
        assert gc.get_threshold() == (700, 10, FULL_EVERY)
    assert gc.get_threshold() == (700, 10, 10)


def test_it_is_put_back_when_the_last_of_several_runs_ends() -> None:
    with fewer_full_collections():
        with fewer_full_collections():
            assert gc.get_threshold()[2] == FULL_EVERY
        assert gc.get_threshold()[2] == FULL_EVERY  # the outer run still goes on
    assert gc.get_threshold()[2] == 10


def test_a_higher_threshold_of_the_application_stays() -> None:
    gc.set_threshold(700, 10, 5_000)
    with fewer_full_collections():
        assert gc.get_threshold()[2] == 5_000
    assert gc.get_threshold()[2] == 5_000


def test_a_threshold_set_during_the_run_is_not_overwritten() -> None:
    with fewer_full_collections():
        gc.set_threshold(700, 10, 42)
    assert gc.get_threshold()[2] == 42


def test_a_failing_run_puts_it_back() -> None:
    with pytest.raises(RuntimeError), fewer_full_collections():
        raise RuntimeError("boom")
    assert gc.get_threshold()[2] == 10


async def test_the_scheduler_runs_under_it(tmp_path: Path) -> None:
    seen: list[int] = []

    async def objective(params: dict[str, float]) -> float:
        seen.append(gc.get_threshold()[2])
        await anyio.lowlevel.checkpoint()
        return params["--x"]

    evaluator = hyperdeme.Evaluator(objective, num_parallel_evals=2, run_path=str(tmp_path))
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=4, seed=1)
    await hyperdeme.optimize(opt, hyperdeme.Params([["--x", (0.0, 1.0)]]))
    assert seen == [FULL_EVERY] * 4
    assert gc.get_threshold()[2] == 10
