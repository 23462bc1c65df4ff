"""Requests PBS will not run, on the real OpenPBS server (one ``qsub`` per evaluation):
a request beyond the node (the scheduler's ``Can Never Run`` comment), a stopped queue
(queued with ``Not Running: Queue not started.``, bounded by ``alloc_wait``) and a
disabled queue (qsub refuses the job). Each fails its trial with PBS's own words, the
job is withdrawn, and each test restores the queue it changed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import hyperdeme
from hyperdeme import Status

from .conftest import Server, finish, stop

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def queue(pbs: Server) -> Iterator[Server]:
    """The server, its queue ``workq`` enabled and started again after the test."""
    yield pbs
    for setting in ("enabled=true", "started=true"):
        pbs.run("qmgr", "-c", f"set queue workq {setting}", user="root")


def drive(pbs: Server, *args: str) -> hyperdeme.Trial:
    run = pbs.workdir / "run"
    driver = pbs.driver(run, "--evals", "1", "--parallel", "1", *args)
    try:
        out = finish(driver, 120)
    finally:
        stop(driver)
    assert driver.returncode == 0, out[-3000:]
    (trial,) = hyperdeme.read_journal(run / "pbs" / "trials.jsonl")
    assert trial.status is Status.FAILED, trial
    assert pbs.unfinished_ours() == []  # withdrawn (qdel), not left queued
    return trial


def test_a_request_beyond_the_node_fails_at_once_with_pbs_words(pbs: Server) -> None:
    trial = drive(pbs, "--alloc-args=-l select=1:mem=1000gb")  # the node has ~24 GB
    assert trial.error is not None
    assert "PBS will never start job" in trial.error, trial.error
    assert "Can Never Run: Insufficient amount of resource: mem" in trial.error


def test_alloc_wait_bounds_a_job_queued_in_a_stopped_queue(queue: Server) -> None:
    queue.run("qmgr", "-c", "set queue workq started=false", user="root")
    trial = drive(queue, "--alloc-wait", "3")
    assert trial.error is not None
    assert "still pending after alloc_wait=3 s" in trial.error, trial.error
    assert "Not Running: Queue not started." in trial.error


def test_a_disabled_queue_fails_the_trial_with_qsub_words(queue: Server) -> None:
    queue.run("qmgr", "-c", "set queue workq enabled=false", user="root")
    trial = drive(queue)
    assert trial.error is not None
    assert "Queue is not enabled" in trial.error, trial.error
