"""Inside a PBS job on the real OpenPBS server: the driver itself is a batch job, and its
evaluations run with ``pbsdsh`` on the hosts of ``$PBS_NODEFILE``, not as jobs of their own.

OpenPBS's ``pbsdsh`` writes its task's output to the job's own output and exits 0
whatever the task did: the launcher's ``sh -c`` wrapper writes the task's output and exit
status to files, which is what this shows against the real thing (one evaluation fails
on purpose, and must be recorded as failed, with its exit code). The job script
activates a venv, as a user's does, and the evaluations find ``python`` on the driver's
PATH, which ``pbsdsh``'s tasks do not inherit (they get the MOM's).
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

import hyperdeme
from hyperdeme import Status

from .conftest import DRIVE, Server

pytestmark = pytest.mark.timeout(300)


def test_a_driver_submitted_as_a_job_runs_its_evaluations_with_pbsdsh(pbs: Server) -> None:
    run, state = pbs.workdir / "run", pbs.workdir / "state"
    drive = ["python", str(DRIVE), str(run), "--evals", "3", "--parallel", "1", "--show-task",
             "--python", "python", f"--kernel=--state={state} --fail-first=1"]  # fmt: skip
    script = pbs.workdir / "driver.pbs"
    script.write_text(  # as a user's: activate the venv, run the driver
        "#!/bin/sh\n"
        "#PBS -N hd-driver\n"
        "#PBS -l select=1:ncpus=2:mpiprocs=2\n"
        "#PBS -l walltime=00:10:00\n"
        f"cd {shlex.quote(str(pbs.workdir))}\n"
        f". {shlex.quote(str(Path(pbs.python).parent / 'activate'))}\n"
        f"exec {shlex.join(drive)}\n"
    )
    out = pbs.workdir / "driver.out"
    jobid = pbs.run("qsub", "-j", "oe", "-o", str(out), str(script)).stdout.strip()
    pbs.wait_until(lambda: pbs.history(jobid)["job_state"] == "F", seconds=240)
    job = pbs.history(jobid)
    assert job["Exit_status"] == 0, out.read_text() if out.exists() else job
    assert list(pbs.ours()) == [jobid]  # no job per evaluation: pbsdsh placed them
    trials = hyperdeme.read_journal(run / "pbs" / "trials.jsonl")
    assert [t.status for t in trials] == [Status.FAILED, Status.OK, Status.OK]
    assert trials[0].returncode == 1  # pbsdsh said 0; the task's own status file said 1
    for trial in trials[1:]:
        x, n = trial.params["--x"], trial.params["--n"]
        assert trial.fom == pytest.approx((x - 0.3) ** 2 + 0.01 * (n - 5) ** 2)
    logs = "".join(p.read_text() for p in sorted(Path(run).rglob("*stdout*")) if p.is_file())
    assert f"job={jobid} task=" in logs, logs[-2000:]  # a task of the driver's own job
