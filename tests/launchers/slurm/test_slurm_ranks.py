"""Multi-node evaluations on the real two-node cluster, as the program sees them: one
task per node by default, ``tasks_per_node`` tasks each, or a single task given the
node list; the FoM is rank 0's, and only rank 0 writes the shared checkpoint."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

import hyperdeme
from hyperdeme import Status

from .conftest import Cluster, slurm_evaluator, source_dir

pytestmark = [pytest.mark.slurm2, pytest.mark.timeout(240)]

RANKS = Path(__file__).with_name("ranks.py")


Records = list[dict[str, Any]]


def run_ranks(tmp_path: Path, **launcher_options: Any) -> tuple[hyperdeme.Result, Records]:
    record = tmp_path / "record.jsonl"
    evaluator = hyperdeme.Evaluator(
        f"{sys.executable} {RANKS} --record {record} --checkpoint @checkpoint",
        run_path=str(tmp_path / "run"), src_path=str(source_dir(tmp_path)),
        workload_manager="slurm", nodes=2, nodes_per_eval=2, launcher_options=launcher_options,
    )  # fmt: skip
    opt = hyperdeme.GridOptimizer(evaluator, grid_size=2, name="ranks")
    result = opt.optimize(hyperdeme.Params([["--x", [0.25, 0.75]]]))
    return result, [json.loads(line) for line in record.read_text().splitlines()]


def by_trial(result: hyperdeme.Result, seen: Records) -> dict[int, Records]:
    """The records of each trial (its checkpoint directory tells them apart)."""
    trials: dict[int, Records] = {}
    for trial in result.trials:
        marker = f"{trial.id:05d}"
        trials[trial.id] = [r for r in seen if marker in r["checkpoint"]]
    return trials


def test_one_task_per_node_fom_from_rank_0_checkpoint_written_once(
    slurm2: Cluster, tmp_path: Path
) -> None:
    result, seen = run_ranks(tmp_path)
    assert [t.status for t in result.trials] == [Status.OK] * 2
    assert sorted(t.fom for t in result.trials) == [0.25, 0.75]  # rank 0's, not rank 1's
    for records in by_trial(result, seen).values():
        assert sorted(r["rank"] for r in records) == [0, 1]
        assert {r["host"] for r in records} == {"n1", "n2"}
        assert {r["hosts"] for r in records} == {"n1,n2"}
        assert {r["ntasks"] for r in records} == {"2"}
        (checkpoint,) = {r["checkpoint"] for r in records}  # the same directory for all
        assert len((Path(checkpoint) / "writes").read_text().splitlines()) == 1


def test_tasks_per_node(slurm2: Cluster, tmp_path: Path) -> None:
    result, seen = run_ranks(tmp_path, tasks_per_node=2)
    assert sorted(t.fom for t in result.trials) == [0.25, 0.75]
    for records in by_trial(result, seen).values():
        assert sorted(r["rank"] for r in records) == [0, 1, 2, 3]
        assert sorted(r["host"] for r in records) == ["n1", "n1", "n2", "n2"]
        assert {r["ntasks"] for r in records} == {"4"}


def test_single_task_gets_the_node_list(slurm2: Cluster, tmp_path: Path) -> None:
    result, seen = run_ranks(tmp_path, single_task=True)
    assert sorted(t.fom for t in result.trials) == [0.25, 0.75]
    for records in by_trial(result, seen).values():
        (only,) = records
        assert (only["rank"], only["ntasks"]) == (0, "1")
        assert only["hosts"] == "n1,n2"  # for mpirun (or the like) to start the others
        # srun names only the step's node in SLURM_JOB_NODELIST: HYPERDEME_HOSTS is the list
        assert only["step_nodes"] == only["job_nodes"] == "n1"


def test_more_nodes_than_the_cluster_has_fails_at_once_with_slurms_reason(
    slurm2: Cluster, tmp_path: Path
) -> None:
    """Slurm queues the request (EnforcePartLimits=NO) with reason PartitionNodeLimit,
    which waiting never clears: the run fails with Slurm's words, the request withdrawn."""
    evaluator = hyperdeme.Evaluator(
        "true", run_path=str(tmp_path), src_path=str(source_dir(tmp_path)),
        workload_manager="slurm", nodes=3, launcher_options={"poll_interval": 0.2},
    )  # fmt: skip
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=1, name="toobig")
    with pytest.raises(hyperdeme.LauncherError, match="PartitionNodeLimit") as caught:
        opt.optimize(hyperdeme.Params([["--x", (0.0, 1.0)]]))
    assert "will never start job" in str(caught.value)
    assert not hyperdeme.read_journal(tmp_path / "toobig")  # no evaluation started
    slurm2.wait_until(lambda: not [line for line in slurm2.jobs() if "hyperdeme-" in line])


async def test_steps_meeting_one_end_together_renew_once(slurm2: Cluster, tmp_path: Path) -> None:
    """Two one-node steps running when hyperdeme's two-node allocation is cancelled: the
    first to see it renews, the other waits for that (``renewals=1`` is enough)."""
    evaluator = slurm_evaluator(
        tmp_path, "--sleep 2", nodes=2, num_parallel_evals=2, launcher_options={"renewals": 1}
    )
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=6, seed=5, name="together")
    cancelled: list[str] = []

    async def cancel_when_both_run() -> None:
        while True:  # squeue is external state: poll until two steps of ours run
            steps = [s for s in await slurm2.asteps() if "together-" in s]
            if len(steps) == 2:
                break
            await anyio.sleep(0.05)
        cancelled.append(steps[0].split()[0].split(".")[0])
        await slurm2.arun("scancel", cancelled[0])

    async with anyio.create_task_group() as tg:
        tg.start_soon(cancel_when_both_run)
        result = await hyperdeme.optimize(opt, hyperdeme.Params([["--x", (0.0, 1.0)]]))
    assert [t.status for t in result.trials] == [Status.OK] * 6
    (renewed,) = {t.info["allocation"] for t in result.trials}  # the first two ran again
    assert renewed != cancelled[0]
    assert sum(t.attempts for t in result.trials) == 8  # both cut short, both ran again
