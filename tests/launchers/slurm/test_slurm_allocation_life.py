"""When the cluster says no, on the real single-node cluster: an allocation that ends
under the run (its time limit, ``scancel``) and a request that waits.

An allocation hyperdeme made is renewed and the budget finishes across allocations;
the user's allocation ending stops the run (exit code 1 from the command, the job
and its end named) and ``--resume`` from a fresh allocation completes the budget
exactly; a request waiting for busy nodes says "pending: Resources" and starts when
they free; ``alloc_wait`` bounds the wait. Slurm's shortest time limit is a minute
(the controller notices it within ~30 s more: 69 s measured), so the time-limit
test is the slow one here; the others end allocations with ``scancel``.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest

import hyperdeme
from hyperdeme import Status
from hyperdeme.launchers._allocation import status_listener

from .conftest import KERNEL, REPO, Cluster, slurm_evaluator, source_dir

pytestmark = [pytest.mark.slurm, pytest.mark.timeout(300)]

SPACE = hyperdeme.Params([["--x", 0.5, (0.0, 1.0)]])


def allocations(trials: list[hyperdeme.Trial]) -> list[str]:
    return [str(t.info.get("allocation")) for t in trials]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # minutes of real time: once
async def test_renewal_finishes_the_budget_across_allocations(
    slurm: Cluster, tmp_path: Path
) -> None:
    """A 1-minute allocation (Slurm ends it 60 to 90 s in) and 100 s of work, one
    evaluation at a time (each takes the whole node): renewed, nothing failed, the
    journal says which allocation ran each trial."""
    evaluator = slurm_evaluator(tmp_path, "--sleep 25", nodes=1, alloc_timeout=1)
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=4, seed=1, name="renewed")
    result = await hyperdeme.optimize(opt, SPACE)
    assert [t.status for t in result.trials] == [Status.OK] * 4
    journal = hyperdeme.read_journal(tmp_path / "renewed")
    ran_in = allocations(journal)
    assert len(set(ran_in)) == 2, ran_in  # the first trials in one job, the rest in the next
    assert ran_in == sorted(ran_in, key=int)
    assert sum(t.attempts for t in journal) == 5  # the one the end cut short ran again
    assert not [line for line in slurm.jobs() if "hyperdeme-" in line]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # minutes of real time: once
async def test_without_renewal_the_run_stops_at_the_time_limit_and_resume_completes_it(
    slurm: Cluster, tmp_path: Path
) -> None:
    """``renewals=0``: the time limit ends the run within seconds, with the job, its end
    and how to continue; resuming in a new allocation runs exactly the rest."""
    evaluator = slurm_evaluator(
        tmp_path, nodes=1, alloc_timeout=1, launcher_options={"renewals": 0},
        env={"KERNEL_SLEEP": "20"},
    )  # fmt: skip
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=6, seed=2, name="expires")
    with pytest.raises(hyperdeme.AllocationEnded) as caught:
        await hyperdeme.optimize(opt, SPACE)
    stopped = time.time()
    error = caught.value
    assert error.state == "TIMEOUT"
    assert f"Slurm job {error.allocation}" in str(error)
    assert "its time limit ran out" in str(error)
    assert "resume=True" in str(error)
    shown = slurm.run("scontrol", "show", "job", "-o", error.allocation).stdout
    ended = datetime.datetime.strptime(
        shown.split("EndTime=")[1].split()[0], "%Y-%m-%dT%H:%M:%S"
    ).timestamp()
    assert stopped - ended < 10, (stopped, ended)  # within seconds of the expiry
    first = hyperdeme.read_journal(tmp_path / "expires")
    assert Status.INTERRUPTED in {t.status for t in first}
    assert not [t for t in first if t.status is Status.FAILED]
    done = {t.id for t in first if t.status is Status.OK}

    evaluator = slurm_evaluator(tmp_path, nodes=1, alloc_timeout=5)  # the rest, quickly
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=6, seed=2, name="expires")
    await hyperdeme.optimize(opt, SPACE, resume=True)
    final = hyperdeme.read_journal(tmp_path / "expires")
    ok = [t for t in final if t.status is Status.OK]
    assert sorted(t.id for t in ok) == list(range(1, 7))
    assert len(ok) == 6  # exactly the budget: nothing ran twice to its end
    assert {t.info["allocation"] for t in ok if t.id not in done} != {error.allocation}


async def test_a_cancelled_own_allocation_is_renewed_and_the_renewals_are_bounded(
    slurm: Cluster, tmp_path: Path
) -> None:
    """``scancel`` of hyperdeme's allocation mid-run: renewed (the cut-short trial runs
    again, none fails); with ``renewals=1`` the second end stops the run."""
    evaluator = slurm_evaluator(tmp_path, "--sleep 1", nodes=1, launcher_options={"renewals": 1})
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=8, seed=3, name="cancelled")
    cancelled: list[str] = []

    def ran_after_renewal() -> bool:
        trials = hyperdeme.read_journal(tmp_path / "cancelled")
        return any(t.ok and t.info["allocation"] not in cancelled for t in trials)

    async def cancel_twice() -> None:
        for round_ in range(2):
            while round_:  # the journal is external state: poll it
                if ran_after_renewal():
                    break
                await anyio.sleep(0.05)
            step = await slurm.wait_for_step("cancelled-")  # a step of the current job
            job = step.split()[0].split(".")[0]
            cancelled.append(job)
            await slurm.arun("scancel", job)
            while True:  # squeue is external state: poll until the job's steps are gone
                if job not in " ".join(await slurm.asteps()):
                    break
                await anyio.sleep(0.05)

    async with anyio.create_task_group() as tg:
        tg.start_soon(cancel_twice)
        with pytest.raises(hyperdeme.AllocationEnded) as caught:
            await hyperdeme.optimize(opt, SPACE)
        tg.cancel_scope.cancel()
    assert caught.value.allocation == cancelled[1]
    assert "after 1 of 1 renewals" in str(caught.value)
    journal = hyperdeme.read_journal(tmp_path / "cancelled")
    assert not [t for t in journal if t.status is Status.FAILED]
    ran_in = {t.info["allocation"] for t in journal if t.status is Status.OK}
    assert cancelled[1] in ran_in  # the renewed allocation ran trials
    assert Status.INTERRUPTED in {t.status for t in journal}


def experiment_file(tmp_path: Path, *, sleep: float, extra: str = "") -> Path:
    path = tmp_path / "exp.toml"
    path.write_text(
        f"""
command = "{sys.executable} {KERNEL} --sleep {sleep}"
name = "ended"
[evaluator]
src_path = "{source_dir(tmp_path)}"
run_path = "{tmp_path / "run"}"
workload_manager = "slurm"
num_parallel_evals = 2
{extra}
[optimizer]
type = "random"
num_iters = 6
seed = 4
[params."--x"]
default = 0.5
range = [0.0, 1.0]
"""
    )
    return path


def hyperdeme_run(path: Path, *args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "hyperdeme", "run", "--quiet", str(path), *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_the_users_allocation_cancelled_stops_the_run_and_resume_completes_it(
    slurm: Cluster, tmp_path: Path
) -> None:
    """Inside the user's allocation (``SLURM_JOB_ID``), ``scancel`` of it: the command
    exits 1 within seconds naming the job and how to continue; ``--resume`` from a
    fresh allocation runs exactly the rest of the budget."""
    jobid = slurm.allocate(1)
    env = {**os.environ, "SLURM_JOB_ID": str(jobid)}
    path = experiment_file(tmp_path, sleep=1.5)
    driver = hyperdeme_run(path, env=env)
    journal = tmp_path / "run" / "ended" / "trials.jsonl"
    slurm.wait_until(  # two trials done, more running: then the allocation goes
        lambda: journal.exists() and journal.read_text().count('"type":"trial"') >= 2, 60
    )
    slurm.run("scancel", str(jobid))
    cancelled = time.monotonic()
    _out, err = driver.communicate(timeout=60)
    stopped_after = time.monotonic() - cancelled
    assert driver.returncode == 1, err
    assert stopped_after < 15, stopped_after
    for words in (f"Slurm job {jobid}", "CANCELLED", "cancelled (scancel)", "--resume"):
        assert words in err, err
    first = hyperdeme.read_journal(tmp_path / "run" / "ended")
    assert {t.status for t in first} <= {Status.OK, Status.INTERRUPTED, Status.CANCELLED}
    assert any(t.status is Status.INTERRUPTED for t in first)
    done = {t.id for t in first if t.status is Status.OK}
    assert len(done) < 6
    slurm.wait_until(lambda: str(jobid) not in " ".join(slurm.jobs()))

    fresh = slurm.allocate(1)
    try:
        again = hyperdeme_run(path, "--resume", env={**os.environ, "SLURM_JOB_ID": str(fresh)})
        _out, err = again.communicate(timeout=120)
        assert again.returncode == 0, err
    finally:
        slurm.release(fresh)
    final = hyperdeme.read_journal(tmp_path / "run" / "ended")
    ok = [t for t in final if t.status is Status.OK]
    assert sorted(t.id for t in ok) == list(range(1, 7))  # the budget, exactly
    assert {t.info["allocation"] for t in ok if t.id not in done} == {str(fresh)}


async def test_a_request_waiting_for_nodes_shows_pending_resources_and_starts_when_freed(
    slurm: Cluster, tmp_path: Path
) -> None:
    blocker = slurm.allocate(1)
    shown: list[str | None] = []
    try:
        evaluator = slurm_evaluator(tmp_path, nodes=1, launcher_options={"poll_interval": 0.2})
        opt = hyperdeme.RandomOptimizer(evaluator, num_iters=2, seed=7, name="waits")

        def listener(text: str | None) -> None:
            shown.append(text)
            if text == "pending: Resources":
                slurm.run("scancel", str(blocker))  # the nodes free: it starts

        with status_listener(listener), anyio.fail_after(120):
            result = await hyperdeme.optimize(opt, SPACE)
    finally:
        slurm.release(blocker)
    assert "pending: Resources" in shown
    assert shown[-1] is None  # cleared once granted
    assert [t.status for t in result.trials] == [Status.OK] * 2


async def test_alloc_wait_bounds_the_wait_and_withdraws_the_request(
    slurm: Cluster, tmp_path: Path
) -> None:
    blocker = slurm.allocate(1)
    try:
        evaluator = slurm_evaluator(
            tmp_path, nodes=1, launcher_options={"alloc_wait": 2, "poll_interval": 0.2}
        )
        opt = hyperdeme.RandomOptimizer(evaluator, num_iters=1, seed=7, name="bounded")
        with anyio.fail_after(60), pytest.raises(hyperdeme.LauncherError) as caught:
            await hyperdeme.optimize(opt, SPACE)
        assert "still pending after alloc_wait=2 s" in str(caught.value)
        assert "Resources" in str(caught.value) or "Priority" in str(caught.value)
        slurm.wait_until(lambda: not [line for line in slurm.jobs() if "hyperdeme-" in line])
    finally:
        slurm.release(blocker)


RESUBMIT = REPO / "examples" / "slurm" / "resubmit.sbatch"


def test_the_guides_resubmitting_batch_script_spends_the_budget_across_jobs(
    slurm: Cluster, tmp_path: Path
) -> None:
    """The guide's sbatch script, run on the cluster: its first job is cancelled mid-run
    (as its time limit would end it); its successor resumes and spends the budget,
    then no job is left queued."""
    path = experiment_file(tmp_path, sleep=1.0)
    script = tmp_path / "resubmit.sbatch"
    script.write_text(RESUBMIT.read_text().replace("--nodes=2", "--nodes=1"))
    env = {
        **os.environ,
        "HYPERDEME": f"{sys.executable} -m hyperdeme",
        "RESUBMIT_SCRIPT": str(script),
        "HPO_MAX_ROUNDS": "3",
    }
    submitted = subprocess.run(
        ["sbatch", "--parsable", f"--chdir={tmp_path}", "--time=2", str(script), str(path)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    first = submitted.stdout.strip()
    journal = tmp_path / "run" / "ended" / "trials.jsonl"
    slurm.wait_until(
        lambda: journal.exists() and journal.read_text().count('"type":"trial"') >= 2, 90
    )
    slurm.run("scancel", first)
    slurm.wait_until(lambda: not slurm.jobs(), 180)  # the successor ran and ended the chain
    trials = hyperdeme.read_journal(tmp_path / "run" / "ended")
    ok = [t for t in trials if t.status is Status.OK]
    assert sorted(t.id for t in ok) == list(range(1, 7))
    assert {t.status for t in trials} <= {Status.OK, Status.CANCELLED, Status.INTERRUPTED}
    assert len({t.info["allocation"] for t in ok}) == 2  # two jobs shared the budget
    assert first in {t.info["allocation"] for t in ok}
