"""The slot scheduler, driven by a FakeLauncher whose jobs finish when the test says so."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
import pytest

from fakes import FakeLauncher, Handler, fom_handler
from hyperdeme import EvaluationError, Evaluator, Exit, Job, Params, Status, Trial, read_journal
from hyperdeme._engine._files import on_loop
from hyperdeme._engine._journal import Journal
from hyperdeme._engine._runner import TrialRunner
from hyperdeme._engine._slots import Scheduler
from hyperdeme._engine._workspace import Workspace
from hyperdeme.strategies import RandomConfig, RandomSearch

SPACE = Params([["--x", 0.5, (0.0, 1.0)], ["--n", 3, (1, 10)]])


class RecordingSearch(RandomSearch):
    """Random search that remembers the order results were told in."""

    def __init__(self, num_iters: int) -> None:
        super().__init__(SPACE, RandomConfig(num_iters=num_iters), seed=1)
        self.told: list[int] = []

    def observe(self, trial: Trial) -> None:
        self.told.append(trial.id)


class Run:
    """A scheduler over a FakeLauncher, with what it emitted."""

    def __init__(
        self,
        tmp_path: Path,
        handler: Handler,
        *,
        slots: int,
        budget: float = float("inf"),
        **settings: Any,
    ) -> None:
        evaluator = Evaluator("prog", retry_delay=0, **settings)  # the workspace is below
        self.workspace = Workspace.create(str(tmp_path / "run"), "exp")
        self.launcher = FakeLauncher(handler)
        # file work on the loop: the tests step the run with wait_all_tasks_blocked
        runner = TrialRunner(
            evaluator, SPACE, self.launcher, self.workspace, experiment="exp", file_work=on_loop
        )
        self.journal = Journal(self.workspace.journal_path, fsync="never")
        self.scheduler = Scheduler(runner, self.journal, slots=slots, time_budget=budget)
        self.emitted: list[Trial] = []

    async def emit(self, trial: Trial) -> None:
        self.emitted.append(trial)

    async def run(self, strategy: RandomSearch) -> None:
        with self.journal:
            await self.scheduler.run(strategy, self.emit)

    @property
    def started(self) -> list[int]:
        return [job.trial_id for job in self.launcher.jobs]

    def journalled(self) -> list[Trial]:
        return read_journal(self.workspace.journal_path)


def gated() -> tuple[Handler, defaultdict[int, anyio.Event]]:
    """A handler whose job ``i`` prints ``FoM: i`` once ``release[i]`` is set."""
    release: defaultdict[int, anyio.Event] = defaultdict(anyio.Event)

    async def handler(job: Job) -> Exit:
        await release[job.trial_id].wait()
        job.stdout.write(f"FoM: {job.trial_id}\n".encode())
        return Exit(0)

    return handler, release


async def test_a_finished_slot_starts_the_next_candidate_while_others_run(
    tmp_path: Path,
) -> None:
    handler, release = gated()
    run = Run(tmp_path, handler, slots=3)
    strategy = RecordingSearch(num_iters=6)
    async with anyio.create_task_group() as tg:
        tg.start_soon(run.run, strategy)
        await anyio.wait_all_tasks_blocked()
        assert run.started == [1, 2, 3]

        release[2].set()
        await anyio.wait_all_tasks_blocked()
        # trial 2's result is in, told at once, and its slot already runs trial 4
        assert strategy.told == [2]
        assert [t.id for t in run.emitted] == [2]
        assert run.started == [1, 2, 3, 4]
        assert run.launcher.running == 3

        release[4].set()
        await anyio.wait_all_tasks_blocked()
        assert strategy.told == [2, 4]
        assert run.started == [1, 2, 3, 4, 5]  # 1 and 3 are still running

        for trial_id in (3, 1, 5, 6):
            release[trial_id].set()
            await anyio.wait_all_tasks_blocked()
            assert strategy.told[-1] == trial_id
    assert strategy.told == [2, 4, 3, 1, 5, 6]
    assert strategy.finished
    assert [t.id for t in run.journalled()] == [2, 4, 3, 1, 5, 6]
    assert all(t.status is Status.OK and t.fom == t.id for t in run.journalled())


@pytest.mark.parametrize("slots", [1, 3, 7])
async def test_exactly_num_parallel_evals_run_at_once(tmp_path: Path, slots: int) -> None:
    handler, release = gated()
    run = Run(tmp_path, handler, slots=slots)
    strategy = RecordingSearch(num_iters=16)
    running: list[int] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(run.run, strategy)
        while not strategy.finished:
            await anyio.wait_all_tasks_blocked()
            running.append(run.launcher.running)
            for trial_id in run.started:
                release[trial_id].set()
    assert run.launcher.max_running == slots
    full_rounds = 16 // slots
    assert running[:full_rounds] == [slots] * full_rounds  # full until the budget runs out
    assert sorted(t.id for t in run.emitted) == list(range(1, 17))
    assert sorted(t.id for t in run.journalled()) == list(range(1, 17))


def third_waits_for_fourth() -> Handler:
    """Job 3 runs until job 4 runs; the others print ``FoM: 1`` at once."""
    beside = anyio.Event()

    async def handler(job: Job) -> Exit:
        if job.trial_id == 3:
            await beside.wait()
        if job.trial_id == 4:
            beside.set()
        job.stdout.write(b"FoM: 1\n")
        return Exit(0)

    return handler


async def test_a_trial_sent_to_a_worker_that_has_not_started_it_yet_counts_as_busy(
    tmp_path: Path,
) -> None:
    """Trials 1 and 2 finish at once; trial 3 runs until trial 4 is running beside it.
    The driver hands trial 3 to an idle worker and, with trial 2's result already in,
    asks trial 4 before that worker has taken trial 3 up: were the worker still counted
    idle, trial 4 would wait for it (a lost slot; here a run that never ends). The
    interleaving depends on the scheduler's order, so many short runs."""
    for attempt in range(40):
        run = Run(tmp_path / str(attempt), third_waits_for_fourth(), slots=2)
        with anyio.fail_after(10):
            await run.run(RecordingSearch(num_iters=4))
        assert sorted(t.id for t in run.journalled()) == [1, 2, 3, 4]
        assert run.launcher.max_running == 2


async def test_every_result_is_told_and_emitted_once(tmp_path: Path) -> None:
    run = Run(tmp_path, fom_handler(0.5), slots=4)
    strategy = RecordingSearch(num_iters=25)
    await run.run(strategy)
    assert sorted(strategy.told) == list(range(1, 26))
    assert strategy.told == [t.id for t in run.emitted] == [t.id for t in run.journalled()]
    assert strategy.outstanding == 0


async def test_the_time_budget_cancels_running_trials_and_starts_no_new_ones(
    tmp_path: Path,
) -> None:
    async def handler(job: Job) -> Exit:
        if job.trial_id > 2:
            await anyio.sleep_forever()
        job.stdout.write(b"FoM: 1\n")
        return Exit(0)

    run = Run(tmp_path, handler, slots=3, budget=0.2)
    strategy = RecordingSearch(num_iters=100)
    await run.run(strategy)
    assert run.scheduler.expired
    statuses = {t.id: t.status for t in run.journalled()}
    assert statuses == {
        1: Status.OK,
        2: Status.OK,
        3: Status.CANCELLED,
        4: Status.CANCELLED,
        5: Status.CANCELLED,
    }
    assert run.started == [1, 2, 3, 4, 5]
    assert sorted(strategy.told) == [1, 2, 3, 4, 5]  # the cancelled ones too
    assert strategy.outstanding == 0
    assert sorted(t.id for t in run.emitted) == [1, 2, 3, 4, 5]


async def test_a_result_waiting_for_the_driver_when_the_budget_expires_is_not_lost(
    tmp_path: Path,
) -> None:
    second_may_finish = anyio.Event()

    async def handler(job: Job) -> Exit:
        if job.trial_id == 2:
            await second_may_finish.wait()
        elif job.trial_id > 2:
            await anyio.sleep_forever()
        job.stdout.write(b"FoM: 1\n")
        return Exit(0)

    run = Run(tmp_path, handler, slots=2, budget=0.3)

    async def slow_emit(trial: Trial) -> None:
        run.emitted.append(trial)
        if trial.id == 1:  # while the driver is busy here, trial 2 finishes
            second_may_finish.set()
            await anyio.sleep_forever()

    strategy = RecordingSearch(num_iters=10)
    with run.journal:
        await run.scheduler.run(strategy, slow_emit)
    journalled = {t.id: t.status for t in run.journalled()}
    assert journalled[2] is Status.OK
    assert sorted(strategy.told) == sorted(journalled)
    assert sorted(t.id for t in run.emitted) == sorted(journalled)
    assert strategy.outstanding == 0


async def test_cancelling_the_caller_journals_running_trials_as_cancelled(
    tmp_path: Path,
) -> None:
    handler, release = gated()
    run = Run(tmp_path, handler, slots=2)
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:
            tg.start_soon(run.run, RecordingSearch(num_iters=10))
            await anyio.wait_all_tasks_blocked()
            release[1].set()
            await anyio.wait_all_tasks_blocked()
            scope.cancel()
    statuses = {t.id: t.status for t in run.journalled()}
    assert statuses == {1: Status.OK, 2: Status.CANCELLED, 3: Status.CANCELLED}


async def test_when_the_first_trials_all_fail_the_run_stops_with_the_first_failure(
    tmp_path: Path,
) -> None:
    async def handler(job: Job) -> Exit:
        job.stderr.write(b"python3: can't open file 'trian.py'\n")
        return Exit(2)

    run = Run(tmp_path, handler, slots=2, num_retries=1)
    with pytest.raises(EvaluationError) as caught:
        await run.run(RecordingSearch(num_iters=50))
    error = caught.value
    assert error.trial_id == 1
    assert error.returncode == 2
    assert error.command is not None
    assert error.command.startswith("prog --x=")
    assert "can't open file 'trian.py'" in error.stderr_tail
    assert "first 3 trials all failed" in str(error)
    assert "exit code 2" in str(error)
    assert "trian.py" in str(error)
    assert len(run.journalled()) < 10  # not the whole budget
    assert all(t.attempts == 2 for t in run.journalled() if t.status is Status.FAILED)


async def test_failures_after_a_success_are_data(tmp_path: Path) -> None:
    async def handler(job: Job) -> Exit:
        if job.trial_id == 1:
            job.stdout.write(b"FoM: 1\n")
            return Exit(0)
        return Exit(1)

    run = Run(tmp_path, handler, slots=1)
    await run.run(RecordingSearch(num_iters=12))
    statuses = [t.status for t in run.journalled()]
    assert statuses == [Status.OK] + [Status.FAILED] * 11


async def test_infinite_foms_are_results_not_failures_of_the_command(tmp_path: Path) -> None:
    """A diverging training prints ``FoM: inf``: its trials are ok, so no EvaluationError
    ("the first 3 trials all failed ... exit code 0") stops the run."""

    async def handler(job: Job) -> Exit:
        job.stdout.write(b"FoM: inf\n" if job.trial_id <= 5 else b"FoM: 0.5\n")
        return Exit(0)

    run = Run(tmp_path, handler, slots=1)
    await run.run(RecordingSearch(num_iters=6))
    assert [t.status for t in run.journalled()] == [Status.OK] * 6


async def test_fail_fast_waits_for_max_of_slots_and_three(tmp_path: Path) -> None:
    async def handler(job: Job) -> Exit:
        return Exit(1)

    run = Run(tmp_path, handler, slots=6)
    with pytest.raises(EvaluationError, match="first 6 trials all failed"):
        await run.run(RecordingSearch(num_iters=50))


@pytest.mark.parametrize("budget", [0.0, 0.0005, 0.002, 0.005, 0.02])
async def test_every_asked_candidate_is_accounted_for_whenever_time_runs_out(
    tmp_path: Path, budget: float
) -> None:
    """Whatever the moment the budget expires (even between handing a candidate to a
    slot and the slot taking it up), each asked candidate is journalled and told once."""

    async def uneven(job: Job) -> Exit:
        await anyio.sleep(0.0003 * (job.trial_id % 4))
        job.stdout.write(b"FoM: 1\n")
        return Exit(0)

    run = Run(tmp_path, uneven, slots=3, budget=budget)
    strategy = RecordingSearch(num_iters=400)
    await run.run(strategy)
    journalled = run.journalled()
    asked = len(journalled)
    assert sorted(t.id for t in journalled) == list(range(1, asked + 1))
    assert sorted(strategy.told) == list(range(1, asked + 1))
    assert sorted(t.id for t in run.emitted) == list(range(1, asked + 1))
    assert strategy.outstanding == 0
    assert {t.status for t in journalled} <= {Status.OK, Status.CANCELLED}
    assert run.scheduler.expired == (asked < 400)


@pytest.mark.parametrize(("slots", "budget"), [(64, 20), (3, 3), (8, 5)])
async def test_fail_fast_stops_a_run_whose_whole_budget_failed_whatever_the_slots(
    tmp_path: Path, slots: int, budget: int
) -> None:
    """A typo'd command on 64 slots and 20 trials: the threshold max(slots, 3) is never
    reached, but every trial of the budget failed: the run ends in EvaluationError."""

    async def handler(job: Job) -> Exit:
        job.stderr.write(b"bash: trian.py: No such file\n")
        return Exit(127)

    run = Run(tmp_path, handler, slots=slots, num_retries=0)
    with pytest.raises(EvaluationError, match=rf"first {budget} trials all failed") as caught:
        await run.run(RecordingSearch(num_iters=budget))
    assert "trian.py" in caught.value.stderr_tail
    journalled = run.journalled()
    assert [t.status for t in journalled] == [Status.FAILED] * budget  # each on file
    assert sorted(t.id for t in run.emitted) == sorted(t.id for t in journalled)


async def test_a_budget_smaller_than_the_threshold_with_one_success_returns(
    tmp_path: Path,
) -> None:
    async def handler(job: Job) -> Exit:
        if job.trial_id == 2:
            job.stdout.write(b"FoM: 1\n")
            return Exit(0)
        return Exit(1)

    run = Run(tmp_path, handler, slots=64, num_retries=0)
    await run.run(RecordingSearch(num_iters=20))
    assert [t.status for t in run.journalled()].count(Status.OK) == 1


async def test_a_resumed_run_that_succeeded_before_does_not_fail_fast(tmp_path: Path) -> None:
    async def handler(job: Job) -> Exit:
        return Exit(1)

    run = Run(tmp_path, handler, slots=8, num_retries=0)
    run.scheduler = Scheduler(run.scheduler.runner, run.journal, slots=8, succeeded_before=True)
    await run.run(RecordingSearch(num_iters=4))
    assert [t.status for t in run.journalled()] == [Status.FAILED] * 4


@pytest.mark.parametrize(("slots", "budget"), [(1, 1), (5, 2)])
async def test_a_budget_of_one_or_two_that_failed_returns_its_failed_trials(
    tmp_path: Path, slots: int, budget: int
) -> None:
    async def handler(job: Job) -> Exit:
        return Exit(1)

    run = Run(tmp_path, handler, slots=slots, num_retries=0)
    await run.run(RecordingSearch(num_iters=budget))
    assert [t.status for t in run.journalled()] == [Status.FAILED] * budget


class CountingJournal(Journal):
    """A journal that remembers how many trials each write of finished trials held."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, fsync="never")
        self.writes: list[list[int]] = []

    def trials(self, trials: Sequence[Trial]) -> None:
        if trials:
            self.writes.append([t.id for t in trials])
        super().trials(trials)


async def test_results_that_finish_together_are_journalled_in_one_write_before_anyone_hears(
    tmp_path: Path,
) -> None:
    handler, release = gated()
    run = Run(tmp_path, handler, slots=3)
    run.journal.close()
    run.journal = run.scheduler.journal = CountingJournal(run.workspace.journal_path)
    heard_after: dict[int, set[int]] = {}

    async def emit(trial: Trial) -> None:  # what the journal held when the caller heard
        heard_after[trial.id] = {t.id for t in run.journalled()}
        run.emitted.append(trial)

    strategy = RecordingSearch(num_iters=3)
    with run.journal:
        async with anyio.create_task_group() as tg:
            tg.start_soon(run.scheduler.run, strategy, emit)
            await anyio.wait_all_tasks_blocked()
            for trial_id in (1, 2, 3):  # all three finish before the driver resumes
                release[trial_id].set()
    [written] = run.journal.writes  # one write for the three (in the order they came)
    assert sorted(written) == [1, 2, 3]
    assert strategy.told == [t.id for t in run.emitted] == written
    assert all(heard_after[i] == {1, 2, 3} for i in (1, 2, 3))


async def test_a_stop_while_a_batch_is_told_tells_its_rest_once_in_journal_order(
    tmp_path: Path,
) -> None:
    handler, release = gated()
    run = Run(tmp_path, handler, slots=3, budget=0.3)

    async def emit(trial: Trial) -> None:
        run.emitted.append(trial)
        if len(run.emitted) == 1:  # the budget expires while the caller holds the first
            await anyio.sleep_forever()

    strategy = RecordingSearch(num_iters=10)
    for trial_id in (1, 2, 3):
        release[trial_id].set()
    with run.journal:
        await run.scheduler.run(strategy, emit)
    journalled = [t.id for t in run.journalled()]
    assert journalled[:3] == [1, 2, 3]  # one batch: none of them waited for the others' tells
    assert strategy.told == journalled  # replaying the journal tells in the same order
    assert [t.id for t in run.emitted] == journalled  # each once
    assert strategy.outstanding == 0
