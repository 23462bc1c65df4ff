"""Stopping evaluations on the real OpenPBS server: ``eval_timeout``, SIGTERM of the
driver, ASHA's early stopping and a SIGKILLed driver. Each time the job is deleted
(``qdel``), the trial says why, and nothing of the test is left in ``qstat``.

The driver runs as the server's plain user through ``scripts/pbs-exec``, whose pid is
the driver's own (it execs), so a signal sent to it reaches the driver.
"""

from __future__ import annotations

import signal

import pytest

import hyperdeme
from hyperdeme import Status

from .conftest import Server, finish, stop

pytestmark = pytest.mark.timeout(300)

#: Exit_status of a job deleted while it ran: 271 (256 + SIGTERM) when PBS saw the job
#: script killed, 143 (128 + SIGTERM, the shell's) when the MOM's SIGTERM reached the
#: program first and the script ended by itself (both seen here, at random)
DELETED = frozenset({271, 143})
#: a bound on the time from ``qdel`` to the job's state F (measured: 1-7 s here; the MOM
#: sometimes notices the end of a killed task only at its next periodic check)
GONE = 60


def test_eval_timeout_deletes_the_job(pbs: Server) -> None:
    run = pbs.workdir / "run"
    driver = pbs.driver(run, "--evals", "1", "--parallel", "1", "--kernel=--hang",
                        "--eval-timeout", "6")  # fmt: skip
    out = finish(driver, 120)
    assert driver.returncode == 0, out[-3000:]
    (trial,) = hyperdeme.read_journal(run / "pbs" / "trials.jsonl")
    assert trial.status is Status.TIMEOUT, trial.error
    pbs.wait_until(lambda: pbs.unfinished_ours() == [], seconds=GONE)
    (job,) = pbs.ours().values()
    assert job["Exit_status"] in DELETED  # killed by qdel's SIGTERM, not ended by itself


def test_sigterm_of_the_driver_deletes_its_jobs(pbs: Server) -> None:
    run = pbs.workdir / "run"
    driver = pbs.driver(run, "--evals", "2", "--parallel", "2", "--kernel=--hang")
    try:
        pbs.wait_until(lambda: len(pbs.running()) == 2 or driver.poll() is not None)
        assert driver.poll() is None, driver.communicate()[0][-3000:]
        driver.send_signal(signal.SIGTERM)
        out = finish(driver, 60)
    finally:
        stop(driver)
    assert driver.returncode == 128 + signal.SIGTERM, out[-3000:]
    trials = hyperdeme.read_journal(run / "pbs" / "trials.jsonl")
    assert [t.status for t in trials] == [Status.CANCELLED] * 2
    pbs.wait_until(lambda: pbs.unfinished_ours() == [], seconds=GONE)
    jobs = pbs.ours()
    assert len(jobs) == 2
    assert {job["Exit_status"] for job in jobs.values()} <= DELETED


def test_asha_stops_hopeless_jobs_from_their_output(pbs: Server) -> None:
    run = pbs.workdir / "run"
    state = pbs.workdir / "state"
    kernel = f"--kernel=--epochs=4 --hang-after=1 --state={state}"
    driver = pbs.driver(run, "--evals", "3", "--parallel", "1", "--asha", kernel)
    out = finish(driver, 180)
    assert driver.returncode == 0, out[-3000:]
    trials = hyperdeme.read_journal(run / "pbs" / "trials.jsonl")
    assert [(t.status, t.steps) for t in trials] == [
        (Status.OK, 4), (Status.STOPPED, 1), (Status.STOPPED, 1),
    ], [t.error for t in trials]  # fmt: skip
    for trial in trials[1:]:  # the first epoch's FoM, read while the job ran
        x, n = trial.params["--x"], trial.params["--n"]
        assert trial.fom == pytest.approx((x - 0.3) ** 2 + 0.01 * (n - 5) ** 2 + 1)
    pbs.wait_until(lambda: pbs.unfinished_ours() == [], seconds=GONE)
    statuses = sorted(job["Exit_status"] for job in pbs.ours().values())
    assert statuses[0] == 0
    assert len(statuses) == 3
    assert set(statuses[1:]) <= DELETED


def test_a_sigkilled_drivers_jobs_are_deleted_and_resume_completes_the_budget(
    pbs: Server,
) -> None:
    run = pbs.workdir / "run"
    journal = run / "pbs" / "trials.jsonl"
    args = ("--evals", "4", "--parallel", "2", "--kernel=--sleep=12")
    driver = pbs.driver(run, *args)
    try:
        # the first pair finished, the second pair runs: kill the driver now
        pbs.wait_until(
            lambda: driver.poll() is not None
            or (journal.exists() and len(hyperdeme.read_journal(journal)) == 2
                and len(pbs.running()) == 2),
            seconds=120,
        )  # fmt: skip
        assert driver.poll() is None, driver.communicate()[0][-3000:]
        running = set(pbs.running())
        driver.send_signal(signal.SIGKILL)
        driver.communicate(timeout=30)
    finally:
        stop(driver)
    # only the run's watchdog is left to delete the jobs (Exit_status: killed, not ended)
    pbs.wait_until(lambda: pbs.unfinished_ours() == [], seconds=GONE)
    jobs = pbs.ours()
    assert len(running) == 2
    assert {jobs[jobid]["Exit_status"] for jobid in running} <= DELETED
    resumed = pbs.driver(run, *args, "--resume")
    out = finish(resumed, 120)
    assert resumed.returncode == 0, out[-3000:]
    trials = hyperdeme.read_journal(journal)
    assert sorted(t.id for t in trials) == [1, 2, 3, 4]
    assert all(t.status is Status.OK for t in trials), [t.error for t in trials]
    assert pbs.unfinished_ours() == []


def test_a_walltime_kill_is_a_failed_trial_saying_what_pbs_said(pbs: Server) -> None:
    """``alloc_timeout`` (minutes) is the job's walltime; PBS kills the job past it (its
    MOM notices within about 20 s more), Exit_status -29 (JOB_EXEC_KILL_WALLTIME), and
    PBS's own message reaches the trial. It takes a minute and a half."""
    run = pbs.workdir / "run"
    driver = pbs.driver(run, "--evals", "1", "--parallel", "1", "--kernel=--hang",
                        "--alloc-timeout", "1")  # fmt: skip
    out = finish(driver, 240)
    assert driver.returncode == 0, out[-3000:]
    (trial,) = hyperdeme.read_journal(run / "pbs" / "trials.jsonl")
    assert trial.status is Status.FAILED
    assert trial.returncode == -9  # killed for a limit, like SIGKILL
    assert "PBS: job killed: walltime" in trial.error
    (job,) = pbs.ours().values()
    assert job["Exit_status"] == -29
