"""Reading a run directory: finished trials and running ids, while the run goes."""

from __future__ import annotations

import io
import json
import math
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

import hyperdeme
from hyperdeme._cli._errors import CommandError
from hyperdeme._cli._journal_view import read_run
from hyperdeme._driver._progress import Progress

from .conftest import HERE, invoke, write


def record(trial_id: int, fom: float = 1.0, **extra: Any) -> dict[str, Any]:
    trial = hyperdeme.Trial(id=trial_id, params={"--x": trial_id / 10}, fom=fom, ended=100.0)
    return {**trial.to_json(), **extra}


def write_journal(directory: Path, records: list[dict[str, Any]], tail: str = "") -> None:
    lines = "".join(json.dumps(r) + "\n" for r in records)
    (directory / "trials.jsonl").write_text(lines + tail)


def started(trial_id: int) -> dict[str, Any]:
    return {"schema": 2, "type": "started", "id": trial_id, "genes": {"--x": trial_id / 10}}


def hold_the_lock(directory: Path) -> None:
    """As a live driver on this host does (this test process stands for it)."""
    holder = {"host": socket.gethostname(), "pid": os.getpid(), "since": "2026-11-27T10:00:00"}
    (directory / ".driver").write_text(json.dumps(holder))


def test_finished_started_unknown_and_partial_lines(tmp_path: Path) -> None:
    write_journal(
        tmp_path,
        [
            started(1),
            started(2),
            record(1, fom=0.5),  # hyperdeme 0.1's form: no type
            started(3),
            {"schema": 2, "type": "run_paused", "reason": "a type this reader does not know"},
            record(3, fom=0.25, type="trial", schema=2),
            started(4),
        ],
        tail='{"id": 4, "params": {"--x": 0.4}, "fo',  # being written right now
    )
    hold_the_lock(tmp_path)
    with pytest.warns(hyperdeme.HyperdemeWarning, match="line 8: unfinished"):
        view = read_run(tmp_path)
    assert [t.id for t in view.trials] == [1, 3]
    assert view.running == [2, 4]
    assert view.interrupted == []
    assert view.driver is not None
    assert view.driver["pid"] == os.getpid()
    assert view.best is not None
    assert view.best.id == 3


def test_a_later_record_of_an_id_replaces_the_earlier_one(tmp_path: Path) -> None:
    write_journal(tmp_path, [record(1, fom=math.inf, status="cancelled"), record(1, fom=0.5)])
    view = read_run(tmp_path)
    assert [(t.id, t.fom) for t in view.trials] == [(1, 0.5)]


def test_a_trial_record_with_bad_fields_stops_the_command_naming_the_line(
    tmp_path: Path,
) -> None:
    """The engine's reader reads the run: its error about the record comes along."""
    write_journal(tmp_path, [started(1), {**record(1), "fom": "low"}, started(2), record(2)])
    with pytest.raises(CommandError, match="line 2: trial 1's 'fom' is 'low', not a number"):
        read_run(tmp_path)


def test_unfinished_trials_of_a_dead_driver_are_interrupted_not_running(tmp_path: Path) -> None:
    write_journal(tmp_path, [started(1), record(1), started(2)])
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    holder = {"host": socket.gethostname(), "pid": int(dead.stdout), "since": "then"}
    (tmp_path / ".driver").write_text(json.dumps(holder))  # left by a SIGKILLed driver
    view = read_run(tmp_path)
    assert (view.running, view.interrupted, view.driver) == ([], [2], None)
    outcome = invoke("status", tmp_path)
    assert "interrupted: 1 (trials 2; their driver is gone" in outcome.out
    assert "driver: none" in outcome.out


def test_a_directory_without_a_journal_exits_2(tmp_path: Path) -> None:
    outcome = invoke("status", tmp_path)
    assert outcome.code == 2
    assert f"{tmp_path} holds no trials.jsonl" in outcome.err


def test_status_while_the_run_is_going(tmp_path: Path) -> None:
    """Each trial runs `hyperdeme status` on its own run: it sees itself running."""
    text = f"""
command = "{sys.executable} train.py --show-status"
name = "live"
[evaluator]
src_path = "{HERE}"
run_path = "run"
num_parallel_evals = 1
[optimizer]
type = "random"
num_iters = 2
seed = 3
[params."--lr"]
default = 0.1
range = [0.001, 1.0]
"""
    outcome = invoke("run", write(tmp_path, text))
    assert outcome.code == 0, outcome.err
    run_dir = tmp_path / "run" / "live"
    second = (run_dir / "00002" / "stdout.log").read_text()
    assert "done: 1 (ok 1)" in second
    assert "running: 1 (trials 2)" in second
    first = hyperdeme.read_journal(run_dir)[0]
    assert f"best FoM: {first.fom:.10g} (trial 1)" in second
    # and once it is over, nothing is running
    after = invoke("status", run_dir)
    assert "done: 2 (ok 2)" in after.out
    assert "running: 0" in after.out


def test_stopped_trials_are_neither_failed_nor_the_best(tmp_path: Path) -> None:
    write_journal(
        tmp_path,
        [
            record(1, fom=0.5),
            record(2, fom=0.25, status="stopped", steps=3, intermediate={"1": 0.9, "3": 0.25}),
            record(3, fom=math.inf, status="failed"),
        ],
    )
    view = read_run(tmp_path)
    assert [t.id for t in view.failed] == [3]
    assert view.best is not None
    assert view.best.id == 1
    assert view.trials[1].intermediate == {1: 0.9, 3: 0.25}


def test_status_the_progress_line_and_the_result_count_the_same_failures(
    tmp_path: Path,
) -> None:
    """Failed: ended as failed, no_metric or timeout. Not a trial that printed `FoM: inf`
    (status ok), nor one stopped early or cancelled, wherever failures are counted."""
    outcomes = [
        (hyperdeme.Status.OK, 0.5),
        (hyperdeme.Status.OK, math.inf),  # the program printed FoM: inf
        (hyperdeme.Status.FAILED, math.inf),
        (hyperdeme.Status.NO_METRIC, math.inf),
        (hyperdeme.Status.TIMEOUT, math.inf),
        (hyperdeme.Status.STOPPED, 0.75),
        (hyperdeme.Status.CANCELLED, math.inf),
    ]
    trials = [
        hyperdeme.Trial(id=i, params={"--x": 0.1}, fom=fom, status=status)
        for i, (status, fom) in enumerate(outcomes, 1)
    ]
    write_journal(tmp_path, [t.to_json() for t in trials])
    progress = Progress(console=Console(file=io.StringIO()))
    for trial in trials:
        progress.trial_finished(trial)
    assert [t.id for t in read_run(tmp_path).failed] == [3, 4, 5]
    assert hyperdeme.Result(trials=trials).n_failed == 3
    assert progress.state.failed == 3
