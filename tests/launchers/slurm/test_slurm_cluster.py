"""The Slurm launcher against a real single-node cluster (slurmctld + slurmd + munge).

The cluster is started by ``scripts/slurm-up`` (``scripts/test`` does it).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

import hyperdeme
from hyperdeme import Status

from .conftest import KERNEL, Cluster, slurm_evaluator, source_dir

pytestmark = [pytest.mark.slurm, pytest.mark.timeout(180)]


def space(*extra: list[Any]) -> hyperdeme.Params:
    return hyperdeme.Params([["--x", 0.5, (0.0, 1.0)], *extra])


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_optimization_inside_an_existing_allocation(
    slurm: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobid = slurm.allocate(1)
    try:
        monkeypatch.setenv("SLURM_JOB_ID", str(jobid))  # as inside sbatch/salloc
        record = tmp_path / "record.jsonl"
        evaluator = hyperdeme.Evaluator(
            f"{sys.executable} {KERNEL} --record {record}",
            run_path=str(tmp_path / "run"),
            src_path=str(source_dir(tmp_path)),
        )
        opt = hyperdeme.RandomOptimizer(evaluator, num_iters=6, seed=2, name="inside")
        result = await hyperdeme.optimize(opt, space())
        assert [t.status for t in result.trials] == [Status.OK] * 6
        ran = records(record)
        assert {r["job"] for r in ran} == {str(jobid)}
        assert len({r["step"] for r in ran}) == 6  # one job step per evaluation
        assert jobid in [int(line.split()[0]) for line in slurm.jobs()]  # not ours to free
    finally:
        slurm.release(jobid)


async def test_alloc_jobid_and_parallel_steps(slurm: Cluster, tmp_path: Path) -> None:
    jobid = slurm.allocate(1)
    try:
        evaluator = slurm_evaluator(
            tmp_path,
            alloc_jobid=jobid,
        )
        opt = hyperdeme.RandomOptimizer(evaluator, num_iters=4, seed=3, name="alloc")
        result = await hyperdeme.optimize(opt, space())
        assert result.n_failed == 0
        assert all(t.command.startswith(sys.executable) for t in result.trials)
    finally:
        slurm.release(jobid)


async def test_self_made_allocation_is_released(slurm: Cluster, tmp_path: Path) -> None:
    record = tmp_path / "record.jsonl"
    evaluator = slurm_evaluator(
        tmp_path,
        f"--record {record}",
        nodes=1,
        alloc_timeout=5,
    )
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=5, seed=4, name="own")
    result = await hyperdeme.optimize(opt, space())
    assert result.n_failed == 0
    jobs = {r["job"] for r in records(record)}
    assert len(jobs) == 1
    assert not [line for line in slurm.jobs() if line.split()[0] in jobs]


async def test_cancellation_leaves_no_job_or_step(slurm: Cluster, tmp_path: Path) -> None:
    evaluator = slurm_evaluator(
        tmp_path,
        "--sleep 600",
        nodes=1,
        num_parallel_evals=1,
    )
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=3, seed=5, name="cancel")

    async def watch(scope: anyio.CancelScope) -> None:
        await slurm.wait_for_step("cancel-")
        scope.cancel()

    async with anyio.create_task_group() as tg:
        tg.start_soon(watch, tg.cancel_scope)
        await hyperdeme.optimize(opt, space())
    assert slurm.steps() == []
    assert not [line for line in slurm.jobs() if "hyperdeme-" in line]
    journal = hyperdeme.read_journal(tmp_path / "cancel")
    assert [t.status for t in journal] == [Status.CANCELLED]


async def test_eval_timeout_cancels_the_step_not_the_allocation(
    slurm: Cluster, tmp_path: Path
) -> None:
    jobid = slurm.allocate(1)
    try:
        evaluator = slurm_evaluator(
            tmp_path,
            alloc_jobid=jobid,
            eval_timeout=1.5,
        )
        params = space(["--sleep", [0.0, 600.0]])
        opt = hyperdeme.GridOptimizer(evaluator, grid_size=2, name="timeout")
        result = await hyperdeme.optimize(opt, params)
        by_sleep = {t.params["--sleep"]: t.status for t in result.trials}
        assert by_sleep == {0.0: Status.OK, 600.0: Status.TIMEOUT}
        assert not [s for s in slurm.steps() if s.startswith(f"{jobid}.")]
        assert str(jobid) in " ".join(slurm.jobs())
    finally:
        slurm.release(jobid)


async def test_a_killed_step_is_retried(slurm: Cluster, tmp_path: Path) -> None:
    marker = tmp_path / "hung"
    evaluator = slurm_evaluator(
        tmp_path,
        f"--hang-first-attempt {marker}",
        nodes=1,
        num_retries=1,
        retry_delay=0.05,
    )
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=1, seed=6, name="killed")

    async def kill_first_step() -> None:
        step = await slurm.wait_for_step("killed-")
        while True:  # the kernel marks its first attempt; then it hangs until killed
            if marker.exists():
                break
            await anyio.sleep(0.05)
        await slurm.arun("scancel", step.split()[0])

    async with anyio.create_task_group() as tg:
        tg.start_soon(kill_first_step)
        result = await hyperdeme.optimize(opt, space())
    (trial,) = result.trials
    assert trial.status is Status.OK
    assert trial.attempts == 2
    assert (tmp_path / "killed" / "00001" / "stderr.attempt1.log").exists()


async def test_no_allocation_and_no_nodes_is_a_clear_error(slurm: Cluster, tmp_path: Path) -> None:
    evaluator = hyperdeme.Evaluator(
        "true", run_path=str(tmp_path), src_path=str(source_dir(tmp_path)), workload_manager="slurm"
    )
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=1)
    with pytest.raises(hyperdeme.ConfigError, match="need an allocation"):
        await hyperdeme.optimize(opt, space())


async def test_cancelling_a_queued_allocation_withdraws_it(slurm: Cluster, tmp_path: Path) -> None:
    """salloc waiting in the queue (the only node is taken) is withdrawn on cancellation."""
    blocker = slurm.allocate(1)
    try:
        evaluator = hyperdeme.Evaluator(
            "true", run_path=str(tmp_path), src_path=str(source_dir(tmp_path)),
            workload_manager="slurm", nodes=1,
        )  # fmt: skip
        opt = hyperdeme.RandomOptimizer(evaluator, num_iters=1, seed=7, name="queued")

        async def watch(scope: anyio.CancelScope) -> None:
            while True:  # squeue is external state: poll until our salloc waits in the queue
                jobs = (await slurm.arun("squeue", "-h", "-o", "%j %T")).splitlines()
                if any(j.startswith("hyperdeme-") and j.endswith("PENDING") for j in jobs):
                    break
                await anyio.sleep(0.05)
            scope.cancel()

        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                tg.start_soon(watch, tg.cancel_scope)
                await hyperdeme.optimize(opt, space())
        assert not [line for line in slurm.jobs() if "hyperdeme-" in line]
    finally:
        slurm.release(blocker)
