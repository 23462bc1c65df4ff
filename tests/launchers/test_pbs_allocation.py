"""The PBS launcher's allocation life (see ``_pbs_allocation``): qstat's words parsed,
a queued evaluation's job shown as pending and bounded, and the job the driver runs in
found ended after a task died with it. The real server shows the same in
``tests/launchers/pbs/test_pbs_never_runs.py`` and ``test_pbs_walltime.py``; the driver's
own job ending is faked here (a qstat answer), as on the real server PBS's SIGTERM
reaches the driver first."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from hyperdeme import AllocationEnded, LauncherError, LauncherOptions
from hyperdeme.launchers import _pbs
from hyperdeme.launchers._allocation import status_listener
from hyperdeme.launchers._pbs import PbsLauncher
from hyperdeme.launchers._pbs_allocation import PendingJob
from hyperdeme.launchers._pbs_commands import JobStatus, ended_why, parse_qstat_json

from .conftest import Evaluation, kernel_command, put_on_path

FAST = {"poll_interval": 0.05}


@pytest.fixture
def pbs_job(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """The stand-in PBS tools on PATH, and the environment of a stand-in PBS job
    (``42.standin``) holding node-a (as ``test_pbs.py``'s)."""
    put_on_path(monkeypatch, "pbs")
    monkeypatch.setenv("PBS_STANDIN_SPOOL", str(tmp_path / "spool"))
    nodefile = tmp_path / "nodefile"
    nodefile.write_text("node-a\n")
    return {
        **os.environ,
        "PBS_NODEFILE": str(nodefile),
        "PBS_JOBID": "42.standin",
        "PBS_ENVIRONMENT": "PBS_BATCH",
        "PBS_STANDIN_JOB_OUTPUT": str(tmp_path / "job-output"),
    }


def qstat_json(jobid: str, **info: object) -> str:
    return json.dumps({"Jobs": {jobid: info}})


def test_qstat_comment_and_walltimes_are_read() -> None:
    text = qstat_json(
        "9.vm", job_state="Q",
        comment="Can Never Run: Insufficient amount of resource: mem (R: 1000gb A: 24105mb)",
        Resource_List={"walltime": "01:00:12"}, resources_used={"walltime": "00:01:05"},
    )  # fmt: skip
    status = parse_qstat_json(text, "9.vm")
    assert status is not None
    assert status.waiting
    assert status.never_runs
    assert not status.ending
    assert (status.walltime_limit, status.walltime_used) == (3612, 65)
    assert not JobStatus("Q", comment="Not Running: Queue not started.").never_runs
    assert not JobStatus("R", comment="Can Never Run: x").never_runs  # it runs after all
    assert JobStatus("E").ending
    assert JobStatus("R", exit_status=0).ending


@pytest.mark.parametrize(
    ("status", "why"),
    [
        (JobStatus("F", -29, walltime_limit=12), "its walltime (00:00:12) ran out"),
        (JobStatus("E", walltime_used=3600, walltime_limit=3600), "walltime (01:00:00) ran"),
        (JobStatus("F", 271, comment="... and terminated by hdpbs@vm"), "deleted (qdel)"),
        (JobStatus("F", -25), "exceeding a resource limit (Exit_status -25)"),
        (JobStatus("F", 0), "it finished (Exit_status 0)"),
    ],
)
def test_why_a_job_ended_in_plain_words(status: JobStatus, why: str) -> None:
    assert why in ended_why(status)


async def test_a_queued_job_shows_pbs_comment_as_pending_until_it_runs() -> None:
    shown: list[str | None] = []
    pending = PendingJob("5.vm", float("inf"))
    with status_listener(shown.append):
        pending.check(JobStatus("Q", comment="Not Running: Queue not started."))
        pending.check(JobStatus("Q", comment="Not Running: Queue not started."))  # unchanged
        pending.check(JobStatus("Q", comment="Not Running: Insufficient amount of resource"))
        pending.check(JobStatus("R"))
    assert shown == [
        "pending: Not Running: Queue not started.",
        "pending: Not Running: Insufficient amount of resource",
        None,
    ]


async def test_can_never_run_fails_at_once_with_pbs_words() -> None:
    comment = "Can Never Run: Insufficient amount of resource: mem (R: 1000gb A: 24105mb)"
    with pytest.raises(LauncherError, match=r"PBS will never start job 5\.vm") as caught:
        PendingJob("5.vm", float("inf")).check(JobStatus("Q", comment=comment))
    assert comment in str(caught.value)


async def test_alloc_wait_bounds_the_queued_wait() -> None:
    pending = PendingJob("5.vm", 0.001)
    pending.check(JobStatus("R"))  # running: no wait counted
    held = JobStatus("H", comment="Not Running: held")
    pending.check(held)  # the wait starts
    await _pbs.anyio.sleep(0.01)
    with pytest.raises(LauncherError, match=r"still pending after alloc_wait=0\.001 s"):
        pending.check(held)


def test_alloc_wait_must_be_positive() -> None:
    with pytest.raises(ValueError, match="alloc_wait"):
        PbsLauncher(LauncherOptions(extra={"alloc_wait": 0}))


def fake_qstat(monkeypatch: pytest.MonkeyPatch, answer: str) -> list[Sequence[str]]:
    """``qstat`` of the driver's own job answers ``answer``; the calls are kept."""
    calls: list[Sequence[str]] = []

    async def capture(argv: Sequence[str], **_: object) -> tuple[int, str, str]:
        calls.append(argv)
        return 0, answer, ""

    monkeypatch.setattr("hyperdeme.launchers._pbs_allocation.capture", capture)
    return calls


async def test_a_task_killed_with_the_drivers_job_ends_the_run(
    pbs_job: dict[str, str],
    evaluation: Callable[..., Evaluation],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Against the stand-in pbsdsh: the task dies of SIGTERM (143) and qstat says the
    driver's job 42.standin exceeded its walltime: AllocationEnded names the job and
    why, and every later evaluation raises it without starting."""
    ended = qstat_json(
        "42.standin", job_state="F", Exit_status=-29, Resource_List={"walltime": "00:00:20"},
        comment="Job run at Mon and exceeded resource walltime",
    )  # fmt: skip
    calls = fake_qstat(monkeypatch, ended)
    ev = evaluation(kernel_command("--exit", "143"))
    later = evaluation("true", trial_id=2)
    async with PbsLauncher(LauncherOptions(extra=FAST), environ=pbs_job) as launcher:
        with pytest.raises(AllocationEnded) as caught:
            await launcher.run(ev.job)
        with pytest.raises(AllocationEnded) as again:
            await launcher.run(later.job)
    assert calls == [["qstat", "-f", "-F", "json", "-x", "42.standin"]]
    error = caught.value
    assert again.value is error
    assert error.allocation == "42.standin"
    assert "PBS job 42.standin (the allocation this run was started in) ended" in str(error)
    assert "its walltime (00:00:20) ran out" in str(error)
    assert "--resume" in str(error)
    assert not (later.job.cwd / ".hyperdeme").exists()  # never started


@pytest.mark.parametrize("code", ["0", "6"])
async def test_a_task_that_ends_by_itself_does_not_ask_qstat(
    pbs_job: dict[str, str],
    evaluation: Callable[..., Evaluation],
    monkeypatch: pytest.MonkeyPatch,
    code: str,
) -> None:
    calls = fake_qstat(monkeypatch, qstat_json("42.standin", job_state="F", Exit_status=-29))
    ev = evaluation(kernel_command("--exit", code))
    async with PbsLauncher(LauncherOptions(extra=FAST), environ=pbs_job) as launcher:
        exit_ = await launcher.run(ev.job)
    assert exit_.returncode == int(code)
    assert exit_.info == {"allocation": "42.standin"}
    assert calls == []


async def test_a_killed_task_of_a_running_job_is_its_own_failure(
    pbs_job: dict[str, str],
    evaluation: Callable[..., Evaluation],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The driver's job still runs (R): a task killed by a signal failed by itself."""
    monkeypatch.setattr(_pbs, "_ENDING_CHECK", 0.3)
    calls = fake_qstat(monkeypatch, qstat_json("42.standin", job_state="R"))
    ev = evaluation(kernel_command("--exit", "137"))
    async with PbsLauncher(LauncherOptions(extra=FAST), environ=pbs_job) as launcher:
        exit_ = await launcher.run(ev.job)
    assert exit_.returncode == 137
    assert calls  # it asked
