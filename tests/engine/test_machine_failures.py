"""Failures of the machine are not failures of the trial: retried with back-off, then
``interrupted`` (journalled, reported, not told to the strategy, run again on resume);
many in a row stop the run; fail-fast counts them neither way."""

from __future__ import annotations

import errno
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from fakes import FakeLauncher, Handler
from hyperdeme import EvaluationError, Evaluator, Exit, Job, Params, Status, Trial, read_journal
from hyperdeme._engine import _retries, _sinks
from hyperdeme._engine._journal import Journal
from hyperdeme._engine._machine import LogWriteError, machine_error
from hyperdeme._engine._metrics import MetricSpec
from hyperdeme._engine._runner import TrialRunner
from hyperdeme._engine._sinks import LogSink
from hyperdeme._engine._slots import Scheduler
from hyperdeme._engine._workspace import Workspace
from hyperdeme.strategies import RandomConfig, RandomSearch

SPACE = Params([["--x", 0.5, (0.0, 1.0)]])


class Told(RandomSearch):
    def __init__(self, num_iters: int) -> None:
        super().__init__(SPACE, RandomConfig(num_iters=num_iters), seed=1)
        self.told: list[int] = []

    def observe(self, trial: Trial) -> None:
        self.told.append(trial.id)


@pytest.fixture(autouse=True)
def no_back_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_retries, "MACHINE_DELAY", 0.0)


async def run(
    tmp_path: Path, handler: Handler, *, slots: int = 1, num_iters: int = 6, **settings: Any
) -> tuple[Told, list[Trial], FakeLauncher]:
    evaluator = Evaluator("prog", retry_delay=0, **settings)
    workspace = Workspace.create(str(tmp_path / "run"), "exp")
    launcher = FakeLauncher(handler)
    runner = TrialRunner(evaluator, SPACE, launcher, workspace, experiment="exp")
    emitted: list[Trial] = []

    async def emit(trial: Trial) -> None:
        emitted.append(trial)

    strategy = Told(num_iters)
    with Journal(workspace.journal_path, fsync="never") as journal:
        scheduler = Scheduler(runner, journal, slots=slots)
        try:
            await scheduler.run(strategy, emit)
        finally:  # whatever ended the run, what it reported is journalled as reported
            journalled = {t.id: t.status for t in read_journal(workspace.journal_path)}
            assert all(journalled[t.id] is t.status for t in emitted)
            assert len(journalled) - len(emitted) <= slots  # at most those running at the end
    return strategy, emitted, launcher


def short(trial_ids: set[int], code: int, attempts: int = 10**6) -> Handler:
    """Jobs of ``trial_ids`` raise the machine's OSError ``code`` on their first
    ``attempts`` attempts; every other job prints its FoM."""
    seen: Counter[int] = Counter()

    async def handler(job: Job) -> Exit:
        seen[job.trial_id] += 1
        if job.trial_id in trial_ids and seen[job.trial_id] <= attempts:
            raise OSError(code, __import__("os").strerror(code))
        job.stdout.write(b"FoM: 0.5\n")
        return Exit(0)

    return handler


@pytest.mark.parametrize("code", [errno.EMFILE, errno.ENFILE, errno.EAGAIN, errno.ENOMEM])
async def test_a_passing_shortage_is_retried_and_the_trial_succeeds(
    tmp_path: Path, code: int
) -> None:
    strategy, emitted, _ = await run(tmp_path, short({2}, code, attempts=3), num_retries=0)
    assert [t.status for t in emitted] == [Status.OK] * 6  # num_retries=0: its own budget
    assert emitted[1].attempts == 4
    assert sorted(strategy.told) == [1, 2, 3, 4, 5, 6]


async def test_a_lasting_shortage_interrupts_the_trial_which_the_strategy_never_hears_of(
    tmp_path: Path,
) -> None:
    strategy, emitted, _ = await run(tmp_path, short({3}, errno.ENOSPC), num_retries=2)
    by_id = {t.id: t for t in emitted}
    assert by_id[3].status is Status.INTERRUPTED
    assert by_id[3].attempts == 1 + _retries.MAX_MACHINE_RETRIES  # not num_retries
    assert "No space left on device (ENOSPC: the disk is full)" in by_id[3].error
    assert "could not start" not in by_id[3].error
    assert 3 not in strategy.told  # no result: its parameters are not to blame
    assert sorted(strategy.told) == [1, 2, 4, 5, 6]
    assert all(by_id[i].status is Status.OK for i in (1, 2, 4, 5, 6))


async def test_interrupted_trials_neither_trigger_nor_prevent_fail_fast(tmp_path: Path) -> None:
    """Trial 1 interrupted, the rest fail: fail-fast counts the failures only."""
    seen: Counter[int] = Counter()

    async def handler(job: Job) -> Exit:
        seen[job.trial_id] += 1
        if job.trial_id == 1:
            raise OSError(errno.EMFILE, "Too many open files")
        return Exit(2)

    with pytest.raises(EvaluationError, match="first 3 trials all failed") as caught:
        await run(tmp_path, handler, num_iters=20, num_retries=0)
    assert caught.value.trial_id == 2


@pytest.mark.parametrize("slots", [1, 4, 64])
async def test_many_interrupted_trials_in_a_row_stop_the_run_saying_the_machine_cannot(
    tmp_path: Path, slots: int
) -> None:
    with pytest.raises(EvaluationError, match="the machine cannot run trials") as caught:
        await run(tmp_path, short(set(range(1, 1000)), errno.EMFILE), slots=slots, num_iters=200)
    message = str(caught.value)
    assert "Too many open files (EMFILE: the driver's open-file limit, ulimit -n)" in message
    assert "then resume" in message
    journalled = read_journal(tmp_path / "run" / "exp")
    statuses = Counter(t.status for t in journalled)
    assert statuses[Status.INTERRUPTED] >= max(3, min(slots, 10))
    assert statuses[Status.FAILED] == 0  # nothing blamed on its parameters
    assert len(journalled) < 200  # the budget was not burnt


async def test_a_log_that_cannot_be_written_says_so_not_could_not_start(tmp_path: Path) -> None:
    async def handler(job: Job) -> Exit:
        if job.trial_id == 2:
            raise LogWriteError(
                Path("run/exp/00002/stdout.log"), OSError(errno.EFBIG, "File too large")
            )
        job.stdout.write(b"FoM: 0.5\n")
        return Exit(0)

    _, emitted, _ = await run(tmp_path, handler)
    trial = emitted[1]
    assert trial.status is Status.INTERRUPTED
    assert trial.error == (
        "the program ran, but its log run/exp/00002/stdout.log could not be written: File "
        "too large (EFBIG: the file size limit, ulimit -f); its output from there on was "
        "not kept."
    )


def test_a_log_sink_keeps_the_error_and_scans_on_when_the_disk_refuses_the_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never raised into the launcher's pumps (a pump that raised would stop the output
    of a program being stopped): kept for the runner, which asks once the program ended.
    The log's descriptor is /dev/full's (a LogSink makes its file new, unlinking what is
    in its place: given /dev/full itself as the path, it would replace the device)."""
    monkeypatch.setattr(_sinks, "new_file", lambda path: os.open("/dev/full", os.O_WRONLY))
    spec = MetricSpec("FoM: ")
    log = tmp_path / "stdout.log"
    sink = LogSink(log, scanner=spec.scanner())
    sink.write(b"x" * (1 << 16) + b"\n")  # past the buffer: written now, refused
    sink.write(b"FoM: 0.5\n")
    assert sink.error is not None
    assert sink.error.errno == errno.ENOSPC
    assert f"its log {log} could not be written: No space left" in str(sink.error)
    sink.close()
    assert sink.scanner is not None
    assert sink.scanner.close() == {"FoM": 0.5}  # the output was still read
    buffered = LogSink(log)
    buffered.write(b"y")  # buffered: refused when closing flushes it
    assert buffered.error is None
    buffered.close()
    assert buffered.error is not None


async def test_a_log_the_disk_refuses_interrupts_the_attempt_after_the_program_ended(
    tmp_path: Path,
) -> None:
    async def handler(job: Job) -> Exit:
        if job.trial_id == 2:
            sink = job.stdout
            assert isinstance(sink, LogSink)
            sink.error = LogWriteError(Path("x/stdout.log"), OSError(errno.EDQUOT, "Quota"))
        job.stdout.write(b"FoM: 0.5\n")
        return Exit(0)

    strategy, emitted, _ = await run(tmp_path, handler, num_retries=0)
    assert emitted[1].status is Status.INTERRUPTED
    assert "its log x/stdout.log could not be written: Quota (EDQUOT" in emitted[1].error
    assert 2 not in strategy.told


def test_the_machine_error_is_found_inside_groups_and_causes() -> None:
    inner = OSError(errno.EMFILE, "Too many open files")
    try:
        try:
            raise inner
        except OSError as error:
            raise RuntimeError("spawning failed") from error
    except RuntimeError as wrapped:
        group = ExceptionGroup("task group", [ValueError("other"), wrapped])
    assert machine_error(group) is inner
    assert machine_error(OSError(errno.E2BIG, "Argument list too long")) is None
    assert machine_error(ValueError("nothing")) is None
