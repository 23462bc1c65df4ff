"""Checkpoint plans carried out: scratch per attempt, atomic commits, copies, releases."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any

import anyio
import pytest

from fakes import FakeLauncher, Handler
from hyperdeme import (
    Candidate,
    CheckpointPlan,
    ConfigError,
    Evaluator,
    Exit,
    Job,
    Params,
    Status,
    Trial,
)
from hyperdeme._engine._checkpoints import CheckpointStore, _ReadWriteLock
from hyperdeme._engine._retries import RetryPolicy
from hyperdeme._engine._runner import TrialRunner
from hyperdeme._engine._workspace import Workspace

SPACE = Params([["--x", 0.5, (0.0, 1.0)]])


def planned(trial_id: int, slot: str, start_from: str | None = None) -> Trial:
    candidate = Candidate({"--x": 0.5}, {}, checkpoint=CheckpointPlan(slot, start_from))
    return Trial(id=trial_id, params={"--x": 0.5}, candidate=candidate, attempts=1)


async def write_slot(store: CheckpointStore, trial: Trial, content: str) -> None:
    """One successful attempt of ``trial`` that saved ``content`` as model.txt."""
    async with store.attempt(trial) as scratch:
        assert scratch.path is not None
        (scratch.path / "model.txt").write_text(content)
        assert await scratch.commit() == ""


def entries(root: Path) -> list[str]:
    return sorted(os.listdir(root))


# ------------------------------------------------------------------ the plan type


@pytest.mark.parametrize("slot", ["", "a/b", ".x", "-x", "00012.3.tmp", "x@3", "..", 12])
def test_a_slot_is_a_plain_name(slot: Any) -> None:
    with pytest.raises(ConfigError) as caught:
        CheckpointPlan(slot)
    assert str(caught.value) == (
        "CheckpointPlan.slot must be a plain name (letters, digits, '_' and '-', starting "
        f"with a letter or digit), got {slot!r}."
    )
    with pytest.raises(ConfigError, match=r"CheckpointPlan\.start_from must be a plain name"):
        CheckpointPlan("ok", start_from=slot)


# ------------------------------------------------------------------ the store


async def test_an_attempt_starts_from_a_copy_and_a_commit_replaces_the_slot(
    tmp_path: Path,
) -> None:
    store = CheckpointStore(tmp_path)
    first = planned(1, "m0")
    await write_slot(store, first, "epoch 1")
    assert first.info == {"checkpoint": "m0", "checkpoint_from": None}
    assert store.committed("m0") == 1
    assert (tmp_path / "m0" / "model.txt").read_text() == "epoch 1"
    assert os.readlink(tmp_path / "m0") == "m0@1"  # relative: the root may move

    second = planned(2, "m0", start_from="m0")
    async with store.attempt(second) as scratch:
        assert scratch.path == tmp_path / "m0.2.1.tmp"
        assert (scratch.path / "model.txt").read_text() == "epoch 1"  # a copy ...
        (scratch.path / "model.txt").write_text("epoch 2")
        assert (tmp_path / "m0" / "model.txt").read_text() == "epoch 1"  # ... not the slot
        assert await scratch.commit() == ""
    assert second.info == {"checkpoint": "m0", "checkpoint_from": 1}
    assert (tmp_path / "m0" / "model.txt").read_text() == "epoch 2"
    assert entries(tmp_path) == ["m0", "m0@2"]  # replaced, not accumulated


async def test_a_failed_attempt_leaves_the_committed_checkpoint_whole(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    await write_slot(store, planned(1, "m0"), "good")
    trial = planned(2, "m0", start_from="m0")
    async with store.attempt(trial) as scratch:
        assert scratch.path is not None
        (scratch.path / "model.txt").write_text("half a checkp")  # crashed mid-save
    assert entries(tmp_path) == ["m0", "m0@1"]  # the scratch is gone
    trial.attempts = 2
    async with store.attempt(trial) as scratch:  # the retry starts again from the commit
        assert scratch.path == tmp_path / "m0.2.2.tmp"
        assert (scratch.path / "model.txt").read_text() == "good"


async def test_a_slot_never_committed_starts_empty(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    trial = planned(3, "c", start_from="never")
    async with store.attempt(trial) as scratch:
        assert scratch.path is not None
        assert list(scratch.path.iterdir()) == []
    assert trial.info["checkpoint_from"] is None


async def test_release_deletes_the_slot_and_its_version(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    await write_slot(store, planned(1, "a"), "x")
    await write_slot(store, planned(2, "b"), "y")
    await store.release(["a", "never-committed"])
    assert entries(tmp_path) == ["b", "b@2"]
    assert store.committed("a") is None


async def test_leftovers_of_a_killed_run_are_removed_on_first_use(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    await write_slot(store, planned(1, "a"), "kept")
    # killed mid-attempt, mid-commit (version renamed, link not yet swapped), mid-swap
    (tmp_path / "a.7.1.tmp").mkdir()
    (tmp_path / "a@7").mkdir()
    os.symlink("a@7", tmp_path / "a.7.link.tmp")
    (tmp_path / "00003").mkdir()  # a plain per-trial directory is not ours to judge
    await write_slot(CheckpointStore(tmp_path), planned(8, "b"), "new")
    assert entries(tmp_path) == ["00003", "a", "a@1", "b", "b@8"]
    assert (tmp_path / "a" / "model.txt").read_text() == "kept"


async def test_a_copy_error_is_reported_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = CheckpointStore(tmp_path)
    await write_slot(store, planned(1, "a"), "x")

    def broken(slot: str, scratch: Path) -> int | None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(store, "_copy", broken)
    async with store.attempt(planned(2, "b", start_from="a")) as scratch:
        assert scratch.error == (
            f"the checkpoint of slot 'a' could not be copied to {tmp_path / 'b.2.1.tmp'}: "
            "[Errno 5] Input/output error"
        )
    assert entries(tmp_path) == ["a", "a@1"]


async def test_a_disabled_store_ignores_plans(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path, enabled=False)
    trial = planned(1, "a")
    assert await store.directory(trial) is None
    async with store.attempt(trial) as scratch:
        assert scratch.path is None
        assert await scratch.commit() == ""
    assert trial.info == {}


async def test_a_trial_without_a_plan_keeps_its_own_directory(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    trial = Trial(id=4, params={}, candidate=Candidate({}))
    assert await store.directory(trial) == str(tmp_path / "00004")
    assert (tmp_path / "00004").is_dir()
    async with store.attempt(trial) as scratch:
        assert scratch.path is None


async def test_fsync_commits_the_same_way(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path, fsync=True)
    await write_slot(store, planned(1, "a"), "durable")
    assert (tmp_path / "a" / "model.txt").read_text() == "durable"


# ------------------------------------------------------------------ no replacement under a reader


async def test_a_writer_waits_for_readers_and_keeps_new_readers_out() -> None:
    lock = _ReadWriteLock()
    order: list[str] = []
    reading, writer_waiting, release_reader = anyio.Event(), anyio.Event(), anyio.Event()

    async def reader() -> None:
        async with lock.reading():
            order.append("read")
            reading.set()
            await release_reader.wait()
        order.append("read done")

    async def writer() -> None:
        writer_waiting.set()
        async with lock.writing():
            order.append("write")

    async def late_reader() -> None:
        async with lock.reading():
            order.append("late read")

    async with anyio.create_task_group() as tg:
        tg.start_soon(reader)
        await reading.wait()
        tg.start_soon(writer)
        await writer_waiting.wait()
        await anyio.wait_all_tasks_blocked()
        tg.start_soon(late_reader)
        await anyio.wait_all_tasks_blocked()
        assert order == ["read"]  # the writer waits, and the late reader queues behind it
        release_reader.set()
    assert order == ["read", "read done", "write", "late read"]


async def test_a_slot_is_not_replaced_while_it_is_being_copied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = CheckpointStore(tmp_path)
    await write_slot(store, planned(1, "donor"), "v1")
    copying = anyio.Event()
    copied = anyio.Event()
    real_copy = store._copy
    token = anyio.lowlevel.current_token()

    def slow_copy(slot: str, scratch: Path) -> int | None:
        anyio.from_thread.run_sync(copying.set, token=token)
        anyio.from_thread.run(copied.wait, token=token)
        return real_copy(slot, scratch)

    monkeypatch.setattr(store, "_copy", slow_copy)
    seen: list[str] = []

    async def exploit() -> None:
        async with store.attempt(planned(2, "taker", start_from="donor")) as scratch:
            assert scratch.path is not None
            seen.append((scratch.path / "model.txt").read_text())

    async with anyio.create_task_group() as tg:
        tg.start_soon(exploit)
        await copying.wait()
        tg.start_soon(write_slot, store, planned(3, "donor", "donor"), "v2")
        await anyio.wait_all_tasks_blocked()
        assert store.committed("donor") == 1  # the commit waits for the copy
        copied.set()
    assert seen == ["v1"]
    assert store.committed("donor") == 3


# ------------------------------------------------------------------ through the runner


def reads_and_writes(fail_first: bool) -> Handler:
    """A program that reads @checkpoint/model.txt, appends its attempt, and saves; with
    ``fail_first`` its first attempt writes half a file and crashes."""

    async def handler(job: Job) -> Exit:
        directory = Path(shlex.split(job.command)[1])
        model = directory / "model.txt"
        before = model.read_text() if model.exists() else ""
        job.stdout.write(f"loaded: {before!r}\n".encode())
        if fail_first and job.attempt == 1:
            model.write_text(before + "garb")
            return Exit(1)
        model.write_text(before + f"t{job.trial_id}a{job.attempt};")
        job.stdout.write(b"FoM: 1\n")
        return Exit(0)

    return handler


def checkpoint_runner(tmp_path: Path, handler: Handler, **settings: Any) -> TrialRunner:
    evaluator = Evaluator("prog @checkpoint", retry_delay=0, **settings)
    workspace = Workspace.create(str(tmp_path / "run"), "exp")
    return TrialRunner(evaluator, SPACE, FakeLauncher(handler), workspace, None, "exp")


def run_trial(runner: TrialRunner, trial_id: int, plan: CheckpointPlan) -> Trial:
    return runner.new_trial(trial_id, Candidate({"--x": 0.5}, {"member": 0}, checkpoint=plan))


async def test_a_crash_mid_save_is_retried_from_the_last_good_checkpoint(tmp_path: Path) -> None:
    runner = checkpoint_runner(tmp_path, reads_and_writes(fail_first=False))
    first = await runner.run(run_trial(runner, 1, CheckpointPlan("00001")))
    assert first.status is Status.OK
    runner.launcher = FakeLauncher(reads_and_writes(fail_first=True))
    runner.config = runner.evaluator.config = Evaluator(
        "prog @checkpoint", retry_delay=0, num_retries=1
    ).config
    runner.retries = RetryPolicy(num_retries=1, retry_delay=0)  # built from the config
    second = await runner.run(run_trial(runner, 2, CheckpointPlan("00002", "00001")))
    assert (second.status, second.attempts) == (Status.OK, 2)
    root = tmp_path / "run" / "exp" / "checkpoints"
    # the retry loaded the committed checkpoint, not the half-written one
    logs = tmp_path / "run" / "exp" / "00002"
    assert (logs / "stdout.attempt1.log").read_text().startswith("loaded: 't1a1;'")
    assert (logs / "stdout.log").read_text().startswith("loaded: 't1a1;'")
    assert (root / "00001" / "model.txt").read_text() == "t1a1;"  # the donor is intact
    assert (root / "00002" / "model.txt").read_text() == "t1a1;t2a2;"
    assert second.info == {"member": 0, "checkpoint": "00002", "checkpoint_from": 1}
    assert second.candidate is not None
    assert second.candidate.info == {"member": 0}  # shared with the trial, never changed
    assert second.command == f"prog {root / '00002.2.2.tmp'} --x=0.5"
    assert entries(root) == ["00001", "00001@1", "00002", "00002@2"]


async def test_a_trial_failing_every_attempt_commits_nothing(tmp_path: Path) -> None:
    async def crash(job: Job) -> Exit:
        model = Path(shlex.split(job.command)[1]) / "model.txt"
        model.write_text("partial")
        return Exit(1)

    runner = checkpoint_runner(tmp_path, crash, num_retries=2)
    trial = await runner.run(run_trial(runner, 1, CheckpointPlan("00001")))
    assert (trial.status, trial.attempts) == (Status.FAILED, 3)
    assert entries(tmp_path / "run" / "exp" / "checkpoints") == []


async def test_a_commit_error_fails_the_attempt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = checkpoint_runner(tmp_path, reads_and_writes(fail_first=False))

    def broken(slot: str, trial_id: int, scratch: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(runner.checkpoints, "_swap", broken)
    trial = await runner.run(run_trial(runner, 1, CheckpointPlan("00001")))
    assert trial.status is Status.FAILED
    assert trial.error == (
        "the checkpoint could not be committed as slot '00001': [Errno 28] No space left on device"
    )


async def test_a_cancelled_attempt_leaves_no_scratch(tmp_path: Path) -> None:
    started = anyio.Event()

    async def hang(job: Job) -> Exit:
        started.set()
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    runner = checkpoint_runner(tmp_path, hang)
    async with anyio.create_task_group() as tg:
        tg.start_soon(runner.run, run_trial(runner, 1, CheckpointPlan("00001")))
        await started.wait()
        tg.cancel_scope.cancel()
    assert entries(tmp_path / "run" / "exp" / "checkpoints") == []


async def test_a_function_evaluator_ignores_plans(tmp_path: Path) -> None:
    evaluator = Evaluator(lambda params: 1.0)
    workspace = Workspace.create(str(tmp_path / "run"), "exp")
    runner = TrialRunner(evaluator, SPACE, FakeLauncher(reads_and_writes(False)), workspace)
    assert not runner.checkpoints.enabled


# ------------------------------------------------------- mutants killed (scripts/mutants)


@pytest.mark.parametrize(
    ("command", "settings", "enabled", "durable"),
    [
        ("prog @checkpoint", {}, True, False),
        ("prog --x", {}, False, False),  # nothing could use a checkpoint
        ("prog @checkpoint", {"fsync": "always"}, True, True),
        ("prog @checkpoint", {"fsync": "never"}, True, False),
    ],
)
def test_mutants_for_run_enables_a_command_naming_its_checkpoint_and_follows_fsync(
    tmp_path: Path, command: str, settings: dict[str, Any], enabled: bool, durable: bool
) -> None:
    evaluator = Evaluator(command, **settings)
    workspace = Workspace.create(str(tmp_path / "run"), "exp")
    store = CheckpointStore.for_run(evaluator, workspace)
    assert (store.enabled, store.fsync) == (enabled, durable)
    assert store.root == workspace.checkpoint_base


async def test_mutants_a_trial_without_a_plan_gets_the_same_directory_again(
    tmp_path: Path,
) -> None:
    store = CheckpointStore(tmp_path)
    trial = Trial(id=4, params={}, candidate=Candidate({}))
    first = await store.directory(trial)
    (Path(str(first)) / "kept.txt").write_text("from the first attempt")
    assert await store.directory(trial) == first  # e.g. after a resume: no error, kept
    assert (tmp_path / "00004" / "kept.txt").read_text() == "from the first attempt"


async def test_mutants_a_trial_committing_its_slot_again_keeps_its_new_version(
    tmp_path: Path,
) -> None:
    store = CheckpointStore(tmp_path)
    trial = planned(3, "a")
    await write_slot(store, trial, "attempt 1")
    trial.attempts = 2
    await write_slot(store, trial, "attempt 2")
    assert store.committed("a") == 3
    assert (tmp_path / "a" / "model.txt").read_text() == "attempt 2"
    assert entries(tmp_path) == ["a", "a@3"]


async def test_mutants_a_checkpoint_copy_keeps_its_symbolic_links(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    first = planned(1, "a")
    async with store.attempt(first) as scratch:
        assert scratch.path is not None
        (scratch.path / "model.1").write_text("weights")
        (scratch.path / "latest").symlink_to("model.1")
        assert await scratch.commit() == ""
    async with store.attempt(planned(2, "b", start_from="a")) as scratch:
        assert scratch.path is not None
        assert os.readlink(scratch.path / "latest") == "model.1"  # a link, not a copy


@pytest.mark.parametrize("fsync", [True, False])
async def test_mutants_fsync_flushes_every_file_and_directory_of_a_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fsync: bool
) -> None:
    from hyperdeme._engine import _checkpoints

    synced: list[str] = []
    monkeypatch.setattr(_checkpoints, "_fsync", lambda path: synced.append(str(path)))
    store = CheckpointStore(tmp_path, fsync=fsync)
    async with store.attempt(planned(1, "a")) as scratch:
        assert scratch.path is not None
        (scratch.path / "sub").mkdir()
        (scratch.path / "sub" / "model.txt").write_text("weights")
        (scratch.path / "latest").symlink_to("sub/model.txt")
        assert await scratch.commit() == ""
        written = scratch.path
    if not fsync:
        assert synced == []
        return
    assert sorted(synced) == sorted(
        [str(written), str(written / "sub"), str(written / "sub" / "model.txt"), str(tmp_path)]
    )  # the files (not the link), their directories before the commit, the root after it
    assert synced[-1] == str(tmp_path)


async def test_mutants_a_store_makes_its_root_and_the_root_s_parents(tmp_path: Path) -> None:
    plain = CheckpointStore(tmp_path / "a" / "b")
    trial = Trial(id=4, params={}, candidate=Candidate({}))
    assert await plain.directory(trial) == str(tmp_path / "a" / "b" / "00004")
    planned_store = CheckpointStore(tmp_path / "c" / "d")
    await write_slot(planned_store, planned(1, "m"), "made")
    assert (tmp_path / "c" / "d" / "m" / "model.txt").read_text() == "made"


async def test_mutants_a_scratch_that_cannot_be_deleted_does_not_fail_the_attempt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.unlink

    def refuse(path: Any, *args: Any, **kwargs: Any) -> None:
        if os.fspath(path) == "stuck.bin":
            raise PermissionError(13, "Permission denied", path)
        real(path, *args, **kwargs)

    store = CheckpointStore(tmp_path)
    async with store.attempt(planned(1, "a")) as scratch:
        assert scratch.path is not None
        (scratch.path / "stuck.bin").write_text("the program's, not deletable")
        (scratch.path / "other.bin").write_text("deletable")
        monkeypatch.setattr(os, "unlink", refuse)
    monkeypatch.undo()
    assert sorted(os.listdir(scratch.path)) == ["stuck.bin"]  # the rest went, no error


async def test_mutants_a_scratch_says_whether_it_was_committed_and_stores_default_to_no_fsync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hyperdeme._engine import _checkpoints

    synced: list[str] = []
    monkeypatch.setattr(_checkpoints, "_fsync", lambda path: synced.append(str(path)))
    store = CheckpointStore(tmp_path)
    assert store.fsync is False
    async with store.attempt(planned(1, "a")) as scratch:
        assert scratch.committed is False
        assert await scratch.commit() == ""
        assert scratch.committed is True
    async with store.attempt(planned(2, "b")) as failed:
        pass
    assert failed.committed is False
    assert synced == []


async def test_only_successful_trials_slots_are_known_to_hold_a_checkpoint_on_resume(
    tmp_path: Path,
) -> None:
    """On resume the store learns the slots the journal's *successful* trials committed:
    a failed trial's slot was never committed, so a member planned from it starts empty
    (not failed as a lost checkpoint)."""
    store = CheckpointStore(tmp_path)
    await write_slot(store, planned(1, "kept"), "weights")
    resumed = CheckpointStore(tmp_path)
    ok = Trial(id=1, params={}, status=Status.OK, info={"checkpoint": "kept"})
    failed = Trial(id=2, params={}, status=Status.FAILED, info={"checkpoint": "never"})
    resumed.resume([ok, failed])
    trial = planned(3, "next", start_from="never")
    async with resumed.attempt(trial) as scratch:
        assert scratch.error == ""
    assert trial.info["checkpoint_from"] is None
    assert "checkpoint_lost" not in trial.info
