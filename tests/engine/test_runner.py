"""One trial: attempts through a launcher, outcome classification, retries, logs."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import anyio
import pytest
import structlog
from structlog.testing import capture_logs
from trio.testing import MockClock

import hyperdeme
from fakes import FakeLauncher, Handler, fom_handler
from hyperdeme import (
    Candidate,
    Evaluator,
    Exit,
    Job,
    LauncherError,
    Params,
    Status,
    TransientLauncherError,
    Trial,
)
from hyperdeme._core._hosts import HostPool
from hyperdeme._engine._retries import MAX_TRANSIENT_RETRIES
from hyperdeme._engine._runner import TrialRunner
from hyperdeme._engine._workspace import Workspace

SPACE = Params([["--x", 0.5, (0.0, 1.0)], ["--act", "relu", ["relu", "tanh"]]])


def runner(
    tmp_path: Path,
    handler: Handler,
    cmd: Any = "prog",
    *,
    nodes: HostPool[int] | None = None,
    **settings: Any,
) -> TrialRunner:
    settings.setdefault("retry_delay", 0)
    evaluator = Evaluator(cmd, **settings)  # the workspace is below
    workspace = Workspace.create(str(tmp_path / "run"), "exp")
    return TrialRunner(evaluator, SPACE, FakeLauncher(handler), workspace, nodes, "exp")


def new_trial(r: TrialRunner, trial_id: int = 1, x: float = 0.25) -> Trial:
    return r.new_trial(trial_id, Candidate({"--x": x, "--act": "tanh"}, {"strategy": "test"}))


def launcher(r: TrialRunner) -> FakeLauncher:
    assert isinstance(r.launcher, FakeLauncher)
    return r.launcher


async def test_an_ok_trial(tmp_path: Path) -> None:
    r = runner(tmp_path, fom_handler(0.125), env={"OMP_NUM_THREADS": "2"})
    trial = await r.run(new_trial(r, 7))
    assert trial.status is Status.OK
    assert trial.ok
    assert trial.fom == 0.125
    assert trial.metrics == {"FoM": 0.125}
    assert trial.attempts == 1
    assert trial.returncode == 0
    assert trial.error == ""
    assert trial.command == "prog --x=0.25 --act=tanh"
    assert trial.info == {"strategy": "test"}
    assert trial.ended >= trial.started > 0
    assert trial.duration >= 0
    [job] = launcher(r).jobs
    assert (job.trial_id, job.attempt, job.nodes, job.name) == (7, 1, 1, "exp-7")
    assert job.command == trial.command
    # the run's env, and the trial's own id and slot (the lowest free: 0)
    assert dict(job.env) == {"OMP_NUM_THREADS": "2", "HYPERDEME_SLOT": "0", "HYPERDEME_TRIAL": "7"}
    assert job.params == {"--x": 0.25, "--act": "tanh"}
    directory = tmp_path / "run" / "exp" / "00007"
    assert (directory / "stdout.log").read_text() == "FoM: 0.125\n"
    assert (directory / "params.json").exists()


async def test_a_failed_trial_records_exit_code_and_stderr_tail(tmp_path: Path) -> None:
    async def handler(job: Job) -> Exit:
        job.stderr.write(b"x" * 5000 + b"\nTraceback ...\nValueError: bad lr\n")
        return Exit(3)

    r = runner(tmp_path, handler)
    trial = await r.run(new_trial(r))
    assert trial.status is Status.FAILED
    assert not trial.ok
    assert trial.returncode == 3
    assert trial.error.endswith("ValueError: bad lr")
    assert len(trial.error) <= 2048
    assert trial.fom == math.inf


async def test_a_signal_is_a_negative_exit_code(tmp_path: Path) -> None:
    async def handler(job: Job) -> Exit:
        return Exit(-9)

    r = runner(tmp_path, handler)
    trial = await r.run(new_trial(r))
    assert (trial.status, trial.returncode) == (Status.FAILED, -9)


@pytest.mark.parametrize("output", [b"", b"training done\n", b"FoM: nan\n", b"FoM: oops\n"])
async def test_exit_zero_without_a_metric_is_no_metric(tmp_path: Path, output: bytes) -> None:
    async def handler(job: Job) -> Exit:
        job.stdout.write(output)
        return Exit(0)

    r = runner(tmp_path, handler)
    trial = await r.run(new_trial(r))
    assert trial.status is Status.NO_METRIC
    assert "FoM" in trial.error
    assert trial.fom == math.inf


async def test_weighted_metrics(tmp_path: Path) -> None:
    async def handler(job: Job) -> Exit:
        job.stdout.write(b"loss: 2.0\ntime: 10\nloss: 1.0\n")
        return Exit(0)

    r = runner(tmp_path, handler, metric={"loss": 0.7, "time": -0.3})
    trial = await r.run(new_trial(r))
    assert trial.metrics == {"loss": 1.0, "time": 10.0}
    assert trial.fom == pytest.approx(0.7 - 3.0)


async def test_eval_timeout_cancels_the_attempt(tmp_path: Path) -> None:
    async def handler(job: Job) -> Exit:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    r = runner(tmp_path, handler, eval_timeout=0.05)
    trial = await r.run(new_trial(r))
    assert trial.status is Status.TIMEOUT
    assert "eval_timeout" in trial.error
    assert launcher(r).running == 0


async def test_a_cancelled_trial_is_marked_and_the_cancellation_propagates(
    tmp_path: Path,
) -> None:
    running = anyio.Event()

    async def handler(job: Job) -> Exit:
        running.set()
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    r = runner(tmp_path, handler, num_retries=3)
    trial = new_trial(r)
    async with anyio.create_task_group() as tg:
        tg.start_soon(r.run, trial)
        await running.wait()
        tg.cancel_scope.cancel()
    assert trial.status is Status.CANCELLED
    assert trial.fom == math.inf
    assert trial.attempts == 1


def flaky(failures: int) -> Handler:
    async def handler(job: Job) -> Exit:
        if job.attempt <= failures:
            job.stderr.write(f"failure {job.attempt}\n".encode())
            return Exit(1)
        job.stdout.write(b"FoM: 0.5\n")
        return Exit(0)

    return handler


async def test_a_flaky_program_succeeds_on_a_retry(tmp_path: Path) -> None:
    r = runner(tmp_path, flaky(2), num_retries=2)
    trial = await r.run(new_trial(r))
    assert (trial.status, trial.attempts, trial.fom, trial.error) == (Status.OK, 3, 0.5, "")
    assert [job.attempt for job in launcher(r).jobs] == [1, 2, 3]
    directory = tmp_path / "run" / "exp" / "00001"
    assert (directory / "stderr.attempt1.log").read_text() == "failure 1\n"
    assert (directory / "stderr.attempt2.log").read_text() == "failure 2\n"
    assert (directory / "stdout.log").read_text() == "FoM: 0.5\n"


async def test_retries_are_bounded_by_num_retries(tmp_path: Path) -> None:
    r = runner(tmp_path, flaky(5), num_retries=2)
    trial = await r.run(new_trial(r))
    assert (trial.status, trial.attempts, trial.error) == (Status.FAILED, 3, "failure 3")


async def test_no_retries_by_default(tmp_path: Path) -> None:
    r = runner(tmp_path, flaky(1))
    trial = await r.run(new_trial(r))
    assert (trial.status, trial.attempts) == (Status.FAILED, 1)


async def test_transient_launcher_errors_have_their_own_budget(tmp_path: Path) -> None:
    async def handler(job: Job) -> Exit:
        if job.attempt <= 2:
            raise TransientLauncherError("node n3 failed", command="srun ...")
        job.stdout.write(b"FoM: 1\n")
        return Exit(0)

    r = runner(tmp_path, handler)  # num_retries=0
    trial = await r.run(new_trial(r))
    assert (trial.status, trial.attempts) == (Status.OK, 3)


async def test_endless_transient_errors_fail_the_trial(tmp_path: Path) -> None:
    async def handler(job: Job) -> Exit:
        raise TransientLauncherError("step creation refused", stderr_tail="srun: error: busy")

    r = runner(tmp_path, handler)
    trial = await r.run(new_trial(r))
    assert trial.status is Status.FAILED
    assert trial.attempts == MAX_TRANSIENT_RETRIES + 1
    assert "step creation refused" in trial.error
    assert "srun: error: busy" in trial.error


async def test_a_launcher_error_fails_the_attempt(tmp_path: Path) -> None:
    async def handler(job: Job) -> Exit:
        raise LauncherError("sbatch refused the job", returncode=1, stderr_tail="bad partition")

    r = runner(tmp_path, handler)
    trial = await r.run(new_trial(r))
    assert (trial.status, trial.returncode) == (Status.FAILED, 1)
    assert trial.error == "sbatch refused the job\n  stderr: bad partition"


async def test_attempts_hold_their_nodes(tmp_path: Path) -> None:
    pool = HostPool(range(4))
    seen: list[int] = []

    async def handler(job: Job) -> Exit:
        seen.append(pool.free)
        job.stdout.write(b"FoM: 1\n")
        return Exit(0)

    r = runner(tmp_path, handler, nodes=pool, nodes_per_eval=3, workload_manager="slurm")
    trial = await r.run(new_trial(r))
    assert trial.nodes == 3
    assert launcher(r).jobs[0].nodes == 3
    assert seen == [1]
    assert pool.free == 4


async def test_a_trial_larger_than_the_allocation_fails_without_running(tmp_path: Path) -> None:
    r = runner(
        tmp_path,
        fom_handler(),
        nodes=HostPool(range(2)),
        nodes_per_eval=3,
        workload_manager="slurm",
    )
    trial = await r.run(new_trial(r))
    assert (trial.status, trial.attempts) == (Status.FAILED, 0)
    assert "needs 3 nodes but the allocation has only 2" in trial.error
    assert launcher(r).jobs == []


async def test_structlog_events_carry_the_trial_id(tmp_path: Path) -> None:
    r = runner(tmp_path, flaky(1), num_retries=1)
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        await r.run(new_trial(r, 42))
    events = [(e["event"], e.get("trial")) for e in logs if e["event"].startswith("trial.")]
    assert events == [
        ("trial.started", 42),
        ("trial.attempt_failed", 42),
        ("trial.retry", 42),
        ("trial.finished", 42),
    ]
    started = next(e for e in logs if e["event"] == "trial.started")
    assert started["params"] == {"--x": 0.25, "--act": "tanh"}
    retry = next(e for e in logs if e["event"] == "trial.retry")
    assert retry["attempt"] == 1
    finished = next(e for e in logs if e["event"] == "trial.finished")
    assert (finished["status"], finished["attempts"], finished["fom"]) == ("ok", 2, 0.5)


async def test_trial_finished_is_logged_for_a_cancelled_trial(tmp_path: Path) -> None:
    async def handler(job: Job) -> Exit:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    r = runner(tmp_path, handler)
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        with anyio.move_on_after(0.01):
            await r.run(new_trial(r, 5))
    finished = [e for e in logs if e["event"] == "trial.finished"]
    assert [(e["trial"], e["status"]) for e in finished] == [(5, "cancelled")]


@pytest.mark.parametrize(
    "anyio_backend", [pytest.param(("trio", {"clock": MockClock(autojump_threshold=0)}), id="trio")]
)
async def test_retries_back_off_exponentially(tmp_path: Path) -> None:
    """Virtual time (trio's MockClock): attempts start at 0, d, d + 2d, d + 2d + 4d."""
    starts: list[float] = []

    async def flaky(params: dict[str, Any]) -> float:
        starts.append(anyio.current_time())
        if len(starts) < 4:
            raise RuntimeError("transient trouble")
        return 1.0

    evaluator = hyperdeme.Evaluator(
        flaky, run_path=str(tmp_path), num_retries=3, retry_delay=10.0, fsync=False
    )
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=1, seed=1)
    result = await hyperdeme.optimize(opt, hyperdeme.Params([["--x", 0.5, (0.0, 1.0)]]))
    assert result.trials[0].attempts == 4
    assert result.trials[0].ok
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert gaps == pytest.approx([10.0, 20.0, 40.0], abs=0.01)


def test_a_trial_whose_genes_are_all_active_shares_its_candidates_params(
    tmp_path: Path,
) -> None:
    # one mapping a trial, not two: Result.trials keeps every trial (0.26 KB each)
    trial = new_trial(runner(tmp_path, fom_handler(1.0)))
    assert trial.candidate is not None
    assert trial.params is trial.candidate.params


def test_a_trial_with_inactive_genes_holds_only_the_active_ones(tmp_path: Path) -> None:
    space = Params(
        [["--opt", "sgd", ["sgd", "adam"]], ["--momentum", 0.5, (0.0, 1.0)]],
        conditions=[hyperdeme.condition.equals("--momentum", "--opt", "sgd")],
    )
    evaluator = Evaluator("prog", retry_delay=0)
    workspace = Workspace.create(str(tmp_path / "run"), "exp")
    r = TrialRunner(evaluator, space, FakeLauncher(fom_handler(1.0)), workspace)
    candidate = Candidate({"--opt": "adam", "--momentum": 0.9}, {})
    trial = r.new_trial(1, candidate)
    assert trial.params == {"--opt": "adam"}
    assert candidate.params == {"--opt": "adam", "--momentum": 0.9}  # the hidden gene kept
