"""Opening an experiment (``_driver/_opening.py``): which experiment a run takes, what it
refuses and why, and what a resume writes before any trial runs.

The promises guarded here: a run without ``resume`` never writes into an experiment
that exists (refused, naming why: a driver runs it, or it holds trials); an unnamed
run without ``resume`` always starts its own experiment; an unnamed resume takes the
newest experiment that matches; an empty journal is no experiment; a journal without
a fingerprint cannot be resumed; a changed command or budget is said, not refused;
trials a dead driver left unfinished are journalled as interrupted, with a
``resumed`` record, before anything runs again.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from structlog.testing import capture_logs

import hyperdeme

SPACE = hyperdeme.Params([["--x", 0.5, (0.0, 1.0)], ["--n", 1, (1, 10)]])


def square(params: dict[str, Any]) -> float:
    return float((params["--x"] - 0.3) ** 2 + params["--n"])


def square_again(params: dict[str, Any]) -> float:  # the same objective, another command
    return float((params["--x"] - 0.3) ** 2 + params["--n"])


def random(
    tmp_path: Path, *, name: str = "exp", num_iters: int = 4, seed: int = 5, objective: Any = square
) -> hyperdeme.RandomOptimizer:
    evaluator = hyperdeme.Evaluator(objective, run_path=str(tmp_path / "run"), fsync=False)
    return hyperdeme.RandomOptimizer(evaluator, num_iters=num_iters, seed=seed, name=name)


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def test_unnamed_runs_without_resume_each_start_their_own_experiment(
    tmp_path: Path,
) -> None:
    """Only ``resume`` looks for an experiment to continue: a second unnamed run of the
    same search starts a new one and leaves the first one's journal as it was."""
    first = await hyperdeme.optimize(random(tmp_path, name=""), SPACE)
    assert first.journal_path is not None
    kept = first.journal_path.read_bytes()
    second = await hyperdeme.optimize(random(tmp_path, name=""), SPACE)
    assert second.journal_path is not None
    assert second.journal_path.parent != first.journal_path.parent
    assert first.journal_path.read_bytes() == kept
    assert [t.id for t in second.trials] == [1, 2, 3, 4]


async def test_a_name_running_in_this_process_is_refused_naming_this_process(
    tmp_path: Path,
) -> None:
    """A run (without resume) of a name another run of this process holds is refused as
    running, naming this process and host: not 'holds trials', and not another driver."""
    started, release = anyio.Event(), anyio.Event()

    async def waits(params: dict[str, Any]) -> float:
        started.set()
        await release.wait()
        return 1.0

    first = random(tmp_path, num_iters=1, objective=waits)
    async with anyio.create_task_group() as tg:
        tg.start_soon(hyperdeme.optimize, first, SPACE)
        await started.wait()
        try:
            with pytest.raises(hyperdeme.JournalError) as caught:
                await hyperdeme.optimize(random(tmp_path, num_iters=1, objective=waits), SPACE)
        finally:
            release.set()
    said = str(caught.value)
    assert "being run by another run in this process" in said
    assert f"(pid {os.getpid()} on host {socket.gethostname()})" in said


async def test_a_grown_budget_is_said_and_the_recorded_one_is_not(tmp_path: Path) -> None:
    """Budget settings may differ from the fingerprint's (a budget that grows): said,
    with both values; resumed with the recorded budget, nothing is said."""
    await hyperdeme.optimize(random(tmp_path, num_iters=3), SPACE)
    with capture_logs() as logs:
        await hyperdeme.optimize(random(tmp_path, num_iters=3), SPACE, resume=True)
    assert not [e for e in logs if e["event"] == "run.budget_changed"]
    with capture_logs() as logs:
        grown = await hyperdeme.optimize(random(tmp_path, num_iters=5), SPACE, resume=True)
    assert [t.id for t in grown.trials] == [1, 2, 3, 4, 5]
    changed = [e for e in logs if e["event"] == "run.budget_changed"]
    assert [(e["recorded"], e["now"]) for e in changed] == [({"num_iters": 3}, {"num_iters": 5})]


async def test_trials_a_dead_driver_left_running_are_journalled_interrupted_on_resume(
    tmp_path: Path,
) -> None:
    """A trial asked (``started``) but never finished ran when its driver died: resuming
    writes it down as interrupted, then a ``resumed`` record naming it, before it runs
    again under its id; a trial that finished is neither."""
    first = await hyperdeme.optimize(random(tmp_path), SPACE)
    journal = first.journal_path
    assert journal is not None
    kept = [r for r in records(journal) if not (r["type"] == "trial" and r["id"] == 3)]
    journal.write_text("".join(json.dumps(r) + "\n" for r in kept))  # as if it died in 3
    again = await hyperdeme.optimize(random(tmp_path), SPACE, resume=True)
    written = records(journal)[len(kept) :]
    assert [r["type"] for r in written[:2]] == ["interrupted", "resumed"]
    assert written[0]["id"] == 3
    assert (written[1]["finished"], written[1]["interrupted"]) == (3, [3])
    # run again under its id and its recorded start: only its result is new
    assert [(r["type"], r["id"], r["status"]) for r in written[2:]] == [("trial", 3, "ok")]
    assert sorted(t.id for t in again.trials) == [1, 2, 3, 4]


async def test_a_journal_without_a_fingerprint_cannot_be_resumed(tmp_path: Path) -> None:
    """hyperdeme 0.1's journals have no fingerprint record: resuming one is refused as such
    (what search wrote it cannot be known), not failed on a missing record."""
    first = await hyperdeme.optimize(random(tmp_path), SPACE)
    journal = first.journal_path
    assert journal is not None
    old = [r for r in records(journal) if r["type"] != "experiment"]
    journal.write_text("".join(json.dumps(r) + "\n" for r in old))
    with pytest.raises(hyperdeme.ConfigError, match="its journal has no fingerprint"):
        await hyperdeme.optimize(random(tmp_path), SPACE, resume=True)


@pytest.mark.parametrize("resume", [False, True])
async def test_an_empty_journal_is_no_experiment(tmp_path: Path, resume: bool) -> None:
    """A driver that died before writing its first record left an empty journal: the name
    is started afresh (said when resuming), never refused as holding trials."""
    journal = tmp_path / "run" / "exp" / "trials.jsonl"
    journal.parent.mkdir(parents=True)
    journal.touch()
    with capture_logs() as logs:
        result = await hyperdeme.optimize(random(tmp_path), SPACE, resume=resume)
    assert [t.id for t in result.trials] == [1, 2, 3, 4]
    assert records(journal)[0]["type"] == "experiment"
    said = [e["message"] for e in logs if e["event"] == "run.nothing_to_resume"]
    assert said == ([f"{journal.parent} holds no journal to resume; starting it"] if resume else [])


async def test_a_name_another_driver_runs_is_refused_naming_that_driver(tmp_path: Path) -> None:
    """A run (without resume) of an experiment that another process's driver holds is
    refused as running, naming that process: not this one, and not 'holds trials'."""
    await hyperdeme.optimize(random(tmp_path), SPACE)
    holder = _hold(tmp_path / "run" / "exp")
    try:
        with pytest.raises(hyperdeme.JournalError) as caught:
            await hyperdeme.optimize(random(tmp_path), SPACE)
    finally:
        holder.communicate("")
    said = str(caught.value)
    assert f"being run by another driver (pid {holder.pid} on host {socket.gethostname()})" in said


def _hold(directory: Path) -> subprocess.Popen[str]:
    """Another process holding ``directory``'s experiment lock until its stdin closes."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDS, str(directory)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline() == "held\n"
    return holder


_HOLDS = (
    "import sys; from pathlib import Path; from hyperdeme._engine._lock import ExperimentLock\n"
    "lock = ExperimentLock(Path(sys.argv[1])); print('held', flush=True); sys.stdin.read()"
)


async def test_a_seeded_run_asks_what_another_run_with_that_seed_asks(tmp_path: Path) -> None:
    """The seed given is the seed used (and recorded): two experiments with one seed are
    the same search."""
    one = await hyperdeme.optimize(random(tmp_path, name="one", seed=11), SPACE)
    two = await hyperdeme.optimize(random(tmp_path, name="two", seed=11), SPACE)
    assert [t.params for t in one.trials] == [t.params for t in two.trials]
    assert one.journal_path is not None
    assert records(one.journal_path)[0]["fingerprint"]["seed"] == 11


async def test_a_run_its_caller_timed_out_has_let_go_of_its_experiment(tmp_path: Path) -> None:
    """Stopped by its caller's timeout, the run has closed its journal and let go of its
    lock by the time the TimeoutError reaches the caller (not whenever the garbage
    collector gets to it: the caller holds the error): resumed at once, in this process."""

    async def run_until_timeout() -> None:
        with anyio.fail_after(3600) as scope:

            async def times_out(params: dict[str, Any]) -> float:
                scope.deadline = anyio.current_time()  # the caller's timeout, now
                await anyio.sleep_forever()
                return 1.0

            await hyperdeme.optimize(random(tmp_path, num_iters=1, objective=times_out), SPACE)

    with pytest.raises(TimeoutError):
        await run_until_timeout()
    assert not (tmp_path / "run" / "exp" / ".driver").exists()
    resumed = await hyperdeme.optimize(random(tmp_path, num_iters=1), SPACE, resume=True)
    assert [(t.id, t.status) for t in resumed.trials] == [(1, hyperdeme.Status.OK)]


async def test_a_changed_command_is_said_on_resume_and_not_refused(tmp_path: Path) -> None:
    """The command is not part of what must match (a script moved, a wrapper added): the
    resume goes on, saying what it was and what it is; with the same command nothing."""
    await hyperdeme.optimize(random(tmp_path, num_iters=2), SPACE)
    with capture_logs() as logs:
        await hyperdeme.optimize(random(tmp_path, num_iters=2), SPACE, resume=True)
    assert not [e for e in logs if e["event"] == "run.command_changed"]
    with capture_logs() as logs:
        moved = random(tmp_path, num_iters=3, objective=square_again)
        resumed = await hyperdeme.optimize(moved, SPACE, resume=True)
    assert [t.id for t in resumed.trials] == [1, 2, 3]
    said = [(e["recorded"], e["now"]) for e in logs if e["event"] == "run.command_changed"]
    assert said == [("square", "square_again")]


async def test_the_human_log_goes_to_the_experiment_directory(tmp_path: Path) -> None:
    """Without a log directory, ``log_fn`` is written beside the journal (where crayai
    put it), one line a trial."""
    evaluator = hyperdeme.Evaluator(square, run_path=str(tmp_path / "run"), fsync=False)
    optimizer = hyperdeme.RandomOptimizer(evaluator, num_iters=2, name="exp", log_fn="t.log")
    await hyperdeme.optimize(optimizer, SPACE)
    lines = (tmp_path / "run" / "exp" / "t.log").read_text().splitlines()
    assert [line.split()[:3] for line in lines] == [["trial", "1", "ok"], ["trial", "2", "ok"]]
