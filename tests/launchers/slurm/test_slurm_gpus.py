"""GPUs on the real two-node cluster (``scripts/slurm-up --nodes 2``): one-node
evaluations packed onto n1 and n2, each step with its own ids of its node's pool.

Needs the ``slurm2`` cluster (skipped without one, failing under CI); the same flow
runs without a cluster against stand-ins in ``tests/launchers/test_packed_gpus.py``.
No node has a GPU: hyperdeme only hands out and exports the ids.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

import hyperdeme

from .conftest import Cluster, slurm_evaluator

pytestmark = [pytest.mark.slurm2, pytest.mark.timeout(240)]


async def test_packed_steps_on_a_node_hold_different_devices(
    slurm2: Cluster, tmp_path: Path
) -> None:
    record = tmp_path / "record.jsonl"
    evaluator = slurm_evaluator(
        tmp_path, f"--sleep 0.5 --record {record}", nodes=2, num_parallel_evals=4,
        gpus=[0, 1], gpus_per_eval=1,
    )  # fmt: skip
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=8, seed=3, name="gpus")
    result = await hyperdeme.optimize(opt, hyperdeme.Params([["--x", (0.0, 1.0)]]))
    assert result.n_failed == 0
    ran = [json.loads(line) for line in record.read_text().splitlines()]
    assert len(ran) == 8
    by_trial = {str(t.id): t for t in result.trials}
    for r in ran:
        assert r["gpus"] in ("0", "1")
        assert by_trial[r["trial"]].info["gpus"] == [r["gpus"]]
    for a, b in itertools.combinations(ran, 2):
        if a["host"] == b["host"] and a["start"] < b["end"] and b["start"] < a["end"]:
            assert a["gpus"] != b["gpus"], (a, b)
