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
from pathlib import Path

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
