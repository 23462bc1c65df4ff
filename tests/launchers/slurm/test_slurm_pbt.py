"""Population-based training on the real single-node Slurm cluster.

Each evaluation is a job step that resumes a checkpoint the driver copied on
the shared file system; a crayai PBT script runs inside ``sbatch`` and
``salloc`` without being told any nodes, as the SC19 examples are run.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import hyperdeme
from hyperdeme import Status
from lineage import assert_continuations, recorded

from .conftest import Cluster

pytestmark = [pytest.mark.slurm, pytest.mark.timeout(300)]

REPO = Path(__file__).parents[3]
EXAMPLE = REPO / "examples" / "pbt"
CRAYAI_SCRIPT = Path(__file__).with_name("crayai_pbt.py")
MODEL = "@checkpoint/model.npz"
STEP = re.compile(r"^slurm step (\d+)\.(\d+)$", re.MULTILINE)


def steps_of(run_dir: Path, trials: list[hyperdeme.Trial]) -> list[tuple[str, str]]:
    """(job, step) each trial's program printed: where Slurm ran it."""
    found = []
    for trial in trials:
        match = STEP.search((run_dir / f"{trial.id:05d}" / "stdout.log").read_text())
        assert match is not None, trial.id
        found.append((match[1], match[2]))
    return found


@pytest.mark.parametrize("mode", ["async", "sync"])
async def test_pbt_steps_resume_checkpoints_on_shared_storage(
    slurm: Cluster, tmp_path: Path, mode: str
) -> None:
    jobid = slurm.allocate(1)
    try:
        evaluator = hyperdeme.Evaluator(
            'echo "slurm step $SLURM_JOB_ID.$SLURM_STEP_ID"; '
            f"{shlex.quote(sys.executable)} train.py --epochs 1 "
            f"--load_checkpoint {MODEL} --save_checkpoint {MODEL}",
            workload_manager="slurm",
            alloc_jobid=jobid,
            src_path=str(EXAMPLE),
            run_path=str(tmp_path / "run"),
            checkpoint=str(tmp_path / "shared" / "ckpt"),
            num_parallel_evals=2,
            fsync=False,
        )
        opt = hyperdeme.PBTOptimizer(
            evaluator, population=3, steps=3, quantile=0.34, mode=mode, seed=5, name="pbt"
        )
        result = await hyperdeme.optimize(opt, hyperdeme.Params(
            [["--lr", 0.05, (1e-3, 1.0), {"log": True}], ["--momentum", 0.9, (0.0, 0.99)]]
        ))  # fmt: skip
    finally:
        slurm.release(jobid)
    run_dir = tmp_path / "run" / "pbt"
    assert [t.status for t in result.trials] == [Status.OK] * 9
    ran = steps_of(run_dir, result.trials)
    assert {job for job, _ in ran} == {str(jobid)}
    assert len(set(ran)) == 9  # one job step per slice
    assert_continuations(run_dir, result.trials)
    for trial in result.trials:
        assert len(recorded(run_dir, trial, "saved")) == len(recorded(run_dir, trial, "loaded")) + 1
    assert len(result.schedules()) == 3
    left = sorted(p.name for p in (tmp_path / "shared" / "ckpt" / "pbt").iterdir())
    assert len([name for name in left if "@" not in name]) == 3  # each member's last
    assert not [name for name in left if name.endswith(".tmp")]


@pytest.mark.parametrize("how", ["sbatch", "salloc"])
def test_a_crayai_pbt_script_runs_inside_an_allocation_without_nodes(
    slurm: Cluster, tmp_path: Path, how: str
) -> None:
    """``nodes`` left at the script's default (1), ``alloc_jobid`` at 0: hyperdeme runs
    every evaluation as a step of the job it is in, on that job's nodes, and never
    allocates or releases anything."""
    script = (
        f"{shlex.quote(sys.executable)} {CRAYAI_SCRIPT} --example {EXAMPLE} "
        f"--run_path {tmp_path / 'runs'} --checkpoint {tmp_path / 'checkpoints'}"
    )
    output = tmp_path / "job.out"
    if how == "sbatch":
        batch = tmp_path / "job.sh"
        batch.write_text(f"#!/bin/sh\ncd {tmp_path}\n{script}\n")
        argv = ["sbatch", "--wait", "-N1", "-t", "5", "-J", "sc19-pbt", "-o", str(output)]
        slurm.run(*argv, str(batch), check=True)
        log = output.read_text()
    else:
        done = subprocess.run(
            ["salloc", "-N1", "-t", "5", "-J", "sc19-pbt", "/bin/sh", "-c", script],
            cwd=tmp_path, capture_output=True, text=True, timeout=240, check=True,
        )  # fmt: skip
        log = done.stdout + done.stderr
    assert "best FoM:" in log
    detected = re.search(r"launcher\.detected\s+launcher=slurm reason='SLURM_JOB_ID=(\d+)", log)
    assert detected is not None, log
    jobid = detected[1]
    assert re.search(rf"slurm\.allocation\s+hosts=\['localhost'\] jobid={jobid} owned=False", log)
    run_dir = tmp_path / "runs" / "sc19"
    trials = hyperdeme.read_journal(run_dir)
    assert len(trials) == 6
    assert all(t.ok for t in trials)
    ran = steps_of(run_dir, trials)
    assert {job for job, _ in ran} == {jobid}  # steps of the job it was started in
    assert len(set(ran)) == 6
    assert_continuations(run_dir, trials)  # crayai's PBT: children continued their parents
    assert any(t.info["checkpoint_from"] is not None for t in trials)
