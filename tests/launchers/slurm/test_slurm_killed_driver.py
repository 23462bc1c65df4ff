"""A driver killed with SIGKILL on the real Slurm cluster: its job steps end with it, the
allocation it made is released, and the experiment resumes to its exact budget.

The driver is a subprocess running a random search whose evaluations are ``srun`` steps
of an allocation the driver made itself (``nodes=1``). After SIGKILL only the run's
watchdog is left to act: it stops each step's ``srun`` (SIGTERM: srun cancels its step)
and runs ``scancel`` for the allocation.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import hyperdeme
from hyperdeme import Status

from .conftest import KERNEL, Cluster, source_dir

pytestmark = pytest.mark.timeout(180)

DRIVER = textwrap.dedent(
    """
    import sys
    import hyperdeme
    run_path, source, kernel, resume = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    evaluator = hyperdeme.Evaluator(
        f"{sys.executable} {kernel} --sleep=2", run_path=run_path, src_path=source,
        workload_manager="slurm", nodes=1, alloc_timeout=10,
    )
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=8, seed=3, name="killed")
    space = hyperdeme.Params([["--x", 0.5, (0.0, 1.0)]])
    opt.optimize(space, resume=resume == "resume")
    """
)


def start_driver(tmp_path: Path, resume: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(tmp_path / "run"), str(source_dir(tmp_path)),
         str(KERNEL), resume],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ.copy(),
    )  # fmt: skip


def ours(cluster: Cluster) -> list[str]:
    """Jobs and steps of hyperdeme's own allocations (named hyperdeme-...)."""
    lines = cluster.run("squeue", "-h", "-s", "-o", "%i %j").stdout.splitlines()
    jobs = cluster.run("squeue", "-h", "-o", "%i %j").stdout.splitlines()
    mine = {line.split()[0] for line in jobs if " hyperdeme-" in line}
    return [line for line in [*jobs, *lines] if line.split()[0].split(".")[0] in mine]


def test_a_sigkilled_drivers_steps_and_allocation_end_with_it(
    slurm: Cluster, tmp_path: Path
) -> None:
    driver = start_driver(tmp_path, "fresh")
    journal = tmp_path / "run" / "killed" / "trials.jsonl"
    try:
        # Slurm is external state: poll until a step runs (and a trial finished)
        deadline = time.monotonic() + 90
        while not (
            journal.exists()
            and journal.read_bytes().count(b'"type":"trial"') >= 1
            and any("." in line.split()[0] for line in ours(slurm))
        ):
            assert driver.poll() is None, driver.stderr.read() if driver.stderr else b""
            assert time.monotonic() < deadline, "the driver started no steps in 90 s"
            time.sleep(0.1)
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait()
        # within a few seconds, nothing of the run is left on the cluster
        slurm.wait_until(lambda: ours(slurm) == [], seconds=30)
    finally:
        driver.kill()
        driver.wait()
        if driver.stderr is not None:
            driver.stderr.close()
    finished = {t.id for t in hyperdeme.read_journal(journal) if t.status is Status.OK}
    assert finished
    resumed = start_driver(tmp_path, "resume")
    _, err = resumed.communicate(timeout=150)
    assert resumed.returncode == 0, err.decode()[-2000:]
    trials = hyperdeme.read_journal(journal)
    assert sorted(t.id for t in trials) == list(range(1, 9))
    assert all(t.status is Status.OK for t in trials)
    assert ours(slurm) == []
