"""A resumed run's hand-over to the event loop (issue 26): the loop's thread never
walks the replayed trials (the best and the failures are summed in the replay's
thread and kept as trials come), and the replayed strategy's history is freed in
a worker thread when the run ends, not on the loop's."""

from __future__ import annotations

import threading
import weakref
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

import hyperdeme
from hyperdeme._core._direction import Direction
from hyperdeme._driver import _result
from hyperdeme.strategies import Strategy

SPACE = hyperdeme.Params([["--x", 0.5, (0.0, 1.0)]])


def evaluate(params: dict[str, Any]) -> float:
    x = float(params["--x"])
    if x > 0.8:
        raise ValueError("a failed trial")
    return round(x, 1)  # ties: the earliest among equals is the best


class Watched(hyperdeme.RandomOptimizer):
    """Records the thread each of its strategies is freed in."""

    freed_in: list[str]

    def make_strategy(self, params: hyperdeme.Params, *, seed: int | None = None) -> Strategy:
        strategy = super().make_strategy(params, seed=seed)
        weakref.finalize(strategy, lambda: self.freed_in.append(threading.current_thread().name))
        return strategy


def optimizer(tmp_path: Path, num_iters: int, direction: Direction) -> Watched:
    evaluator = hyperdeme.Evaluator(
        evaluate, run_path=str(tmp_path), fsync=False, direction=direction
    )
    opt = Watched(evaluator, num_iters=num_iters, seed=5, name="e")
    opt.freed_in = []
    return opt


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
async def test_a_resumed_run_never_walks_its_trials_on_the_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, direction: Direction
) -> None:
    await hyperdeme.optimize(optimizer(tmp_path, 60, direction), SPACE)
    walks: list[str] = []
    best_of = _result.best_of

    def walking(trials: Any, how: Direction) -> Any:
        walks.append(threading.current_thread().name)
        return best_of(trials, how)

    monkeypatch.setattr(_result, "best_of", walking)
    opt = optimizer(tmp_path, 80, direction)
    with capture_logs() as logs:
        result = await hyperdeme.optimize(opt, SPACE, resume=True)
    assert walks == []  # neither Result.best_trial nor anything that scans all trials
    finished = next(log for log in logs if log["event"] == "run.finished")
    assert result.resumed == 60
    assert result.n_failed > 0  # the replayed failures are counted with the new ones
    assert (finished["best_fom"], finished["failed"]) == (result.best_fom, result.n_failed)
    generation = [log for log in logs if log["event"] == "run.generation"][-1]
    assert generation["best_trial"] == result.best_trial.id  # type: ignore[union-attr]


async def test_the_replayed_strategy_is_freed_off_the_loop(tmp_path: Path) -> None:
    await hyperdeme.optimize(optimizer(tmp_path, 30, "minimize"), SPACE)
    opt = optimizer(tmp_path, 40, "minimize")
    await hyperdeme.optimize(opt, SPACE, resume=True)
    loop_thread = threading.current_thread().name
    assert len(opt.freed_in) == 2  # the fingerprint's probe and the run's own, one each
    assert loop_thread not in opt.freed_in
