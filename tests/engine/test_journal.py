"""The journal: one JSON line per finished trial, durable across a killed driver."""

from __future__ import annotations

import errno
import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from hyperdeme import Candidate, HyperdemeWarning, JournalError, Status, Trial, read_journal
from hyperdeme._engine._journal import Durability, Journal, read_records
from processes import kill_marked, new_marker

KERNELS = Path(__file__).parents[1] / "kernels"
DELETE = object()  # a field the record lacks


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
            journal.trial(t)
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
        journal.trial(stopped)
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
    with Journal(path, fsync="never") as journal:
        journal.trial(trial(1, fom=1.0))
        journal.trial(trial(2, status=Status.FAILED))
    lines = path.read_bytes().splitlines()
    assert [json.loads(line)["id"] for line in lines] == [1, 2]
    assert json.loads(lines[1])["fom"] == "inf"  # JSON has no infinity


def test_a_reopened_journal_appends(tmp_path: Path) -> None:
    path = tmp_path / "trials.jsonl"
    with Journal(path) as journal:
        journal.trial(trial(1))
    with Journal(path) as journal:
        journal.trial(trial(2))
    assert [t.id for t in read_journal(path)] == [1, 2]


def test_a_torn_last_line_is_skipped_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "trials.jsonl"
    with Journal(path) as journal:
        journal.trial(trial(1))
    with path.open("ab") as handle:
        handle.write(b'{"id": 2, "params": {"--')  # the driver died mid-write
    with pytest.warns(HyperdemeWarning, match=r"skipped line 2: unfinished"):
        assert [t.id for t in read_journal(path)] == [1]


@pytest.mark.parametrize(
    "torn",
    [b'{"id": 2, "par', b'{"schema":2,"type":"trial","id":2,"params":{},"fom":1,"status":"ok"}'],
    ids=["partial", "complete-but-for-its-newline"],
)
def test_reopening_removes_an_unfinished_record_so_it_never_comes_back(
    tmp_path: Path, torn: bytes
) -> None:
    """A record without its newline was never acknowledged; terminating it instead would
    resurrect it (and duplicate trial 2 once it runs again)."""
    path = tmp_path / "trials.jsonl"
    with Journal(path) as journal:
        journal.trial(trial(1))
    size = path.stat().st_size
    with path.open("ab") as handle:
        handle.write(torn)
    with pytest.warns(HyperdemeWarning, match="ended in an unfinished record"):
        journal = Journal(path)
    with journal:  # a resumed run
        assert path.stat().st_size == size
        journal.trial(trial(2, fom=0.5))
        journal.trial(trial(3))
    trials = read_journal(path)
    assert [t.id for t in trials] == [1, 2, 3]
    assert trials[1].fom == 0.5


@pytest.mark.parametrize(
    ("line", "why"),
    [
        (b"\0\0\0\0\n", "not JSON"),
        (b"garbage{\n", "not JSON"),
        (b"[1, 2]\n", "not a JSON object but a list"),
        (b'{"schema": 99, "type": "trial", "id": 9}\n', "schema 99"),
        (b'{"schema": true, "type": "trial", "id": 9}\n', "schema True"),
        (b'{"schema": 2, "type": "trial", "id": "x"}\n', "a trial record whose id is 'x'"),
        (b'{"note": "written by hand"}\n', "a trial record whose id is None"),
        (b'{"schema": 2, "id": 3}\n', "a record without a type"),
    ],
)
def test_a_line_hyperdeme_could_not_have_written_is_refused_naming_it(
    tmp_path: Path, line: bytes, why: str
) -> None:
    """Not skipped: a skipped result would run again on resume, a skipped ask would shift
    the replayed strategy; the owner fixes the line the error names."""
    path = tmp_path / "trials.jsonl"
    with Journal(path) as journal:
        journal.trial(trial(1))
    with path.open("ab") as handle:
        handle.write(line)
    with Journal(path) as journal:
        journal.trial(trial(2))
    with pytest.raises(JournalError, match=rf"trials.jsonl, line 2: {re.escape(why)}") as caught:
        read_journal(path)
    assert (caught.value.filename, caught.value.line) == (str(path), 2)
    assert "Correct that line, or cut the journal before it" in str(caught.value)


def test_blank_lines_and_records_of_unknown_types_are_passed_over(tmp_path: Path) -> None:
    path = tmp_path / "trials.jsonl"
    with Journal(path) as journal:
        journal.trial(trial(1))
    with path.open("ab") as handle:
        handle.write(b'\n  \n{"schema": 2, "type": "party"}\n')
    with Journal(path) as journal:
        journal.trial(trial(2))
    assert [t.id for t in read_journal(path)] == [1, 2]
    assert [r["type"] for r in read_records(path)] == ["trial", "party", "trial"]


def test_records_carry_the_schema_version_and_their_type(tmp_path: Path) -> None:
    path = tmp_path / "trials.jsonl"
    with Journal(path) as journal:
        journal.experiment({"seed": 1}, version="0.2.0")
        started = trial(1)
        started.candidate = Candidate({"--x": 0.5, "--act": "relu", "--off": 3}, {"deme": 0})
        journal.started(started)
        journal.trial(trial(1, fom=1.0))
        journal.interrupted(2)
    records = [json.loads(line) for line in path.read_bytes().splitlines()]
    assert [r["schema"] for r in records] == [2, 2, 2, 2]
    assert [r["type"] for r in records] == ["experiment", "started", "trial", "interrupted"]
    assert records[1]["genes"] == {"--x": 0.5, "--act": "relu", "--off": 3}
    (read,) = read_journal(path)
    assert read.candidate is not None
    assert read.candidate.params["--off"] == 3  # every gene, inactive ones too


@pytest.mark.parametrize("fsync", ["batch", "always", "never"])
def test_every_durability_writes_each_record_before_append_returns(
    tmp_path: Path, fsync: Durability
) -> None:
    """What a SIGKILLed driver relies on: the record is in the file (the kernel's page
    cache) when ``trial`` returns, whatever fsync says; closing syncs what waits."""
    path = tmp_path / "trials.jsonl"
    with Journal(path, fsync=fsync) as journal:
        for trial_id in range(1, 51):
            journal.trial(trial(trial_id))
            assert path.read_bytes().count(b"\n") == trial_id
    assert [t.id for t in read_journal(path)] == list(range(1, 51))


def test_the_last_record_of_a_trial_wins(tmp_path: Path) -> None:
    """A trial cancelled by a stopped run and finished by the resumed one appears once."""
    path = tmp_path / "trials.jsonl"
    with Journal(path) as journal:
        journal.trial(trial(1, fom=1.0))
        journal.trial(trial(2, status=Status.CANCELLED))
        journal.trial(trial(3, fom=3.0))
        journal.trial(trial(2, fom=2.0))
    trials = read_journal(path)
    assert [(t.id, t.status) for t in trials] == [(1, Status.OK), (3, Status.OK), (2, Status.OK)]


def test_journals_of_hyperdeme_0_1_are_read(tmp_path: Path) -> None:
    path = tmp_path / "trials.jsonl"
    path.write_text(
        '{"id":1,"params":{"--x":0.5},"fom":0.25,"metrics":{},"status":"ok","attempts":1}\n'
    )
    (read,) = read_journal(path)
    assert (read.id, read.fom, read.status) == (1, 0.25, Status.OK)


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
        while not (journal.exists() and journal.read_bytes().count(b'"type":"trial"') >= 3):
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
    records = [json.loads(line) for line in raw.splitlines()]
    finished = [r for r in records if r["type"] == "trial"]
    assert len(finished) >= 3
    trials = read_journal(journal)
    assert [t.id for t in trials] == [r["id"] for r in finished]
    assert len({t.id for t in trials}) == len(trials)
    assert all(t.status is Status.OK and t.attempts == 1 for t in trials)


# ------------------------------------------------------- mutants killed (scripts/mutants)


def _fsyncs(monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], threading.Event]:
    """Every fsync from now on, by the name of the thread that made it; and an event set
    at the first one."""
    made: list[str] = []
    first = threading.Event()
    real = os.fsync

    def spy(fd: int) -> None:
        made.append(threading.current_thread().name)
        real(fd)
        first.set()

    monkeypatch.setattr(os, "fsync", spy)
    return made, first


def test_mutants_a_journal_is_empty_until_its_first_record(tmp_path: Path) -> None:
    path = tmp_path / "trials.jsonl"
    with Journal(path) as journal:
        assert journal.empty
        journal.trial(trial(1))
        assert not journal.empty
    with Journal(path) as journal:
        assert not journal.empty


@pytest.mark.parametrize(("fsync", "inline"), [("always", 1), ("never", 0), ("batch", 0)])
def test_mutants_only_always_fsyncs_each_trial_in_the_callers_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fsync: Durability, inline: int
) -> None:
    made, _ = _fsyncs(monkeypatch)
    me = threading.current_thread().name
    with Journal(tmp_path / "trials.jsonl", fsync=fsync) as journal:
        journal.started(trial(1))
        journal.flush()  # a started record is never synced on its own
        assert made == []
        for count in range(1, 4):
            journal.trial(trial(count))
            assert made.count(me) == inline * count  # before trial() returned
    assert made.count(me) == 3 * inline
    if fsync == "never":
        assert made == []


def test_mutants_batch_fsyncs_in_its_thread_without_waiting_for_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made, first = _fsyncs(monkeypatch)
    path = tmp_path / "trials.jsonl"
    with Journal(path) as journal:
        journal.trial(trial(1))
        assert first.wait(30), "the batch thread never synced a waiting record"
        assert made == ["hyperdeme journal fsync"]


def test_mutants_batch_fsyncs_nothing_when_nothing_was_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "trials.jsonl"
    with Journal(path) as journal:
        journal.trial(trial(1))
    made, _ = _fsyncs(monkeypatch)
    with Journal(path):  # reopened and closed: no record waited, no fsync
        pass
    assert made == []


def test_mutants_a_failed_write_cuts_back_to_the_last_record_and_names_the_cause(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "trials.jsonl"
    journal = Journal(path, fsync="never")
    journal.trial(trial(1))
    journal.trial(trial(2))
    whole = path.read_bytes()
    real = os.write
    calls: list[int] = []

    def half_then_full(fd: int, data: bytes) -> int:
        if fd != journal._fd:
            return real(fd, data)
        calls.append(len(data))
        if len(calls) == 1:  # the kernel takes half the record, then the disk is full
            return real(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", half_then_full)
    with pytest.raises(JournalError) as failed:
        journal.trial(trial(3))
    monkeypatch.undo()
    assert path.read_bytes() == whole  # no partial record left
    assert str(failed.value) == (
        f"cannot write the journal {path}: No space left on device (ENOSPC); the run stops "
        "here with every earlier record intact: free some space, then resume."
    )
    with pytest.raises(JournalError):  # and it stays failed
        journal.trial(trial(4))
    journal.close()
    assert [t.id for t in read_journal(path)] == [1, 2]


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"params": 5}, "trial 2's 'params' is 5, not an object"),
        ({"status": "bogus"}, "trial 2's 'status' is 'bogus', not one of"),
        ({"fom": None}, "trial 2's 'fom' is None, not a number"),
        ({"fom": "low"}, "trial 2's 'fom' is 'low', not a number"),
        ({"attempts": 1.5}, "trial 2's 'attempts' is 1.5, not an integer"),
        ({"metrics": {"a": "b"}}, "trial 2's 'metrics' is {'a': 'b'}, not an object of numbers"),
        ({"intermediate": {"x": 1}}, "trial 2's 'intermediate' is {'x': 1}, not an object"),
        ({"fom": DELETE}, "trial 2's record has no 'fom'"),
        ({"params": DELETE}, "trial 2's record has no 'params'"),
    ],
)
def test_mutants_a_trial_record_with_a_bad_field_is_refused_naming_it(
    tmp_path: Path, change: dict[str, object], why: str
) -> None:
    path = tmp_path / "trials.jsonl"
    with Journal(path) as journal:
        journal.trial(trial(1))
    good = {"schema": 2, "type": "trial", **trial(2).to_json()}
    bad = {**good, **change}
    bad = {key: value for key, value in bad.items() if value is not DELETE}
    with path.open("a") as handle:
        handle.write(json.dumps(bad) + "\n")
    with pytest.raises(JournalError, match=rf"line 2: {re.escape(why)}"):
        read_journal(path)
    path.write_text(path.read_text().splitlines(keepends=True)[0] + json.dumps(good) + "\n")
    assert [t.id for t in read_journal(path)] == [1, 2]  # the control: the good record reads


def test_mutants_a_trial_started_or_finished_twice_or_never_started_is_refused(
    tmp_path: Path,
) -> None:
    """In an experiment's journal (its first record the fingerprint) a result follows its
    ask, once; a cancelled or interrupted trial's later result is its rerun."""
    path = tmp_path / "trials.jsonl"

    def journal_of(*records: dict[str, object]) -> None:
        lines = [{"schema": 2, "type": "experiment", "fingerprint": {"seed": 1}}, *records]
        path.write_text("".join(json.dumps(r) + "\n" for r in lines))

    def started(trial_id: int) -> dict[str, object]:
        return {"schema": 2, "type": "started", "id": trial_id, "genes": {}}

    def result(trial_id: int, **fields: object) -> dict[str, object]:
        return {"schema": 2, "type": "trial", **trial(trial_id, **fields).to_json()}

    journal_of(started(1), result(1, status=Status.CANCELLED), result(1, status=Status.INTERRUPTED),
               result(1, fom=0.5))  # fmt: skip
    assert [(t.id, t.fom) for t in read_journal(path)] == [(1, 0.5)]
    journal_of(started(1), result(1), result(1))
    with pytest.raises(JournalError, match="line 4: trial 1 finished already, on line 3"):
        read_journal(path)
    journal_of(started(1), started(1))
    with pytest.raises(JournalError, match="line 3: trial 1 was started already, on line 2"):
        read_journal(path)
    journal_of(started(1), result(1), result(7, fom=-5.0))
    with pytest.raises(JournalError, match="line 4: a result for trial 7, which no earlier"):
        read_journal(path)
    journal_of({**started(1), "genes": [1]})
    with pytest.raises(JournalError, match="line 2: trial 1's genes is a list, not an object"):
        read_journal(path)


def test_mutants_closing_writes_the_started_records_still_in_memory(tmp_path: Path) -> None:
    path = tmp_path / "trials.jsonl"
    with Journal(path) as journal:
        journal.trial(trial(1))
        journal.started(trial(2))
        assert path.read_bytes().count(b"\n") == 1  # kept in memory so far
    records = list(read_records(path))
    assert [(r["type"], r["id"]) for r in records] == [("trial", 1), ("started", 2)]


def test_mutants_a_torn_line_is_blamed_on_the_code_reading_the_records(tmp_path: Path) -> None:
    path = tmp_path / "trials.jsonl"
    path.write_text('{"id": 1, "par')
    with pytest.warns(HyperdemeWarning, match="line 1: unfinished") as caught:
        assert list(read_records(path)) == []
    assert caught[0].filename == __file__


class _SpyEvent:
    """Stands in for the batch thread's stop event: records each pause, never sleeps."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._set = False

    def wait(self, timeout: float | None = None) -> bool:
        if timeout is not None:
            self.pauses.append(timeout)
        return self._set

    def set(self) -> None:
        self._set = True

    def is_set(self) -> bool:
        return self._set


def test_mutants_batch_pauses_20_ms_from_the_start_of_one_fsync_to_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hyperdeme._engine import _journal

    clock = iter(range(100, 1000))  # each reading 5 ms after the last: an fsync "takes" 5 ms
    monkeypatch.setattr(_journal, "time", SimpleNamespace(monotonic=lambda: next(clock) * 0.005))
    _, first = _fsyncs(monkeypatch)
    journal = Journal(tmp_path / "trials.jsonl")
    assert journal._syncer is not None
    spy = journal._syncer._stopped = _SpyEvent()  # type: ignore[assignment]
    journal.trial(trial(1))
    assert first.wait(30)
    journal.close()
    assert spy.pauses
    assert spy.pauses[0] == pytest.approx(0.015)


def test_mutants_batch_keeps_syncing_and_syncs_what_waits_at_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hyperdeme._engine import _journal

    idle = threading.Semaphore(0)  # released each time the thread waits for a request

    class Event(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            if timeout is None:
                idle.release()
            return super().wait(timeout)

    monkeypatch.setattr(
        _journal, "threading", SimpleNamespace(Event=Event, Thread=threading.Thread)
    )
    made, first = _fsyncs(monkeypatch)
    path = tmp_path / "trials.jsonl"
    journal = Journal(path)
    assert idle.acquire(timeout=10)  # waiting for the first request
    journal.trial(trial(1))
    assert first.wait(30)
    assert idle.acquire(timeout=10), "the thread stopped after its first fsync"
    journal.trial(trial(2))  # after the first fsync, the thread idle: needs one of its own
    journal.close()
    assert len(made) == 2
    assert made == ["hyperdeme journal fsync"] * 2


def test_mutants_a_failed_batch_fsync_stops_the_next_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failed = threading.Event()

    def broken_disk(fd: int) -> None:
        failed.set()
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    path = tmp_path / "trials.jsonl"
    journal = Journal(path)
    monkeypatch.setattr(os, "fsync", broken_disk)
    journal.trial(trial(1))
    assert failed.wait(30)
    assert journal._syncer is not None
    journal._syncer._thread.join(30)  # the thread ends at the error
    with pytest.raises(JournalError, match=r"Input/output error \(EIO\); .* fix that, then"):
        journal.trial(trial(2))
    journal.close()


def test_mutants_a_write_error_without_errno_is_named_as_such(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "trials.jsonl"
    journal = Journal(path, fsync="never")
    real = os.write

    def fail(fd: int, data: bytes) -> int:
        if fd == journal._fd:
            raise OSError("the volume went away")
        return real(fd, data)

    monkeypatch.setattr(os, "write", fail)
    with pytest.raises(JournalError) as caught:
        journal.trial(trial(1))
    monkeypatch.undo()
    journal.close()
    assert str(caught.value) == (
        f"cannot write the journal {path}: the volume went away (error); the run stops here "
        "with every earlier record intact: fix that, then resume."
    )


def test_mutants_a_journal_in_a_new_directory_tree_is_made_rw_r_r(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "trials.jsonl"
    old = os.umask(0o022)
    try:
        with Journal(path) as journal:
            journal.trial(trial(1))
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


def test_mutants_closing_twice_closes_the_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = Journal(tmp_path / "trials.jsonl", fsync="never")
    fd = journal._fd
    closed: list[int] = []
    real = os.close

    def spy(n: int) -> None:
        closed.append(n)
        if n == fd:  # never any other descriptor (the mutant "- 0" would close stdin)
            real(n)

    monkeypatch.setattr(os, "close", spy)
    journal.close()
    journal.close()
    assert closed == [fd]
    with pytest.raises(OSError, match="Bad file descriptor"):
        os.fstat(fd)  # really closed (nothing else opened meanwhile)


def test_mutants_an_unfinished_record_is_cut_at_its_own_start(tmp_path: Path) -> None:
    path = tmp_path / "trials.jsonl"
    with Journal(path) as journal:
        journal.trial(trial(1))
    whole = path.read_bytes()
    for torn in [b"{", b"x" * ((1 << 20) - 1), b"y" * ((1 << 20) + 3)]:  # across 1 MiB reads
        path.write_bytes(whole + torn)
        with pytest.warns(
            HyperdemeWarning, match=rf"unfinished record \({len(torn)} bytes"
        ) as caught:
            Journal(path).close()
        assert caught[0].filename == __file__  # blamed on who opened the journal
        assert path.read_bytes() == whole


@pytest.mark.parametrize("size", [1, 5, (1 << 20) + 1])
def test_mutants_a_journal_of_one_unfinished_record_is_emptied(tmp_path: Path, size: int) -> None:
    path = tmp_path / "trials.jsonl"
    path.write_bytes(b"z" * size)
    with pytest.warns(HyperdemeWarning, match="unfinished record"):
        Journal(path).close()
    assert path.read_bytes() == b""


def test_mutants_a_blank_first_line_survives_cutting_a_long_unfinished_record(
    tmp_path: Path,
) -> None:
    path = tmp_path / "trials.jsonl"
    path.write_bytes(b"\n" + b"w" * (1 << 20))  # the newline alone before the last 1 MiB
    with pytest.warns(HyperdemeWarning, match="unfinished record"):
        Journal(path).close()
    assert path.read_bytes() == b"\n"


def test_mutants_a_driver_that_never_closes_its_journal_still_exits(tmp_path: Path) -> None:
    program = (
        "import sys; from hyperdeme import Trial; from hyperdeme._engine._journal import Journal\n"
        "Journal(__import__('pathlib').Path(sys.argv[1])).trial(Trial(id=1, params={}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program, str(tmp_path / "trials.jsonl")], timeout=120, check=True
    )
    assert done.returncode == 0


@pytest.mark.parametrize("fsync", ["always", "batch"])
def test_mutants_the_experiment_resumed_and_interrupted_records_are_synced_like_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fsync: Durability
) -> None:
    """The header, a ``resumed`` record and an ``interrupted`` one are as durable as a
    result: with "always" each is fsynced before its call returns; with "batch" the
    fsync thread syncs them (at the latest on close)."""
    made, _ = _fsyncs(monkeypatch)
    me = threading.current_thread().name
    inline = 1 if fsync == "always" else 0
    with Journal(tmp_path / "trials.jsonl", fsync=fsync) as journal:
        journal.experiment({"seed": 1}, version="0")
        assert made.count(me) == inline
        journal.interrupted(3)
        assert made.count(me) == 2 * inline
        journal.resumed(finished=2, interrupted=[3])
        assert made.count(me) == 3 * inline
    assert made, "nothing was synced"
