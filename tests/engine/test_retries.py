"""The retry policy (tenacity): the budgets, the back-off's cap, cancellation, built early."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import anyio
import pytest
import structlog
from structlog.testing import capture_logs
from trio.testing import MockClock

from fakes import FakeLauncher
from hyperdeme import (
    AllocationEnded,
    Candidate,
    Evaluator,
    Exit,
    Job,
    Params,
    Status,
    TransientLauncherError,
)
from hyperdeme._engine._retries import MAX_DELAY
from hyperdeme._engine._runner import TrialRunner
from hyperdeme._engine._workspace import Workspace

SPACE = Params([["--x", 0.5, (0.0, 1.0)]])


def runner(tmp_path: Path, handler: Any, **settings: Any) -> TrialRunner:
    evaluator = Evaluator("prog", **settings)
    workspace = Workspace.create(str(tmp_path / "run"), "exp")
    return TrialRunner(evaluator, SPACE, FakeLauncher(handler), workspace, None, "exp")


async def run_one(r: TrialRunner) -> Any:
    return await r.run(r.new_trial(1, Candidate({"--x": 0.5}, {})))


async def test_transient_errors_do_not_use_up_num_retries(tmp_path: Path) -> None:
    """Attempt 1 transient, 2 and 3 failed: num_retries=1 allows exactly one more."""

    async def handler(job: Job) -> Exit:
        if job.attempt == 1:
            raise TransientLauncherError("node n3 failed")
        job.stderr.write(f"failure {job.attempt}\n".encode())
        return Exit(1)

    r = runner(tmp_path, handler, num_retries=1, retry_delay=0.001)
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        trial = await run_one(r)
    assert (trial.status, trial.attempts, trial.error) == (Status.FAILED, 3, "failure 3")
    retries = [(e["attempt"], e["delay"]) for e in logs if e["event"] == "trial.retry"]
    # every retry, transient or not, doubles the pause
    assert retries == [(1, pytest.approx(0.001)), (2, pytest.approx(0.002))]


@pytest.mark.parametrize(
    "anyio_backend", [pytest.param(("trio", {"clock": MockClock(autojump_threshold=0)}), id="trio")]
)
async def test_the_pause_between_attempts_is_at_most_a_minute(tmp_path: Path) -> None:
    starts: list[float] = []

    async def handler(job: Job) -> Exit:
        starts.append(anyio.current_time())
        return Exit(1)

    r = runner(tmp_path, handler, num_retries=3, retry_delay=40.0)
    trial = await run_one(r)
    assert (trial.status, trial.attempts) == (Status.FAILED, 4)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert gaps == pytest.approx([40.0, MAX_DELAY, MAX_DELAY], abs=0.01)


async def test_a_retry_cancelled_is_not_retried(tmp_path: Path) -> None:
    started = anyio.Event()

    async def handler(job: Job) -> Exit:
        if job.attempt == 1:
            return Exit(1)
        started.set()
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    r = runner(tmp_path, handler, num_retries=5, retry_delay=0)
    trial = r.new_trial(1, Candidate({"--x": 0.5}, {}))
    with capture_logs() as logs:
        async with anyio.create_task_group() as tg:
            tg.start_soon(r.run, trial)
            await started.wait()
            tg.cancel_scope.cancel()
    assert (trial.status, trial.attempts) == (Status.CANCELLED, 2)
    # the cancelled attempt is no failed attempt (one to retry), just the end
    assert [e["event"] for e in logs if e["event"].startswith("trial.")] == [
        "trial.started",
        "trial.attempt_failed",
        "trial.retry",
        "trial.finished",
    ]
    assert len(r.launcher.jobs) == 2  # type: ignore[attr-defined]


async def test_a_retry_needs_no_import_once_the_run_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The retry machinery (tenacity) is built as the run starts, not at its first retry:
    by then the machine may be out of file descriptors, and an import opens files (a run
    out of descriptors crashed importing tenacity for the retry meant to ride it out)."""
    import builtins

    async def handler(job: Job) -> Exit:
        if job.attempt == 1:
            raise TransientLauncherError("Too many open files")
        job.stdout.write(b"FoM: 1\n")
        return Exit(0)

    r = runner(tmp_path, handler, num_retries=1, retry_delay=0.001)
    real_import = builtins.__import__

    def short_of_descriptors(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("tenacity"):
            raise OSError(24, "Too many open files", name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", short_of_descriptors)
    trial = await run_one(r)
    assert (trial.status, trial.attempts) == (Status.OK, 2)


@pytest.mark.parametrize(
    "anyio_backend", [pytest.param(("trio", {"clock": MockClock(autojump_threshold=0)}), id="trio")]
)
async def test_the_machines_failures_back_off_from_at_least_machine_delay(
    tmp_path: Path,
) -> None:
    """retry_delay=0 retries a failed program at once; EMFILE waits for descriptors to free:
    MACHINE_DELAY, doubled each time, on a budget of its own (num_retries=0)."""
    import errno

    from hyperdeme._engine._retries import MACHINE_DELAY, MAX_MACHINE_RETRIES

    starts: list[float] = []

    async def handler(job: Job) -> Exit:
        starts.append(anyio.current_time())
        raise OSError(errno.EMFILE, "Too many open files")

    trial = await run_one(runner(tmp_path, handler, num_retries=0, retry_delay=0))
    assert (trial.status, trial.attempts) == (Status.INTERRUPTED, 1 + MAX_MACHINE_RETRIES)
    pauses = [b - a for a, b in itertools.pairwise(starts)]
    assert pauses == pytest.approx([MACHINE_DELAY * 2**n for n in range(MAX_MACHINE_RETRIES)])


async def test_an_ended_allocation_is_not_tried_again_in_the_run(tmp_path: Path) -> None:
    """``interrupted`` by the allocation's end (not transient): no attempt in the run can
    succeed, so none is made; resume runs it in a new allocation. (The machine's passing
    shortages, also ``interrupted``, are transient and retried: test_machine_failures.)"""

    async def handler(job: Job) -> Exit:
        raise AllocationEnded("Slurm job 20 ended: its time limit ran out", allocation="20")

    r = runner(tmp_path, handler, num_retries=3, retry_delay=0.001)
    trial = await run_one(r)
    assert (trial.status, trial.attempts) == (Status.INTERRUPTED, 1)
