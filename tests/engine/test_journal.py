"""The journal: one JSON line per finished trial, durable across a killed driver."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hyperdeme import Status, Trial, read_journal
from hyperdeme._engine._journal import Journal
from processes import kill_marked, new_marker

KERNELS = Path(__file__).parents[1] / "kernels"


def trial(trial_id: int, **fields: object) -> Trial:
    return Trial(id=trial_id, params={"--x": 0.5, "--act": "relu"}, **fields)  # type: ignore[arg-type]


def test_trials_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "exp" / "trials.jsonl"
    written = [
        trial(1, fom=0.25, metrics={"FoM": 0.25}, attempts=1, returncode=0, info={"deme": 0}),
        trial(2, status=Status.FAILED, returncode=3, error="Traceback ...\nValueError: x"),
        trial(3, status=Status.CANCELLED),
        trial(4, status=Status.NO_METRIC, metrics={"FoM": math.nan}),
    ]
    with Journal(path) as journal:
        for t in written:
            journal.append(t)
    read = read_journal(path)
    assert [t.id for t in read] == [1, 2, 3, 4]
    assert [t.to_json() for t in read] == [t.to_json() for t in written]
    assert read[1].error == "Traceback ...\nValueError: x"
    assert read[2].status is Status.CANCELLED
    assert read[2].fom == math.inf
    assert math.isnan(read[3].metrics["FoM"])
    assert [t.id for t in read_journal(path.parent)] == [1, 2, 3, 4]  # a run directory works


def test_a_stopped_trial_keeps_its_steps_and_intermediate_foms(tmp_path: Path) -> None:
    path = tmp_path / "trials.jsonl"
    stopped = trial(1, fom=0.75, status=Status.STOPPED, steps=3, intermediate={1: 0.9, 3: 0.75})
    with Journal(path, fsync=False) as journal:
        journal.append(stopped)
    record = json.loads(path.read_text())
    assert (record["status"], record["steps"], record["fom"]) == ("stopped", 3, 0.75)
    assert record["intermediate"] == {"1": 0.9, "3": 0.75}  # JSON keys are strings
    [read] = read_journal(path)
    assert read.status is Status.STOPPED
    assert (read.steps, read.intermediate) == (3, {1: 0.9, 3: 0.75})
    assert read.has_fom
    assert not read.ok


def test_records_written_before_early_stopping_still_read(tmp_path: Path) -> None:
    record = trial(1, fom=0.5).to_json()
    del record["steps"], record["intermediate"]
    path = tmp_path / "trials.jsonl"
    path.write_text(json.dumps(record) + "\n")
    [read] = read_journal(path)
    assert (read.steps, read.intermediate, read.fom) == (0, {}, 0.5)


def test_each_trial_is_one_line_of_json(tmp_path: Path) -> None:
    path = tmp_path / "trials.jsonl"
    with Journal(path, fsync=False) as journal:
        journal.append(trial(1, fom=1.0))
        journal.append(trial(2, status=Status.FAILED))
    lines = path.read_bytes().splitlines()
    assert [json.loads(line)["id"] for line in lines] == [1, 2]
    assert json.loads(lines[1])["fom"] == "inf"  # JSON has no infinity


def test_a_reopened_journal_appends(tmp_path: Path) -> None:
    path = tmp_path / "trials.jsonl"
    with Journal(path) as journal:
        journal.append(trial(1))
    with Journal(path) as journal:
        journal.append(trial(2))
    assert [t.id for t in read_journal(path)] == [1, 2]


def test_a_torn_last_line_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "trials.jsonl"
    with Journal(path) as journal:
        journal.append(trial(1))
    with path.open("ab") as handle:
        handle.write(b'{"id": 2, "params": {"--')  # the driver died mid-write
    assert [t.id for t in read_journal(path)] == [1]


def test_appending_after_a_torn_line_keeps_every_record(tmp_path: Path) -> None:
    path = tmp_path / "trials.jsonl"
    with Journal(path) as journal:
        journal.append(trial(1))
    with path.open("ab") as handle:
        handle.write(b'{"id": 2, "par')
    with Journal(path) as journal:  # a resumed run
        journal.append(trial(3))
    assert [t.id for t in read_journal(path)] == [1, 3]


@pytest.fixture
def marker() -> Iterator[str]:
    marker = new_marker()
    yield marker
    kill_marked(marker)


@pytest.mark.timeout(60)
def test_the_journal_survives_a_sigkilled_driver(tmp_path: Path, marker: str) -> None:
    journal = tmp_path / "run" / "crash" / "trials.jsonl"
    driver = subprocess.Popen(
        [sys.executable, str(KERNELS / "driver.py"), str(tmp_path / "run"), marker],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        # waiting for another process: a bounded poll of the file it writes
        while not (journal.exists() and journal.read_bytes().count(b"\n") >= 3):
            assert driver.poll() is None, driver.stderr.read() if driver.stderr else ""
            assert time.monotonic() < deadline, "the driver journalled nothing in 30 s"
            time.sleep(0.02)
        os.kill(driver.pid, signal.SIGKILL)
    finally:
        driver.kill()
        driver.wait()
        if driver.stderr is not None:
            driver.stderr.close()
    assert driver.returncode == -signal.SIGKILL
    kill_marked(marker)  # the kernels run in their own sessions: they outlive the driver
    raw = journal.read_bytes()
    assert raw.endswith(b"\n")
    lines = raw.splitlines()
    assert len(lines) >= 3
    records = [json.loads(line) for line in lines]
    trials = read_journal(journal)
    assert [t.id for t in trials] == [r["id"] for r in records]
    assert len({t.id for t in trials}) == len(trials)
    assert all(t.status is Status.OK and t.attempts == 1 for t in trials)
