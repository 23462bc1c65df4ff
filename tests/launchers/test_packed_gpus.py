"""GPUs on Slurm and PBS: several one-node evaluations packed onto each node, each on its own
devices of that node, through the Slurm launcher and stand-in ``srun``/``scontrol``
(``tests/standins/slurm``: no cluster needed; the real-cluster tests are under
``tests/launchers/slurm``), and through the PBS launcher's stand-in ``pbsdsh``."""

from __future__ import annotations

import itertools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

import hyperdeme
from hyperdeme import HyperdemeWarning, LauncherOptions, Status
from hyperdeme._core._hosts import PoolTooSmall
from hyperdeme.launchers._packing import PackedHosts, Placement
from hyperdeme.launchers._pbs import HOSTS_VARIABLE, PbsLauncher

from .conftest import Evaluation, kernel_command, put_on_path

STANDINS = Path(__file__).parents[1] / "standins" / "slurm"
KERNEL = Path(__file__).parents[1] / "kernels" / "gpu_kernel.py"
SPACE = hyperdeme.Params([["--x", 0.5, (0.0, 1.0)]])


@pytest.fixture
def allocation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside Slurm job 7 on n1 and n2 (the stand-ins first on PATH)."""
    monkeypatch.setenv("PATH", f"{STANDINS}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("SLURM_JOB_ID", "7")
    monkeypatch.setenv("SLURM_STANDIN_HOSTS", "n1 n2")


async def run_on_slurm(tmp_path: Path, num_iters: int, **settings: Any) -> list[dict[str, Any]]:
    reports = tmp_path / "reports"
    reports.mkdir()
    (tmp_path / "src").mkdir()
    evaluator = hyperdeme.Evaluator(
        f"{sys.executable} {KERNEL}",
        src_path=str(tmp_path / "src"),
        run_path=str(tmp_path / "run"),
        launcher="slurm",
        env={"GPU_REPORT": str(reports), "GPU_HOLD": "0.4"},
        **settings,
    )
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=num_iters, seed=5, name="slurm")
    result = await hyperdeme.optimize(opt, SPACE)
    assert [t.status for t in result.trials] == [Status.OK] * num_iters, result.trials[0].error
    return [
        json.loads((reports / f"{t.id}.json").read_text()) | {"trial": t} for t in result.trials
    ]


@pytest.mark.usefixtures("allocation")
async def test_each_node_runs_as_many_evaluations_as_it_has_shares(tmp_path: Path) -> None:
    with pytest.warns(HyperdemeWarning, match=r"on each of 2 nodes .* 4 evaluations run"):
        reports = await run_on_slurm(
            tmp_path, 12, gpus=[0, 1, 2, 3], gpus_per_eval=2, num_parallel_evals=6
        )
    for report in reports:
        env = report["env"]
        ids = env["CUDA_VISIBLE_DEVICES"].split(",")
        assert ids in (["0", "1"], ["2", "3"])
        assert env["HYPERDEME_GPUS"] == env["ROCR_VISIBLE_DEVICES"] == ",".join(ids)
        assert env["SLURMD_NODENAME"] in ("n1", "n2")
        assert report["trial"].info["gpus"] == ids
        assert env["HYPERDEME_SLOT"] in ("0", "1", "2", "3")
    pairs = [
        (a, b)
        for a, b in itertools.combinations(reports, 2)
        if a["started"] < b["ended"] and b["started"] < a["ended"]
    ]
    # four at once: two on a node at the same time, on different devices
    same_node = [
        p for p in pairs if p[0]["env"]["SLURMD_NODENAME"] == p[1]["env"]["SLURMD_NODENAME"]
    ]
    assert same_node
    for a, b in same_node:
        assert a["env"]["CUDA_VISIBLE_DEVICES"] != b["env"]["CUDA_VISIBLE_DEVICES"]
    for a, b in pairs:
        assert a["env"]["HYPERDEME_SLOT"] != b["env"]["HYPERDEME_SLOT"]


async def test_shares_spread_over_the_nodes_and_a_dead_node_takes_its_shares_along() -> None:
    pool = PackedHosts(["n1", "n2"], ["0", "1", "2", "3", "4"], 2)  # "4" is left over
    first, second = await pool.take(1), await pool.take(1)
    assert (first, second) == (["n1"], ["n2"])
    assert isinstance(first, Placement)
    assert first.gpus == ("0", "1")
    pool.retire(["n1"])
    assert pool.retired == {"n1"}
    assert pool.in_service == 1
    third = await pool.take(1)
    assert third == ["n2"]
    assert isinstance(third, Placement)
    assert third.gpus == ("2", "3")
    pool.give_back(first)
    pool.restore(["n1"])
    assert pool.retired == frozenset()
    assert await pool.take(1) == ["n1"]


async def test_a_multi_node_evaluation_is_refused_the_pool() -> None:
    pool = PackedHosts(["n1", "n2"], ["0", "1"], 1)
    with pytest.raises(hyperdeme.ConfigError, match="srun --gpus-per-task") as caught:
        await pool.take(2)
    assert caught.value.name == "gpus"


async def test_a_pool_with_every_node_retired_is_too_small() -> None:
    pool = PackedHosts(["n1"], ["0"], 1)
    pool.retire(["n1"])
    with pytest.raises(PoolTooSmall):
        await pool.take(1)


async def test_pbs_packs_evaluations_onto_a_jobs_hosts_each_on_its_devices(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    evaluation: Callable[..., Evaluation],
) -> None:
    """The same packing inside a PBS job, through the stand-in ``pbsdsh`` of
    ``tests/standins/pbs``: four one-node evaluations at once on a job of two hosts
    with two GPUs each, each on one device of its host."""
    put_on_path(monkeypatch, "pbs")
    monkeypatch.setenv("PBS_STANDIN_SPOOL", str(tmp_path / "spool"))
    nodefile = tmp_path / "nodefile"
    nodefile.write_text("node-a\nnode-b\n")
    environ = {
        **os.environ,
        "PBS_NODEFILE": str(nodefile),
        "PBS_JOBID": "42.standin",
        "PBS_ENVIRONMENT": "PBS_BATCH",
        "PBS_STANDIN_JOB_OUTPUT": str(tmp_path / "job-output"),
    }
    evs = [
        evaluation(
            kernel_command("--show", HOSTS_VARIABLE, "--show", "CUDA_VISIBLE_DEVICES"),
            trial_id=i, device_pool=("0", "1"), gpus_per_eval=1,
        )
        for i in range(1, 5)
    ]  # fmt: skip
    infos: dict[int, Any] = {}
    async with PbsLauncher(LauncherOptions(extra={"poll_interval": 0.05}), environ=environ) as pbs:

        async def evaluate(ev: Evaluation) -> None:
            infos[ev.job.trial_id] = (await pbs.run(ev.job)).info

        async with anyio.create_task_group() as tg:
            for ev in evs:
                tg.start_soon(evaluate, ev)
    placed = set()
    for ev in evs:
        host = ev.output.split(f"{HOSTS_VARIABLE}=")[1].split()[0]
        device = ev.output.split("CUDA_VISIBLE_DEVICES=")[1].split()[0]
        assert infos[ev.job.trial_id]["gpus"] == [device]
        placed.add((host, device))
    # four evaluations ran at once (four shares, none waited): every share used once
    assert placed == {("node-a", "0"), ("node-a", "1"), ("node-b", "0"), ("node-b", "1")}


async def test_pbs_batch_jobs_each_get_the_first_ids_of_their_own_node(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Outside a PBS job each evaluation is a batch job of its own (stand-in ``qsub``):
    a node each, so no cap on the slots (no warning: warnings are errors here) and each
    job gets the first ``gpus_per_eval`` ids."""
    put_on_path(monkeypatch, "pbs")
    monkeypatch.setenv("PBS_STANDIN_SPOOL", str(tmp_path / "spool"))
    for variable in ("PBS_NODEFILE", "PBS_JOBID", "PBS_ENVIRONMENT"):
        monkeypatch.delenv(variable, raising=False)
    reports = tmp_path / "reports"
    reports.mkdir()
    (tmp_path / "src").mkdir()
    evaluator = hyperdeme.Evaluator(
        f"{sys.executable} {KERNEL}",
        src_path=str(tmp_path / "src"),
        run_path=str(tmp_path / "run"),
        workload_manager="pbs",
        launcher_options={"poll_interval": 0.05},
        env={"GPU_REPORT": str(reports), "GPU_HOLD": "0"},
        gpus=[0, 1, 2, 3],
        gpus_per_eval=2,
        num_parallel_evals=3,
    )
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=3, seed=5, name="pbs")
    result = await hyperdeme.optimize(opt, SPACE)
    assert [t.status for t in result.trials] == [Status.OK] * 3, result.trials[0].error
    for trial in result.trials:
        env = json.loads((reports / f"{trial.id}.json").read_text())["env"]
        assert env["CUDA_VISIBLE_DEVICES"] == env["HYPERDEME_GPUS"] == "0,1"
        assert env["HYPERDEME_TRIAL"] == str(trial.id)
