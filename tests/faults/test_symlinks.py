"""A symbolic link planted in the run directory changes no file outside it (issue 18.7).

For every file and directory a run writes, a link is planted in its place,
pointing outside the run directory; after the run the file it points to is
unchanged byte for byte (and a directory it points to holds nothing new), and
the error names the planted path:

* in the experiment directory (journal, lock, the driver's files, the watchdog's
  record, the human log, the checkpoint root, a trial directory): refused before
  any evaluation starts, with a ``ConfigError``;
* in a trial's directory (``params.json``, ``stdout.log``, ``stderr.log``): that
  trial fails, its error naming the path; the other trials run.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import hyperdeme
from hyperdeme import Status
from hyperdeme._core._nofollow import make_directory, new_file, write_new
from hyperdeme._engine._sinks import LogSink
from hyperdeme._engine._workspace import Workspace

PRECIOUS = b"precious: must survive the run\n"
NAME = "exp"
#: what every evaluation leaves in the current directory: none may run when refused
RAN = "ran"


def evaluator(tmp_path: Path, **settings: object) -> hyperdeme.Evaluator:
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    command = f"{sys.executable} -c \"open('{tmp_path / RAN}', 'a').close(); print('FoM: 1')\""
    return hyperdeme.Evaluator(
        command, src_path=str(src), run_path=str(tmp_path / "run"), **settings
    )  # type: ignore[arg-type]


async def run(tmp_path: Path, **settings: object) -> hyperdeme.Result:
    opt = hyperdeme.RandomOptimizer(
        evaluator(tmp_path, **settings), num_iters=3, seed=1, name=NAME, log_fn="hpo.log"
    )
    return await hyperdeme.optimize(opt, hyperdeme.Params([["--x", [1, 2, 3, 4]]]))


def outside_file(tmp_path: Path) -> Path:
    outside = tmp_path / "outside" / "precious.txt"
    outside.parent.mkdir()
    outside.write_bytes(PRECIOUS)
    return outside


def untouched(outside: Path) -> bool:
    """The outside file is byte for byte what it was, and nothing was added beside it."""
    return outside.read_bytes() == PRECIOUS and os.listdir(outside.parent) == [outside.name]


EXPERIMENT_ENTRIES = [
    "trials.jsonl",
    ".lock",
    ".driver",
    f".driver.{os.getpid()}",
    ".watchdog.json",
    ".watchdog.json.tmp",
    "hpo.log",
    "checkpoints",
    "00001",
]


@pytest.mark.parametrize("name", EXPERIMENT_ENTRIES)
@pytest.mark.parametrize("points_to", ["file", "directory"])
async def test_a_link_in_the_experiment_directory_is_refused_before_the_run(
    tmp_path: Path, name: str, points_to: str
) -> None:
    outside = outside_file(tmp_path)
    planted = tmp_path / "run" / NAME / name
    planted.parent.mkdir(parents=True)
    planted.symlink_to(outside if points_to == "file" else outside.parent)
    with pytest.raises(hyperdeme.ConfigError) as caught:
        await run(tmp_path)
    assert f"{planted} is a symbolic link (to {planted.readlink()})" in str(caught.value)
    assert caught.value.name == "run_path"
    assert caught.value.value == str(planted)
    assert untouched(outside)
    assert not (tmp_path / RAN).exists()  # before any evaluation
    assert planted.is_symlink()  # refused, not removed


async def test_the_experiment_directory_itself_a_link_is_refused(tmp_path: Path) -> None:
    outside = outside_file(tmp_path)
    planted = tmp_path / "run" / NAME
    planted.parent.mkdir()
    planted.symlink_to(outside.parent)
    with pytest.raises(hyperdeme.ConfigError, match=f"{planted} is a symbolic link"):
        await run(tmp_path)
    assert untouched(outside)
    assert not (tmp_path / RAN).exists()


async def test_a_checkpoint_root_that_is_a_link_is_refused(tmp_path: Path) -> None:
    outside = outside_file(tmp_path)
    planted = tmp_path / "ck" / NAME
    planted.parent.mkdir()
    planted.symlink_to(outside.parent)
    with pytest.raises(hyperdeme.ConfigError, match=f"{planted} is a symbolic link"):
        await run(tmp_path, checkpoint=str(tmp_path / "ck"))
    assert untouched(outside)


@pytest.mark.parametrize("name", ["params.json", "stdout.log", "stderr.log"])
async def test_a_link_in_a_trial_directory_fails_that_trial_only(tmp_path: Path, name: str) -> None:
    outside = outside_file(tmp_path)
    trial_dir = tmp_path / "run" / NAME / "00002"
    trial_dir.mkdir(parents=True)
    planted = trial_dir / name
    planted.symlink_to(outside)
    result = await run(tmp_path)
    by_id = {t.id: t for t in result.trials}
    assert by_id[2].status is Status.FAILED
    assert f"{planted} is a symbolic link (to {outside})" in by_id[2].error
    assert [by_id[i].status for i in (1, 3)] == [Status.OK, Status.OK]
    assert untouched(outside)
    assert planted.is_symlink()


async def test_a_hard_link_in_a_trial_directory_is_replaced_not_written_through(
    tmp_path: Path,
) -> None:
    """A file written whole is a new file: the other name of a planted hard link keeps
    its bytes."""
    outside = outside_file(tmp_path)
    trial_dir = tmp_path / "run" / NAME / "00002"
    trial_dir.mkdir(parents=True)
    for name in ("params.json", "stdout.log", "stderr.log"):
        os.link(outside, trial_dir / name)
    result = await run(tmp_path)
    assert result.n_failed == 0
    assert outside.read_bytes() == PRECIOUS
    assert b"FoM: 1" in (trial_dir / "stdout.log").read_bytes()


# -- the same refusals, one writer at a time (what a link swapped in mid-run meets) --


def test_a_trial_directory_swapped_for_a_link_is_refused(tmp_path: Path) -> None:
    outside = outside_file(tmp_path)
    workspace = Workspace.create(str(tmp_path / "run"), NAME)
    workspace.trial_dir(4).symlink_to(outside.parent)
    with pytest.raises(hyperdeme.ConfigError, match=f"{workspace.trial_dir(4)} is a symbolic"):
        workspace.prepare(4, {"--x": 1})
    assert untouched(outside)


def test_a_checkpoint_directory_swapped_for_a_link_is_refused(tmp_path: Path) -> None:
    outside = outside_file(tmp_path)
    workspace = Workspace.create(str(tmp_path / "run"), NAME)
    (workspace.checkpoint_base).mkdir()
    (workspace.checkpoint_base / "00004").symlink_to(outside.parent)
    with pytest.raises(hyperdeme.ConfigError, match="00004 is a symbolic link"):
        workspace.checkpoint_dir(4)


def test_a_log_swapped_for_a_link_is_refused(tmp_path: Path) -> None:
    outside = outside_file(tmp_path)
    (tmp_path / "stdout.log").symlink_to(outside)
    with pytest.raises(hyperdeme.ConfigError, match=r"stdout\.log is a symbolic link"):
        LogSink(tmp_path / "stdout.log")
    assert untouched(outside)


def test_a_file_in_place_of_a_directory_is_named(tmp_path: Path) -> None:
    (tmp_path / "00001").write_text("in the way")
    with pytest.raises(hyperdeme.ConfigError, match="00001 is in the way"):
        make_directory(tmp_path / "00001")


def test_a_directory_under_a_linked_directory_is_refused(tmp_path: Path) -> None:
    """The directory holding the file is opened without following a link too."""
    outside = outside_file(tmp_path)
    (tmp_path / "trial").symlink_to(outside.parent)
    with pytest.raises(hyperdeme.ConfigError, match="trial is a symbolic link"):
        new_file(tmp_path / "trial" / "params.json")
    assert untouched(outside)


def test_write_new_leaves_nothing_when_it_cannot_write(tmp_path: Path) -> None:
    """On a file size limit (a full disk alike), no partial file and the path named."""
    import resource
    import signal

    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4, hard))
    try:
        with pytest.raises(OSError, match=str(tmp_path / "params.json")):
            write_new(tmp_path / "params.json", b"0123456789")
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
    assert os.listdir(tmp_path) == []
