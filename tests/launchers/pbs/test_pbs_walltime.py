"""The PBS job a driver runs in ends under it, on the real OpenPBS server: its walltime
runs out (``-l walltime=00:00:12`` for more work than fits), or it is deleted (``qdel``).

PBS signals every process of the job, the driver and its ``pbsdsh`` tasks alike
(SIGTERM, then SIGKILL after ``kill_delay``): what ran is journalled as cut short
(cancelled or interrupted, never failed: not its parameters' fault), and ``--resume``
from a new job completes the budget exactly, running those trials again.
"""

from __future__ import annotations

import shlex
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

import hyperdeme
from hyperdeme import Status

from .conftest import DRIVE, Server

pytestmark = pytest.mark.timeout(300)

EVALS = 10
CUT_SHORT = {Status.CANCELLED, Status.INTERRUPTED}


def submit(pbs: Server, run: Path, *, walltime: str, resume: bool, name: str) -> str:
    """Submit the driver as a batch job (as a user's script: activate the venv, run it)."""
    drive = ["python", str(DRIVE), str(run), "--evals", str(EVALS), "--parallel", "1",
             "--python", "python", "--kernel=--sleep=3"]  # fmt: skip
    if resume:
        drive.append("--resume")
    script = pbs.workdir / f"{name}.pbs"
    script.write_text(
        "#!/bin/sh\n"
        f"#PBS -N {name}\n"
        "#PBS -l select=1:ncpus=1\n"
        f"#PBS -l walltime={walltime}\n"
        f"cd {shlex.quote(str(pbs.workdir))}\n"
        f". {shlex.quote(str(Path(pbs.python).parent / 'activate'))}\n"
        f"exec {shlex.join(drive)}\n"
    )
    out = pbs.workdir / f"{name}.out"
    return pbs.run("qsub", "-j", "oe", "-o", str(out), str(script)).stdout.strip()


def journal(run: Path) -> list[hyperdeme.Trial]:
    path = run / "pbs" / "trials.jsonl"
    return hyperdeme.read_journal(path) if path.exists() else []


def finished(pbs: Server, jobid: str) -> bool:
    return bool(pbs.history(jobid)["job_state"] == "F")


@pytest.mark.parametrize("end", ["walltime", "qdel"])
def test_resume_from_a_new_job_completes_the_budget_after_the_job_ended(
    pbs: Server, end: str
) -> None:
    run = pbs.workdir / "run"
    first = submit(pbs, run, walltime="00:00:12" if end == "walltime" else "00:10:00",
                   resume=False, name="hd-first")  # fmt: skip
    if end == "qdel":
        pbs.wait_until(lambda: any(t.status is Status.OK for t in journal(run)), seconds=120)
        pbs.run("qdel", first)
    pbs.wait_until(lambda: finished(pbs, first), seconds=150)
    ended = pbs.history(first)
    assert ended["Exit_status"] != 0, ended  # the job did not end by itself
    before = journal(run)
    counts = Counter(t.status for t in before)
    assert Status.FAILED not in counts, [(t.status, t.error) for t in before]
    assert 0 < counts[Status.OK] < EVALS, counts  # it ran some, not all
    # the one running when PBS signalled the job: SIGTERM reached the driver, which
    # journalled it cut short before kill_delay's SIGKILL
    assert sum(counts[status] for status in CUT_SHORT) == 1, counts

    second = submit(pbs, run, walltime="00:10:00", resume=True, name="hd-resume")
    pbs.wait_until(lambda: finished(pbs, second), seconds=150)
    out = pbs.workdir / "hd-resume.out"
    assert pbs.history(second)["Exit_status"] == 0, out.read_text() if out.exists() else ""
    after = journal(run)
    assert Status.FAILED not in {t.status for t in after}
    done = [t for t in after if t.status is Status.OK]
    assert len(done) == EVALS  # the budget exactly: nothing lost, nothing twice
    assert len({t.id for t in done}) == EVALS
    assert {t.info.get("allocation") for t in done} <= {first, second}


@pytest.fixture
def outliving(pbs: Server) -> Iterator[Server]:
    """The server; a driver of this test that outlived its job (a failed test) is killed
    afterwards, and fails the test. (Not every process naming the directory: OpenPBS's
    ``qsub`` leaves a daemon of itself behind, holding its first arguments.)"""
    yield pbs
    left = [
        p for p in psutil.process_iter(["cmdline"])
        if f"{DRIVE} {pbs.workdir}" in " ".join(p.info["cmdline"] or [])
    ]  # fmt: skip
    for process in left:
        process.kill()
    assert not left, f"a driver outlived the test: {[p.pid for p in left]}"


def test_a_driver_that_outlives_its_job_stops_with_allocation_ended(outliving: Server) -> None:
    """The driver started in a session of its own (``setsid``), which PBS does not signal:
    it outlives its job, whose walltime kills the ``pbsdsh`` task under it. The launcher
    asks qstat, the trial is journalled interrupted and the run stops with
    AllocationEnded naming the job and its walltime (the driver exits 1)."""
    pbs = outliving
    run = pbs.workdir / "run"
    out = pbs.workdir / "driver.out"
    drive = ["python", str(DRIVE), str(run), "--evals", str(EVALS), "--parallel", "1",
             "--python", "python", "--kernel=--sleep=3"]  # fmt: skip
    script = pbs.workdir / "outlives.pbs"
    script.write_text(
        "#!/bin/sh\n"
        "#PBS -N hd-outlives\n"
        "#PBS -l select=1:ncpus=1\n"
        "#PBS -l walltime=00:00:12\n"
        f"cd {shlex.quote(str(pbs.workdir))}\n"
        f". {shlex.quote(str(Path(pbs.python).parent / 'activate'))}\n"
        f"setsid -w sh -c '{shlex.join(drive)} > driver.out 2>&1; echo exit=$? >> driver.out'\n"
    )
    jobid = pbs.run("qsub", "-j", "oe", "-o", str(pbs.workdir / "job.out"), str(script))
    jobid_text = jobid.stdout.strip()
    pbs.wait_until(lambda: finished(pbs, jobid_text), seconds=150)
    pbs.wait_until(lambda: out.exists() and "exit=" in out.read_text(), seconds=60)
    text = out.read_text()
    assert "exit=1" in text, text[-3000:]
    assert f"PBS job {jobid_text} (the allocation this run was started in) ended" in text
    assert "its walltime (00:00:12) ran out" in text
    trials = journal(run)
    counts = Counter(t.status for t in trials)
    assert counts[Status.INTERRUPTED] == 1, counts
    assert Status.FAILED not in counts
    (cut,) = [t for t in trials if t.status is Status.INTERRUPTED]
    assert cut.info["allocation"] == jobid_text
