"""How a clean exit's output becomes an ending: a FoM read whole or refused naming the
line; an infinite FoM judged by the direction; a returned value no float can hold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fakes import FakeLauncher
from hyperdeme import (
    Candidate,
    EvaluationError,
    Evaluator,
    Exit,
    Job,
    Params,
    RandomOptimizer,
    Status,
    Trial,
    optimize,
)
from hyperdeme._engine._journal import Journal
from hyperdeme._engine._runner import TrialRunner
from hyperdeme._engine._slots import Scheduler
from hyperdeme._engine._workspace import Workspace
from hyperdeme.strategies import RandomConfig, RandomSearch

SPACE = Params([["--x", 0.5, (0.0, 1.0)]])


def runner(tmp_path: Path, output: bytes, **settings: Any) -> TrialRunner:
    async def handler(job: Job) -> Exit:
        job.stdout.write(output)
        return Exit(0)

    evaluator = Evaluator("prog", retry_delay=0, num_retries=0, **settings)
    workspace = Workspace.create(str(tmp_path / "run"), "exp")
    return TrialRunner(evaluator, SPACE, FakeLauncher(handler), workspace, None, "exp")


async def one(tmp_path: Path, output: bytes, **settings: Any) -> Trial:
    r = runner(tmp_path, output, **settings)
    return await r.run(r.new_trial(1, Candidate({"--x": 0.5}, {})))


@pytest.mark.parametrize(("value", "line"), [("0x10", "FoM: 0x10"), ("1_000", "FoM: 1_000")])
async def test_a_fom_that_is_no_whole_number_is_no_metric_naming_the_line(
    tmp_path: Path, value: str, line: str
) -> None:
    trial = await one(tmp_path, f"epoch 1\n{line}\n".encode())
    assert trial.status is Status.NO_METRIC
    assert f"the line {line!r} has no number read whole for FoM" in trial.error


@pytest.mark.parametrize(
    ("direction", "output", "status"),
    [
        ("minimize", b"FoM: -inf\n", Status.NO_METRIC),  # better than any result: broken
        ("minimize", b"FoM: inf\n", Status.OK),  # diverged: the worst result
        ("maximize", b"FoM: inf\n", Status.NO_METRIC),
        ("maximize", b"FoM: -inf\n", Status.OK),
    ],
)
async def test_an_infinite_fom_is_judged_by_the_direction(
    tmp_path: Path, direction: str, output: bytes, status: Status
) -> None:
    trial = await one(tmp_path, output, direction=direction)
    assert trial.status is status
    if status is Status.NO_METRIC:
        assert "better than any result can be" in trial.error
        assert not trial.has_fom


async def test_a_run_whose_every_fom_is_minus_inf_fails_fast(tmp_path: Path) -> None:
    """Before: all ok, never the best, best inf, no fail-fast. Now: a broken metric."""
    r = runner(tmp_path, b"FoM: -inf\n")
    journal = Journal(r.workspace.journal_path, fsync="never")
    scheduler = Scheduler(r, journal, slots=2)

    async def emit(trial: Trial) -> None:
        pass

    strategy = RandomSearch(SPACE, RandomConfig(num_iters=20), seed=1)
    with journal, pytest.raises(EvaluationError, match="first 3 trials all failed"):
        await scheduler.run(strategy, emit)


async def test_a_returned_int_too_large_for_a_float_is_a_failed_trial_saying_so(
    tmp_path: Path,
) -> None:
    def objective(params: dict[str, Any]) -> Any:
        return 10**400 if params["--x"] != 0.5 else 1.0

    evaluator = Evaluator(objective, run_path=str(tmp_path / "run"), num_retries=0)
    result = await optimize(RandomOptimizer(evaluator, num_iters=3, seed=1, name="e"), SPACE)
    huge = [t for t in result.trials if t.status is not Status.OK]
    assert huge, "the control: the baseline is ok, the others return 10**400"
    for trial in huge:
        assert trial.status is Status.FAILED
        assert "could not start" not in trial.error
        assert "returned an int of 1329 bits, which is not a float (OverflowError" in trial.error


async def test_a_finite_fom_is_unchanged(tmp_path: Path) -> None:
    trial = await one(tmp_path, b"FoM: 0.25\n")
    assert (trial.status, trial.fom) == (Status.OK, 0.25)
