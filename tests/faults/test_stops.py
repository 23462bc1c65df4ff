"""However a run stops, no process it started survives it, and its journal is complete.

Injected, in the test's own event loop (asyncio and trio), each path 5 times
with seeded random settings: ``eval_timeout`` on kernels that hang, the whole
run's time budget (``timeout``, a fraction of a minute) expiring on hung
kernels, fail-fast (the first trials all fail while others hang), and leaving a
``hyperdeme.stream`` block after a random number of trials. Every kernel
(``faulty.sh``) leaves a grandchild in its process group that ignores SIGTERM,
so only killing the whole group (to SIGKILL) passes. Afterwards no process
carrying the test's marker is alive (the run waited for them: 1 s of slack for
the kernel to reap them), and every trial the run asked for has its final record
in the journal, matching what the run reported. (Ctrl-C, SIGTERM and SIGKILL of a
driver process: test_killed_driver.py.)
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

import hyperdeme
from hyperdeme import Status, Trial
from kernels.fault_driver import SPACE, optimizer

from .support import Snapshot, snapshot, survivors

REPEATS = 5
SLOTS = 4


def assert_complete(journal: Path, told: list[Trial], case: str) -> Snapshot:
    """Every trial asked for ended in the journal; what the run told is what it says."""
    shot = snapshot(journal)
    assert shot.torn == b"", case
    ended = set(shot.finished) | shot.cancelled
    assert set(shot.started) == ended, f"{case}: never ended: {set(shot.started) - ended}"
    for trial in told:
        if trial.status is Status.CANCELLED:
            assert trial.id in shot.cancelled, case
        else:
            journalled = shot.finished[trial.id]
            assert (journalled.status, journalled.fom) == (trial.status, trial.fom), case
    return shot


@pytest.mark.parametrize("repeat", range(REPEATS))
async def test_eval_timeout_kills_the_whole_process_group(
    tmp_path: Path, src: Path, marker: str, anyio_backend: str, repeat: int
) -> None:
    seed = f"eval_timeout/{anyio_backend}/{repeat}"
    rng = random.Random(seed)
    eval_timeout = rng.uniform(0.1, 0.4)
    opt = optimizer(
        tmp_path / "run", marker=marker, src_path=src, kernel="--stubborn --hang-above=0.5",
        num_iters=12, slots=SLOTS, seed=rng.randrange(1, 10**6), eval_timeout=eval_timeout,
    )  # fmt: skip
    result = await hyperdeme.optimize(opt, SPACE)
    case = f"seed {seed!r}: eval_timeout={eval_timeout:.3f}"
    assert await survivors(marker, within=1.0) == [], case
    for trial in result.trials:
        expected = Status.TIMEOUT if trial.params["--x"] > 0.5 else Status.OK
        assert trial.status is expected, f"{case}: {trial}"
    assert any(t.status is Status.TIMEOUT for t in result.trials), case
    shot = assert_complete(tmp_path / "run" / "exp" / "trials.jsonl", result.trials, case)
    assert sorted(shot.finished) == list(range(1, 13)), case


@pytest.mark.parametrize("repeat", range(REPEATS))
async def test_the_time_budget_kills_everything_still_running(
    tmp_path: Path, src: Path, marker: str, anyio_backend: str, repeat: int
) -> None:
    seed = f"timeout/{anyio_backend}/{repeat}"
    rng = random.Random(seed)
    minutes = rng.uniform(0.2, 0.6) / 60
    opt = optimizer(
        tmp_path / "run", marker=marker, src_path=src, kernel="--stubborn --hang-above=0.5",
        num_iters=40, slots=SLOTS, seed=rng.randrange(1, 10**6), timeout=minutes,
    )  # fmt: skip
    result = await hyperdeme.optimize(opt, SPACE)
    case = f"seed {seed!r}: timeout={minutes * 60:.3f} s"
    assert result.expired, case
    assert await survivors(marker, within=1.0) == [], case
    hung = [t for t in result.trials if t.params["--x"] > 0.5]
    assert hung, f"{case}: hung kernels were running when the budget expired"
    assert all(t.status is Status.CANCELLED for t in hung), case
    assert_complete(tmp_path / "run" / "exp" / "trials.jsonl", result.trials, case)


@pytest.mark.parametrize("repeat", range(REPEATS))
async def test_fail_fast_kills_the_trials_still_running(
    tmp_path: Path, src: Path, marker: str, anyio_backend: str, repeat: int
) -> None:
    """Kernels with x < 0.7 fail, the others hang: the first four to end fail, the run
    stops with EvaluationError, and the hung ones are killed. (Should four hang at once,
    eval_timeout ends them, which counts as failing too.)"""
    seed = f"fail-fast/{anyio_backend}/{repeat}"
    rng = random.Random(seed)
    opt = optimizer(
        tmp_path / "run", marker=marker, src_path=src,
        kernel="--stubborn --fail-below=0.7 --hang-above=0.7",
        num_iters=30, slots=SLOTS, seed=rng.randrange(1, 10**6), eval_timeout=1,
    )  # fmt: skip
    with pytest.raises(hyperdeme.EvaluationError, match="the first 4 trials all failed"):
        await hyperdeme.optimize(opt, SPACE)
    case = f"seed {seed!r}"
    assert await survivors(marker, within=1.0) == [], case
    assert opt.result is not None
    told = opt.result.trials  # every journalled trial, the ones the stop cancelled too
    failed = [t for t in told if t.status is not Status.CANCELLED]
    assert len(failed) >= 4, case  # the 4th stopped it; others may have failed meanwhile
    assert all(t.status in (Status.FAILED, Status.TIMEOUT) for t in failed), case
    shot = assert_complete(tmp_path / "run" / "exp" / "trials.jsonl", told, case)
    assert {t.id for t in told} == set(shot.started), case
    assert all(not t.ok for t in shot.finished.values()), case


@pytest.mark.parametrize("repeat", range(REPEATS))
async def test_leaving_a_stream_early_kills_every_running_trial(
    tmp_path: Path, src: Path, marker: str, anyio_backend: str, repeat: int
) -> None:
    seed = f"stream/{anyio_backend}/{repeat}"
    rng = random.Random(seed)
    leave_after = rng.randint(1, 20)
    work = rng.uniform(0.01, 0.2)
    opt = optimizer(
        tmp_path / "run", marker=marker, src_path=src, kernel=f"--stubborn --sleep={work}",
        num_iters=30, slots=SLOTS, seed=rng.randrange(1, 10**6),
    )  # fmt: skip
    told: list[Trial] = []
    async with hyperdeme.stream(opt, SPACE) as trials:
        async for trial in trials:
            told.append(trial)
            if len(told) == leave_after:
                break
    case = f"seed {seed!r}: left after {leave_after} trials of {work:.3f} s"
    assert await survivors(marker, within=1.0) == [], case
    shot = assert_complete(tmp_path / "run" / "exp" / "trials.jsonl", told, case)
    assert shot.cancelled, f"{case}: trials were running when the block was left"
