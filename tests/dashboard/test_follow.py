"""The follower: a journal read as it grows, new bytes only, torn lines waiting, bad lines
refused; the state of an experiment; the scan of a run path."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import hyperdeme
from hyperdeme._dashboard import _follow
from hyperdeme._dashboard._follow import Follower
from hyperdeme._dashboard._scan import experiment_dirs
from hyperdeme._engine._journal_read import JournalTail

from .journals import completed, finished, header, line, started, write_journal


def test_only_new_bytes_are_read(tmp_path: Path) -> None:
    journal = completed(tmp_path / "e", 2)
    tail = JournalTail(journal)
    assert [r["type"] for r in tail.read()] == ["experiment", *["started", "trial"] * 2]
    assert tail.offset == journal.stat().st_size
    assert tail.read() == []
    with journal.open("ab") as handle:
        handle.write(line(started(3)))
    assert [(r["type"], r["id"]) for r in tail.read()] == [("started", 3)]


def test_a_torn_last_line_waits_for_its_end(tmp_path: Path) -> None:
    journal = completed(tmp_path / "e", 1)
    follower = Follower(journal.parent)
    follower.refresh()
    whole = line(started(2)) + line(finished(2, 0.5))
    with journal.open("ab") as handle:
        handle.write(whole[:-20])  # the writer is in the middle of the result
    assert follower.refresh()
    assert sorted(follower.rows.index) == [1]
    assert follower.unfinished == [2]
    with journal.open("ab") as handle:
        handle.write(whole[-20:])
    assert follower.refresh()
    assert sorted(follower.rows.index) == [1, 2]
    assert follower.summary().best_trial == 2


def test_a_line_hyperdeme_could_not_write_is_refused(tmp_path: Path) -> None:
    journal = completed(tmp_path / "e", 1)
    with journal.open("ab") as handle:
        handle.write(line(finished(1, 2.0)))  # trial 1 finished twice
    follower = Follower(journal.parent)
    follower.refresh()
    assert follower.error is not None
    assert "line 4" in follower.error
    assert follower.summary().error == follower.error
    tail = JournalTail(journal)
    with pytest.raises(hyperdeme.JournalError, match="line 4: trial 1 finished already"):
        tail.read()


def test_a_replaced_journal_is_read_again(tmp_path: Path) -> None:
    journal = completed(tmp_path / "e", 3)
    follower = Follower(journal.parent)
    follower.refresh()
    replacement = tmp_path / "other.jsonl"
    replacement.write_bytes(journal.read_bytes()[: -len(line(finished(3, 3.0)))])
    os.replace(replacement, journal)
    follower.refresh()
    assert sorted(follower.rows.index) == [1, 2]


def test_states(tmp_path: Path) -> None:
    done = Follower(completed(tmp_path / "done", 2).parent)
    left = Follower(write_journal(tmp_path / "left", started(1)).parent)
    cancelled = Follower(
        write_journal(tmp_path / "cancelled", started(1), finished(1, 1.0, "cancelled")).parent
    )
    for follower in (done, left, cancelled):
        follower.refresh()
    assert [f.summary().state for f in (done, left, cancelled)] == [
        "finished",
        "interrupted",
        "interrupted",
    ]
    # a live driver (this process, named in .driver as the lock's holder writes it)
    holder = {"host": os.uname().nodename, "pid": os.getpid(), "since": "now"}
    (tmp_path / "left" / ".driver").write_text(json.dumps(holder))
    summary = left.summary()
    assert (summary.state, summary.running) == ("running", 1)


def test_best_follows_the_direction(tmp_path: Path) -> None:
    journal = write_journal(
        tmp_path / "e",
        header(direction="maximize"),
        started(1),
        finished(1, 0.2),
        started(2),
        finished(2, 0.9),
        started(3),
        finished(3, 5.0, "failed"),
    )
    follower = Follower(journal.parent)
    follower.refresh()
    summary = follower.summary()
    assert (summary.best_fom, summary.best_trial, summary.failed) == (0.9, 2, 1)


def test_the_scan_finds_experiments_not_links(tmp_path: Path) -> None:
    completed(tmp_path / "run" / "b", 1)
    completed(tmp_path / "run" / "a", 1)
    (tmp_path / "run" / "empty").mkdir()
    (tmp_path / "run" / "link").symlink_to(tmp_path / "run" / "a")
    assert [d.name for d in experiment_dirs(tmp_path / "run")] == ["a", "b"]
    assert experiment_dirs(tmp_path / "run" / "a") == [tmp_path / "run" / "a"]
    assert experiment_dirs(tmp_path / "missing") == []


def test_a_journal_is_taken_in_parts_of_whole_lines(tmp_path: Path) -> None:
    journal = completed(tmp_path / "e", 5)
    whole = JournalTail(journal).read()
    tail = JournalTail(journal)
    parts = []
    while records := tail.read(max_bytes=50):  # each line is longer than 50 bytes
        assert len(records) == 1
        parts += records
    assert parts == whole
    tail = JournalTail(journal)
    assert tail.read(max_bytes=len(line(started(1))) * 4) != []
    assert tail.offset < journal.stat().st_size  # a part, ended at a line's end
    assert journal.read_bytes()[tail.offset - 1 : tail.offset] == b"\n"


def test_the_follower_reads_a_large_journal_in_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_follow, "CHUNK", 300)
    follower = Follower(completed(tmp_path / "e", 40).parent)
    follower.refresh()
    assert sorted(follower.rows.index) == list(range(1, 41))


def test_a_choice_is_kept_once_and_a_new_flag_joins_the_row(tmp_path: Path) -> None:
    journal = write_journal(
        tmp_path / "e",
        started(1),
        finished(1, 1.0, params={"--lr": 0.1, "--tag": "adam-long"}),
        started(2),
        finished(2, 2.0, params={"--lr": 0.2, "--tag": "adam-long", "--new": 3}),
    )
    follower = Follower(journal.parent)
    follower.refresh()
    rows = follower.rows
    assert rows.flags == ["--lr", "--tag", "--new"]
    assert [rows.params_of(0), rows.params_of(1)] == [
        {"--lr": 0.1, "--tag": "adam-long"},
        {"--lr": 0.2, "--tag": "adam-long", "--new": 3},
    ]
    assert rows.params[0][1] is rows.params[1][1]  # one string object for the choice
