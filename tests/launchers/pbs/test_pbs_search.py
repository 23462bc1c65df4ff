"""Searches through the real OpenPBS server, outside any PBS job: one ``qsub`` job per
evaluation, and what PBS itself refuses.

The driver runs as the server's plain user through ``scripts/pbs-exec`` (see
``conftest.py``); every job of a test is found by its output path in the test's own
directory, in ``qstat -x`` (job history is on).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

import hyperdeme
from hyperdeme import Status

from .conftest import Server, finish

pytestmark = pytest.mark.timeout(300)


def fom(params: dict[str, Any]) -> float:
    """The test kernel's FoM."""
    return float((params["--x"] - 0.3) ** 2 + 0.01 * (params["--n"] - 5) ** 2)


def pbs_time(text: str) -> float:
    """A PBS time attribute (``stime``, ``obittime``: "Mon Dec  7 06:40:00 2026")."""
    return time.mktime(time.strptime(text, "%a %b %d %H:%M:%S %Y"))


def most_at_once(jobs: list[dict[str, Any]]) -> int:
    """How many of ``jobs`` ran at the same time at most (by PBS's start/end times)."""
    spans = [(pbs_time(job["stime"]), pbs_time(job["obittime"])) for job in jobs]
    return max(sum(start <= t < end for start, end in spans) for t, _ in spans)


def test_genetic_search_runs_one_qsub_job_per_evaluation(pbs: Server) -> None:
    run = pbs.workdir / "run"
    driver = pbs.driver(run, "--search", "genetic", "--evals", "8", "--parallel", "2",
                        "--kernel=--sleep=2")  # fmt: skip
    out = finish(driver, 240)
    assert driver.returncode == 0, out[-3000:]
    trials = hyperdeme.read_journal(run / "pbs" / "trials.jsonl")
    assert len(trials) >= 8
    assert [t.status for t in trials] == [Status.OK] * len(trials), [t.error for t in trials]
    for trial in trials:  # read from each job's own output
        assert trial.fom == pytest.approx(fom(trial.params))
    jobs = pbs.ours()
    assert len(jobs) == len(trials)  # one job per evaluation
    assert {job["job_state"] for job in jobs.values()} == {"F"}
    assert {job["Exit_status"] for job in jobs.values()} == {0}
    assert most_at_once(list(jobs.values())) >= 2
    assert pbs.unfinished() == []


def test_a_job_finds_its_program_on_the_drivers_path(pbs: Server) -> None:
    """PBS gives a job the MOM's PATH (``/usr/local/bin:/usr/bin:/bin``), where Debian has
    no ``python``; the driver's PATH (``pbs-exec``: the venv's bin first) has one."""
    run = pbs.workdir / "run"
    driver = pbs.driver(run, "--evals", "1", "--parallel", "1", "--python", "python")
    out = finish(driver, 120)
    assert driver.returncode == 0, out[-3000:]
    (trial,) = hyperdeme.read_journal(run / "pbs" / "trials.jsonl")
    assert trial.status is Status.OK, trial.error
    assert trial.fom == pytest.approx(fom(trial.params))


@pytest.mark.parametrize(
    ("alloc_args", "message"),
    [
        ("-q nosuchqueue", "Unknown queue"),
        ("-l nosuchresource=1", "Unknown resource"),
        ("-l select=1:ncpus=64", "violates queue"),
    ],
)
def test_a_job_pbs_refuses_is_a_failed_trial_with_qsubs_message(
    pbs: Server, alloc_args: str, message: str
) -> None:
    run = pbs.workdir / "run"
    driver = pbs.driver(run, "--evals", "1", "--parallel", "1", "--alloc-args", alloc_args)
    out = finish(driver, 120)
    assert driver.returncode == 0, out[-3000:]
    (trial,) = hyperdeme.read_journal(run / "pbs" / "trials.jsonl")
    assert trial.status is Status.FAILED
    assert message.lower() in trial.error.lower(), trial.error
    assert "qsub" in trial.error
    assert pbs.unfinished_ours() == []


def test_a_crayai_script_with_workload_manager_pbs(pbs: Server) -> None:
    script = Path(__file__).with_name("crayai_pbs.py")
    run = pbs.workdir / "run"
    result = pbs.run(pbs.python, str(script), str(run))
    assert "best FoM:" in result.stdout, result.stdout[-2000:] + result.stderr[-2000:]
    said = result.stdout + result.stderr  # verbose: the launcher chosen, each job submitted
    assert "launcher=pbs reason=\"workload_manager='pbs' was given\"" in said
    assert "qsub_version='pbs_version = " in said
    assert said.count("pbs.submitted") >= 2
    (journal,) = run.glob("*/trials.jsonl")
    trials = hyperdeme.read_journal(journal)
    assert trials
    assert all(t.status is Status.OK for t in trials), [t.error for t in trials]
    jobs = pbs.ours()
    assert len(jobs) == len(trials)
    assert {job["Exit_status"] for job in jobs.values()} == {0}
