"""Durability observed: every ``os.fsync`` the journal and the checkpoint store promise.

A spy replaces ``os.fsync`` and records, for each call, what the descriptor names
(``/proc/self/fd``), how big the file was, and which thread called: so a test
sees *when* each record reached the disk, not only that the file reads back (which
the page cache guarantees whether or not anything was synced).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from hyperdeme import Candidate, CheckpointPlan, Trial
from hyperdeme._engine import _journal
from hyperdeme._engine._checkpoints import CheckpointStore
from hyperdeme._engine._journal import Journal

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc/self/fd")


@dataclass(frozen=True)
class Sync:
    path: str
    size: int
    thread: str


class FsyncSpy:
    """Stands in for ``os.fsync``: records each call, then really syncs."""

    def __init__(self) -> None:
        self.calls: list[Sync] = []
        self.happened = threading.Event()
        self._real = os.fsync

    def __call__(self, fd: int) -> None:
        path = os.readlink(f"/proc/self/fd/{fd}")
        self.calls.append(Sync(path, os.fstat(fd).st_size, threading.current_thread().name))
        self._real(fd)
        self.happened.set()

    def sizes(self, path: Path) -> list[int]:
        return [call.size for call in self.calls if call.path == str(path)]


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> FsyncSpy:
    spy = FsyncSpy()
    monkeypatch.setattr(os, "fsync", spy)
    return spy


def finished(trial_id: int) -> Trial:
    return Trial(id=trial_id, params={"--x": 0.5}, fom=0.25)


# ------------------------------------------------------------------ the journal


def test_always_syncs_each_trial_record_before_trial_returns(tmp_path: Path, spy: FsyncSpy) -> None:
    path = tmp_path / "trials.jsonl"
    with Journal(path, fsync="always") as journal:
        for trial_id in range(1, 21):
            journal.trial(finished(trial_id))
            size = path.stat().st_size
            assert spy.sizes(path)[-1:] == [size], f"trial {trial_id} returned unsynced"
            assert len(spy.sizes(path)) == trial_id  # one fsync per record, on the caller
    assert {call.thread for call in spy.calls} == {threading.current_thread().name}


def test_always_leaves_started_records_to_the_next_synced_one(
    tmp_path: Path, spy: FsyncSpy
) -> None:
    """``started`` records are written unsynced (their loss only means asking again)."""
    path = tmp_path / "trials.jsonl"
    with Journal(path, fsync="always") as journal:
        journal.started(finished(1))
        journal.flush()
        assert spy.calls == []
        journal.trial(finished(1))
        assert spy.sizes(path) == [path.stat().st_size]


def test_batch_syncs_off_the_caller_within_its_spacing(
    tmp_path: Path, spy: FsyncSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One record, then nothing: the background thread syncs it without being asked
    again. With the spacing made an hour, the records written meanwhile wait (group
    commit: no second fsync), and closing syncs them all at once."""
    monkeypatch.setattr(_journal, "_SPACING", 3600.0)
    path = tmp_path / "trials.jsonl"
    journal = Journal(path, fsync="batch")
    try:
        journal.trial(finished(1))
        first = path.stat().st_size
        assert spy.happened.wait(30), "the record written was never synced"
        assert spy.sizes(path) == [first]
        assert spy.calls[0].thread == "hyperdeme journal fsync"
        for trial_id in range(2, 31):
            journal.trial(finished(trial_id))
        assert spy.sizes(path) == [first]  # within the spacing: one fsync so far
    finally:
        journal.close()
    assert spy.sizes(path) == [first, path.stat().st_size]  # close syncs what waited


def test_batch_syncs_again_once_the_spacing_has_passed(
    tmp_path: Path, spy: FsyncSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Spacing 0: each record written after a sync gets a sync of its own, from the
    thread, while the journal stays open."""
    monkeypatch.setattr(_journal, "_SPACING", 0.0)
    path = tmp_path / "trials.jsonl"
    with Journal(path, fsync="batch") as journal:
        for trial_id in range(1, 6):
            spy.happened.clear()
            journal.trial(finished(trial_id))
            size = path.stat().st_size
            assert spy.happened.wait(30), f"trial {trial_id} was never synced"
            while spy.sizes(path)[-1] < size:  # a sync of an earlier size may come first
                spy.happened.clear()
                assert spy.happened.wait(30), f"trial {trial_id} was never synced"
            assert spy.sizes(path)[-1] == size


def test_never_never_syncs(tmp_path: Path, spy: FsyncSpy) -> None:
    path = tmp_path / "trials.jsonl"
    with Journal(path, fsync="never") as journal:
        journal.started(finished(1))
        journal.trial(finished(1))
    assert len(path.read_bytes().splitlines()) == 2
    assert spy.calls == []


# ------------------------------------------------------------------ the checkpoint store


def planned(trial_id: int, slot: str) -> Trial:
    candidate = Candidate({"--x": 0.5}, {}, checkpoint=CheckpointPlan(slot))
    return Trial(id=trial_id, params={"--x": 0.5}, candidate=candidate, attempts=1)


async def commit(store: CheckpointStore, trial: Trial, files: dict[str, str]) -> Path:
    """One attempt of ``trial`` that saved ``files``; returns its scratch directory."""
    async with store.attempt(trial) as scratch:
        assert scratch.path is not None
        for name, text in files.items():
            (scratch.path / name).parent.mkdir(parents=True, exist_ok=True)
            (scratch.path / name).write_text(text)
        assert await scratch.commit() == ""
        return scratch.path


async def test_a_durable_commit_syncs_every_file_and_directory_then_the_root(
    tmp_path: Path, spy: FsyncSpy
) -> None:
    """Files and directories of the new version are synced where they were written,
    before the rename (else the rename may reach the disk before the data), and the
    root after the link is replaced (so the new link itself is on disk)."""
    root = tmp_path / "checkpoints"
    store = CheckpointStore(root, fsync=True)
    files = {"model.txt": "weights", "sub/opt.txt": "moments"}
    scratch = await commit(store, planned(1, "a"), files)
    synced = [call.path for call in spy.calls]
    expected_before_rename = {
        str(scratch / "model.txt"),
        str(scratch / "sub" / "opt.txt"),
        str(scratch),
        str(scratch / "sub"),
    }
    assert set(synced[:-1]) == expected_before_rename
    assert synced[-1] == str(root)
    assert os.readlink(root / "a") == "a@1"


async def test_a_store_without_fsync_never_syncs(tmp_path: Path, spy: FsyncSpy) -> None:
    store = CheckpointStore(tmp_path, fsync=False)
    await commit(store, planned(1, "a"), {"model.txt": "weights"})
    assert (tmp_path / "a" / "model.txt").read_text() == "weights"
    assert spy.calls == []
