"""The Slurm launcher on a real two-node cluster: n1 and n2, each slurmd in its own
network namespace with its own address (``scripts/slurm-up --nodes 2``).

Multi-node steps, packing of evaluations of different sizes, and a node dying
mid-run are all exercised for real.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import anyio
import pytest

import hyperdeme
from hyperdeme import Status

from .conftest import REPO, Cluster, slurm_evaluator

pytestmark = [pytest.mark.slurm2, pytest.mark.timeout(240)]


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def step_hosts(record: dict[str, Any]) -> set[str]:
    nodes = record["step_nodes"]
    return {"n1", "n2"} if nodes == "n[1-2]" else set(nodes.split(","))


async def test_two_node_evaluations_see_both_hosts(slurm2: Cluster, tmp_path: Path) -> None:
    record = tmp_path / "record.jsonl"
    evaluator = slurm_evaluator(
        tmp_path,
        f"--record {record}",
        nodes=2,
        nodes_per_eval=2,
    )
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=3, seed=1, name="wide")
    result = await hyperdeme.optimize(opt, hyperdeme.Params([["--x", (0.0, 1.0)]]))
    assert result.n_failed == 0
    ran = records(record)
    assert len(ran) == 3
    for r in ran:
        assert r["job_nodes"] == "n[1-2]"
        assert r["step_nodes"] == "n[1-2]"
        assert r["nnodes"] == "2"
    assert all(t.nodes == 2 for t in result.trials)


async def test_one_and_two_node_evaluations_are_packed_without_oversubscription(
    slurm2: Cluster, tmp_path: Path
) -> None:
    record = tmp_path / "record.jsonl"
    evaluator = slurm_evaluator(
        tmp_path,
        f"--sleep 0.3 --record {record}",
        nodes=2,
        num_parallel_evals=2,
        flag={"nodes_per_evaluation": "--N"},
    )
    params = hyperdeme.Params([["--x", (0.0, 1.0)], ["--N", [1, 2]]])
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=12, seed=3, name="pack")
    result = await hyperdeme.optimize(opt, params)
    assert result.n_failed == 0
    ran = records(record)
    assert {int(r["nnodes"]) for r in ran} == {1, 2}
    for r in ran:
        assert len(step_hosts(r)) == int(r["nnodes"])
    overlapping = 0
    for a, b in itertools.combinations(ran, 2):
        if a["start"] < b["end"] and b["start"] < a["end"]:
            overlapping += 1
            assert not step_hosts(a) & step_hosts(b), (a, b)
    assert overlapping > 0, "one-node evaluations should have run side by side"


async def test_a_node_dying_mid_run_loses_nothing(slurm2: Cluster, tmp_path: Path) -> None:
    """Kill n2's slurmd and tasks while evaluations run on it: they are retried on n1."""
    record = tmp_path / "record.jsonl"
    evaluator = slurm_evaluator(
        tmp_path,
        f"--sleep 1 --hang-on n2 --record {record}",
        nodes=2,
        num_parallel_evals=2,
    )
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=6, seed=4, name="fail")
    node_script = REPO / "scripts" / "slurm-node"

    async def kill_n2() -> None:
        await slurm2.wait_for_step(" n2")
        await anyio.run_process([str(node_script), "stop", "n2", "--dir", str(slurm2.dir)])

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(kill_n2)
            result = await hyperdeme.optimize(opt, hyperdeme.Params([["--x", (0.0, 1.0)]]))
    finally:
        with anyio.CancelScope(shield=True), anyio.fail_after(120):
            await anyio.run_process([str(node_script), "start", "n2", "--dir", str(slurm2.dir)])
    assert [t.status for t in result.trials] == [Status.OK] * 6
    assert max(t.attempts for t in result.trials) >= 2  # someone was retried
    ran = records(record)
    assert all(r["host"] == "n1" for r in ran)
    journal = hyperdeme.read_journal(tmp_path / "fail")
    assert sorted(t.id for t in journal) == list(range(1, 7))
    assert all(t.ok for t in journal)
