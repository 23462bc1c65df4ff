"""CMA-ES and Optuna's TPE survive a SIGKILLed driver: nothing lost, nothing orphaned,
and the resumed run replays the journal into a fresh strategy (a fresh in-memory study
for Optuna), so it asks for exactly what the killed run would have asked for next and
runs no finished trial again (see test_killed_driver.py for the random-search matrix)."""

from __future__ import annotations

import signal
from pathlib import Path

import anyio
import pytest

import hyperdeme
from hyperdeme import Status
from kernels.fault_driver import SPACE, optimizer
from processes import kill_marked

from .support import (
    check_exactly_once,
    driver_argv,
    side_log,
    snapshot,
    survivors,
)
from .test_killed_driver import Moment, _kill

NUM_ITERS, SLOTS = 16, 4


@pytest.mark.timeout(90)
@pytest.mark.parametrize("strategy", ["cmaes", "optuna"])
async def test_a_killed_model_based_search_resumes_exactly_once(
    tmp_path: Path, src: Path, marker: str, anyio_backend: str, strategy: str
) -> None:
    run = tmp_path / "run"
    journal = run / "exp" / "trials.jsonl"
    side1, side2 = tmp_path / "side1", tmp_path / "side2"
    argv = driver_argv(
        run, marker, src, anyio_backend, "--stream", side_log=side1,
        num_iters=NUM_ITERS, slots=SLOTS, strategy=strategy, kernel="--sleep=0.05",
    )  # fmt: skip
    code, at_signal = await _kill(
        argv, tmp_path / "stderr", signal.SIGKILL, Moment(6, 0.0), journal
    )
    case = f"{strategy}: SIGKILL at {at_signal} journalled trials (exit {code})"
    assert code == -signal.SIGKILL, case  # positive control: it died of the signal
    orphans = await survivors(marker, str(run), within=8.0)  # grace_period is 5 s
    kill_marked(marker)
    before = snapshot(journal)
    assert 6 <= len(before.finished) < NUM_ITERS, case

    resumed = optimizer(
        run, marker=marker, src_path=src, side_log=side2, num_iters=NUM_ITERS,
        slots=SLOTS, backend=anyio_backend, strategy=strategy, kernel="--sleep=0.05",
    )  # fmt: skip
    result = await hyperdeme.optimize(resumed, SPACE, resume=True)
    check_exactly_once(before, snapshot(journal), side_log(side2), result, NUM_ITERS, case)
    assert {t.status for t in result.trials} == {Status.OK}, case
    assert orphans == [], f"{case}: these survived the driver: {orphans}"
    with anyio.fail_after(5):
        assert await survivors(marker, str(run), within=1.5) == [], case
