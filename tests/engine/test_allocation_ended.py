"""The engine when the allocation ends under a run (a launcher raising AllocationEnded):
the attempt is ``interrupted`` (no failure of its parameters, never told to the
strategy), no new evaluation starts, the run stops with the launcher's error, and
resume runs the interrupted trial again. Also: where each trial ran (``Exit.info``)
is journalled, and a trial refused for want of nodes is reported without an empty
command or a ``None`` exit code."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

import hyperdeme
from fakes import FakeLauncher, Handler, fom_handler
from hyperdeme import AllocationEnded, EvaluationError, Exit, Job, Status, read_journal
from hyperdeme._core._hosts import HostPool
from hyperdeme._engine._journal import Journal
from hyperdeme._engine._runner import TrialRunner
from hyperdeme._engine._slots import Scheduler
from hyperdeme._engine._workspace import Workspace

from .test_slots import SPACE, RecordingSearch, Run

ENDED = "Slurm job 20 ended: its time limit ran out (TIMEOUT)."


def ending_at(trial_id: int, *, while_next_runs: bool) -> Handler:
    """A handler whose job ``trial_id`` meets the allocation's end (``while_next_runs``:
    once job ``trial_id + 1`` runs); earlier jobs succeed, later ones run until cancelled."""
    next_runs = anyio.Event()

    async def handler(job: Job) -> Exit:
        if job.trial_id == trial_id:
            if while_next_runs:
                await next_runs.wait()
            raise AllocationEnded(ENDED, allocation="20", state="TIMEOUT")
        if job.trial_id > trial_id:
            next_runs.set()
            await anyio.sleep_forever()  # running when the allocation ended
        job.stdout.write(b"FoM: 1\n")
        return Exit(0, info={"allocation": "20"})

    return handler


async def test_an_ended_allocation_interrupts_the_trial_and_stops_the_run(
    tmp_path: Path,
) -> None:
    run = Run(tmp_path, ending_at(3, while_next_runs=True), slots=2)
    search = RecordingSearch(num_iters=10)
    # bounded: were the run not to stop, trial 4 would run forever
    with anyio.fail_after(30), pytest.raises(AllocationEnded, match="Slurm job 20") as caught:
        await run.run(search)
    assert caught.value.allocation == "20"
    assert max(run.started) == 4  # trial 4 was running; nothing new started after 3 ended
    by_id = {t.id: t for t in run.journalled()}
    assert by_id[3].status is Status.INTERRUPTED
    assert by_id[3].info["allocation"] == "20"
    assert ENDED in by_id[3].error
    assert by_id[4].status is Status.CANCELLED
    assert [by_id[i].status for i in (1, 2)] == [Status.OK, Status.OK]
    assert 3 not in search.told  # no result: the strategy never hears of it


async def test_where_a_trial_ran_is_journalled(tmp_path: Path) -> None:
    async def handler(job: Job) -> Exit:
        job.stdout.write(b"FoM: 1\n")
        return Exit(0, info={"allocation": f"job-{job.trial_id % 2}"})

    run = Run(tmp_path, handler, slots=1)
    await run.run(RecordingSearch(num_iters=3))
    assert [t.info["allocation"] for t in run.journalled()] == ["job-1", "job-0", "job-1"]
    assert all(t.info["strategy"] == "random" for t in run.journalled())  # kept beside


async def test_resume_runs_the_interrupted_trial_again(tmp_path: Path) -> None:
    launcher = FakeLauncher(ending_at(2, while_next_runs=False))
    hyperdeme.register_launcher("allocation_ends")(lambda options: launcher)
    evaluator = hyperdeme.Evaluator(
        "prog", run_path=str(tmp_path), src_path=str(tmp_path), launcher="allocation_ends",
        num_parallel_evals=1,
    )  # fmt: skip
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=4, seed=3, name="ends")
    with pytest.raises(AllocationEnded):
        await hyperdeme.optimize(opt, SPACE)
    first = read_journal(tmp_path / "ends")
    assert [t.status for t in first] == [Status.OK, Status.INTERRUPTED]

    hyperdeme.register_launcher("allocation_ends")(lambda options: FakeLauncher(fom_handler()))
    again = await hyperdeme.optimize(opt, SPACE, resume=True)
    assert sorted(t.id for t in again.trials if t.status is Status.OK) == [1, 2, 3, 4]
    rerun = next(t for t in again.trials if t.id == 2 and t.status is Status.OK)
    assert rerun.params == first[1].params
    assert again.n_failed == 0


async def test_too_few_nodes_names_no_empty_command_or_none_exit_code(tmp_path: Path) -> None:
    evaluator = hyperdeme.Evaluator("prog", retry_delay=0, nodes_per_eval=3)
    workspace = Workspace.create(str(tmp_path / "run"), "exp")
    runner = TrialRunner(
        evaluator, SPACE, FakeLauncher(fom_handler()), workspace, nodes=HostPool(range(2))
    )
    journal = Journal(workspace.journal_path, fsync="never")
    scheduler = Scheduler(runner, journal, slots=1)

    async def emit(trial: hyperdeme.Trial) -> None:
        pass

    with journal, pytest.raises(EvaluationError) as caught:
        await scheduler.run(RecordingSearch(num_iters=5), emit)
    message = str(caught.value)
    assert "needs 3 nodes but the allocation has only 2" in message
    assert "it never started" in message
    assert "exit code None" not in message
    assert "command ''" not in message
