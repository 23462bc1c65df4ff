"""Trial directories: logs, params.json, and a private work tree with ``src_path``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import hyperdeme
from hyperdeme._engine._workspace import Workspace


@pytest.fixture
def src(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "data").mkdir(parents=True)
    (src / "train.py").write_text("print('FoM: 1')\n")
    (src / "data" / "set.csv").write_text("1,2\n")
    return src


def test_trial_directories_are_numbered_under_the_experiment(tmp_path: Path) -> None:
    ws = Workspace.create(str(tmp_path / "run"), "exp")
    assert ws.root == tmp_path / "run" / "exp"
    assert ws.journal_path == ws.root / "trials.jsonl"
    directory, cwd = ws.prepare(7, {"--x": 0.5, "--act": "relu"})
    assert directory == ws.root / "00007"
    assert json.loads((directory / "params.json").read_text()) == {"--x": 0.5, "--act": "relu"}
    assert cwd == Path.cwd()  # without src_path, programs run where the user ran us


def test_a_relative_run_path_is_made_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    ws = Workspace.create("runs", "e")
    assert ws.root == tmp_path / "runs" / "e"
    assert ws.root.is_dir()


@pytest.mark.parametrize("what", ["missing", "file"])
def test_a_src_path_that_is_no_directory_is_a_config_error(tmp_path: Path, what: str) -> None:
    src = tmp_path / "src"
    if what == "file":
        src.write_text("")
    with pytest.raises(hyperdeme.ConfigError, match=r"src_path='.*src' is not a directory"):
        Workspace.create(str(tmp_path / "run"), "exp", src_path=str(src))


async def test_optimize_with_a_missing_src_path_raises_a_plain_config_error(
    tmp_path: Path,
) -> None:
    """Before any evaluation, not as a FileNotFoundError in an ExceptionGroup."""
    evaluator = hyperdeme.Evaluator(
        "true", src_path=str(tmp_path / "missing"), run_path=str(tmp_path / "run")
    )
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=2, seed=1)
    with pytest.raises(hyperdeme.ConfigError, match="is not a directory"):
        await hyperdeme.optimize(opt, hyperdeme.Params([["--x", [1, 2]]]))
    assert not (tmp_path / "run").exists()


def test_src_path_entries_are_symlinked_and_the_trial_dir_is_the_cwd(
    tmp_path: Path, src: Path
) -> None:
    ws = Workspace.create(str(tmp_path / "run"), "exp", src_path=str(src))
    directory, cwd = ws.prepare(1, {})
    assert cwd == directory
    assert (directory / "train.py").is_symlink()
    assert (directory / "train.py").read_text() == "print('FoM: 1')\n"
    assert (directory / "data" / "set.csv").read_text() == "1,2\n"
    # an output file written in the trial directory stays there
    (directory / "model.pt").write_text("weights")
    assert not (src / "model.pt").exists()


def test_src_files_named_like_trial_files_are_not_clobbered(tmp_path: Path, src: Path) -> None:
    for name in ("stdout.log", "stderr.log", "params.json"):
        (src / name).write_text(f"the user's own {name}\n")
    ws = Workspace.create(str(tmp_path / "run"), "exp", src_path=str(src))
    directory, _ = ws.prepare(1, {"--x": 1})
    for name in ("stdout.log", "stderr.log"):
        assert not (directory / name).is_symlink()
        (directory / name).write_text("trial output\n")  # what the log sink does
    assert json.loads((directory / "params.json").read_text()) == {"--x": 1}
    for name in ("stdout.log", "stderr.log", "params.json"):
        assert (src / name).read_text() == f"the user's own {name}\n"


def test_preparing_twice_is_harmless(tmp_path: Path, src: Path) -> None:
    ws = Workspace.create(str(tmp_path / "run"), "exp", src_path=str(src))
    ws.prepare(3, {"--x": 1})
    directory, _ = ws.prepare(3, {"--x": 2})
    assert json.loads((directory / "params.json").read_text()) == {"--x": 2}
    assert os.readlink(directory / "train.py") == str(src / "train.py")


def test_checkpoint_directories(tmp_path: Path) -> None:
    ws = Workspace.create(str(tmp_path / "run"), "exp")
    assert ws.checkpoint_dir(2) == ws.root / "checkpoints" / "00002"
    custom = Workspace.create(str(tmp_path / "run"), "exp", checkpoint=str(tmp_path / "ck"))
    path = custom.checkpoint_dir(2)
    assert path == tmp_path / "ck" / "exp" / "00002"
    assert path.is_dir()


@pytest.mark.parametrize("name", ["x" * 300, "é" * 128])  # 300 and 256 bytes
def test_an_experiment_name_longer_than_the_file_system_takes_is_a_config_error(
    tmp_path: Path, name: str
) -> None:
    """Before anything is made (it was ENAMETOOLONG at run time), in bytes as the kernel
    counts: 128 two-byte characters are 256 bytes."""
    limit = os.pathconf(tmp_path, "PC_NAME_MAX")
    with pytest.raises(hyperdeme.ConfigError) as caught:
        Workspace.create(str(tmp_path / "run"), name)
    assert caught.value.name == "name"
    assert caught.value.value == name
    assert f"is {len(name.encode())} bytes long" in str(caught.value)
    assert f"at most {limit} bytes (PC_NAME_MAX)" in str(caught.value)
    assert not (tmp_path / "run").exists()


def test_a_name_at_the_limit_is_taken(tmp_path: Path) -> None:
    name = "x" * os.pathconf(tmp_path, "PC_NAME_MAX")
    assert Workspace.create(str(tmp_path / "run"), name).prepare(1, {})[0].is_dir()


def test_a_run_whose_paths_would_pass_path_max_is_a_config_error(tmp_path: Path) -> None:
    deep = tmp_path / "/".join(["d" * 200] * 20)  # 4,000 bytes and more
    with pytest.raises(hyperdeme.ConfigError, match=r"paths of at most \d+ bytes \(PC_PATH_MAX\)"):
        Workspace.create(str(deep), "exp")
