"""Evaluating a Python function: coroutine functions awaited, plain ones in a thread."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import anyio
import pytest

import hyperdeme
from hyperdeme import Params, Result, Status, read_journal

SPACE = Params([["--x", 0.5, (0.0, 1.0)], ["--n", 3, (1, 10)]])


async def run(tmp_path: Path, function: Any, *, num_iters: int = 1, **settings: Any) -> Result:
    evaluator = hyperdeme.Evaluator(function, run_path=str(tmp_path / "run"), **settings)
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=num_iters, seed=3, name="exp")
    return await hyperdeme.optimize(opt, SPACE)


async def test_a_coroutine_function_is_awaited_in_the_loop(tmp_path: Path) -> None:
    threads: set[int] = set()

    async def evaluate(params: dict[str, Any]) -> float:
        threads.add(threading.get_ident())
        await anyio.lowlevel.checkpoint()
        return float(params["--x"] ** 2)

    result = await run(tmp_path, evaluate, num_iters=5, num_parallel_evals=2)
    assert all(t.ok and t.fom == t.params["--x"] ** 2 for t in result.trials)
    assert threads == {threading.get_ident()}
    assert len(read_journal(tmp_path / "run" / "exp")) == 5


async def test_a_plain_function_runs_in_a_worker_thread(tmp_path: Path) -> None:
    threads: set[int] = set()

    def evaluate(params: dict[str, Any]) -> int:
        threads.add(threading.get_ident())
        return int(params["--n"])

    result = await run(tmp_path, evaluate, num_iters=3)
    assert all(t.ok and t.fom == t.params["--n"] for t in result.trials)
    assert threading.get_ident() not in threads


async def test_an_exception_is_a_failed_trial_with_its_traceback(tmp_path: Path) -> None:
    def evaluate(params: dict[str, Any]) -> float:
        return 1 / 0

    result = await run(tmp_path, evaluate, num_retries=1, retry_delay=0)
    [trial] = result.trials
    assert (trial.status, trial.returncode, trial.attempts) == (Status.FAILED, 1, 2)
    assert trial.error.startswith("Traceback (most recent call last):")
    assert "in evaluate" in trial.error
    assert trial.error.endswith("ZeroDivisionError: division by zero")
    assert read_journal(tmp_path / "run" / "exp")[0].error == trial.error


async def test_a_dict_of_metrics_is_weighted(tmp_path: Path) -> None:
    async def evaluate(params: dict[str, Any]) -> dict[str, float]:
        return {"loss": 2.0, "accuracy": 0.9, "ignored": 5.0}

    result = await run(tmp_path, evaluate, metric={"loss": 1.0, "accuracy": -2.0})
    [trial] = result.trials
    assert trial.metrics == {"loss": 2.0, "accuracy": 0.9, "ignored": 5.0}
    assert trial.fom == pytest.approx(2.0 - 1.8)


async def test_a_missing_metric_in_the_dict_is_no_metric(tmp_path: Path) -> None:
    async def evaluate(params: dict[str, Any]) -> dict[str, float]:
        return {"loss": 2.0}

    result = await run(tmp_path, evaluate, metric={"loss": 1.0, "time": 1.0})
    assert result.trials[0].status is Status.NO_METRIC


@pytest.mark.parametrize("returned", ["0.5", [1.0], {"loss": "low"}, {"loss": None}])
async def test_a_result_that_is_not_a_number_is_a_failed_trial(
    tmp_path: Path, returned: Any
) -> None:
    async def evaluate(params: dict[str, Any]) -> Any:
        return returned

    result = await run(tmp_path, evaluate, metric={"loss": 1.0})
    [trial] = result.trials
    assert trial.status is Status.FAILED
    assert "must return a number" in trial.error


async def test_nan_is_no_metric(tmp_path: Path) -> None:
    async def evaluate(params: dict[str, Any]) -> float:
        return float("nan")

    result = await run(tmp_path, evaluate)
    assert result.trials[0].status is Status.NO_METRIC


@pytest.mark.parametrize("asynchronous", [True, False])
async def test_returning_none_is_a_failed_trial_saying_what_to_return(
    tmp_path: Path, asynchronous: bool
) -> None:
    """Not "metric missing": a function that forgot its ``return`` is told so."""

    async def coroutine(params: dict[str, Any]) -> None:
        pass

    def plain(params: dict[str, Any]) -> None:
        pass

    result = await run(tmp_path, coroutine if asynchronous else plain, num_retries=1,
                       retry_delay=0)  # fmt: skip
    [trial] = result.trials
    assert (trial.status, trial.returncode, trial.attempts) == (Status.FAILED, 1, 2)
    name = "coroutine" if asynchronous else "plain"
    assert trial.error == (
        f"test_returning_none_is_a_failed_trial_saying_what_to_return.<locals>.{name} "
        "returned None; an evaluation function must return a number (the figure of merit) "
        "or a dict of metrics such as {'loss': 0.25}. Is a return statement missing?"
    )
    assert "metric" not in trial.error.split(";")[0]
    assert read_journal(tmp_path / "run" / "exp")[0].error == trial.error


async def test_callables_leave_no_trial_directories(tmp_path: Path) -> None:
    async def evaluate(params: dict[str, Any]) -> float:
        return 1.0

    await run(tmp_path, evaluate, num_iters=2)
    assert sorted(p.name for p in (tmp_path / "run" / "exp").iterdir()) == [".lock", "trials.jsonl"]


UNGUARDED = """
import sys
import hyperdeme

def evaluate(params):
    return params["--x"]

# no `if __name__ == "__main__":` guard: every worker process runs this again
evaluator = hyperdeme.Evaluator(
    evaluate, function_runs_in="process", run_path=sys.argv[1], fsync=False
)
opt = hyperdeme.RandomOptimizer(evaluator, num_iters=3, name="e")
opt.optimize(hyperdeme.Params([["--x", 0.5, (0.0, 1.0)]]))
"""


def test_a_script_without_a_main_guard_is_told_to_add_one(tmp_path: Path) -> None:
    """A worker process imports the script again, which starts another run and breaks
    the worker: each trial says what to do instead of an opaque BrokenWorkerProcess."""
    import os
    import subprocess
    import sys

    script = tmp_path / "unguarded.py"
    script.write_text(UNGUARDED)
    subprocess.run(
        [sys.executable, str(script), str(tmp_path / "run")],
        capture_output=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        check=False,  # it fails fast: every trial failed
    )
    trials = read_journal(tmp_path / "run" / "e")
    assert trials
    assert {t.status for t in trials} == {Status.FAILED}
    assert all("if __name__ == '__main__':" in t.error for t in trials)
