"""The Urika launcher: ``run_training`` command lines, and runs through a stand-in.

No Urika system is available here; the flow tests use the stand-in
``run_training`` of ``tests/standins/urika`` (checks ``-n`` and execs the
command like the real wrapper).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest

from hyperdeme import LauncherOptions
from hyperdeme.launchers import create
from hyperdeme.launchers._urika import UrikaLauncher, run_training_argv

from .conftest import (
    Evaluation,
    gone,
    kernel_command,
    pbt_through,
    put_on_path,
    search_through,
    wait_for_file,
)


def test_run_training_command_line() -> None:
    assert run_training_argv(nodes=2, command="python3 train.py --lr '0.1'") == [
        "run_training", "-n", "2", "/bin/sh", "-c", "python3 train.py --lr '0.1'",
    ]  # fmt: skip
    assert run_training_argv(nodes=0, command="x", launch_args="--ntasks-per-node 4 -v") == [
        "run_training", "-n", "1", "--ntasks-per-node", "4", "-v", "/bin/sh", "-c", "x",
    ]  # fmt: skip


def test_registered_as_urika() -> None:
    assert isinstance(create("urika", LauncherOptions()), UrikaLauncher)


@pytest.fixture
def urika(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The stand-in run_training on PATH; returns its argv log."""
    put_on_path(monkeypatch, "urika")
    log = tmp_path / "run_training.log"
    monkeypatch.setenv("URIKA_STANDIN_LOG", str(log))
    return log


async def test_evaluation_runs_through_run_training(
    urika: Path, evaluation: Callable[..., Evaluation]
) -> None:
    """Against the stand-in run_training (no Urika system here)."""
    ev = evaluation(kernel_command("--show", "URIKA_NODES", "--show", "TAG"), nodes=2,
                    env={"TAG": "t"})  # fmt: skip
    launcher = UrikaLauncher(LauncherOptions(launch_args="-v"))
    assert (await launcher.run(ev.job)).returncode == 0
    assert ev.metrics() == {"FoM": 1.25}
    assert "URIKA_NODES=2\nTAG=t\n" in ev.output
    assert f"cwd={ev.job.cwd}\n" in ev.output
    [argv] = [json.loads(line) for line in (await anyio.Path(urika).read_text()).splitlines()]
    assert argv[:4] == ["-n", "2", "-v", "/bin/sh"]


async def test_failures_are_propagated(urika: Path, evaluation: Callable[..., Evaluation]) -> None:
    """Against the stand-in run_training: the program's exit code, and run_training's own
    refusal (too many nodes), both come back as the return code."""
    ev = evaluation(kernel_command("--exit", "9"))
    assert (await UrikaLauncher(LauncherOptions()).run(ev.job)).returncode == 9
    too_many = evaluation("true", trial_id=2, nodes=5)
    assert (await UrikaLauncher(LauncherOptions()).run(too_many.job)).returncode == 1
    assert "5 nodes requested" in too_many.errors


async def test_cancellation_stops_the_program(
    urika: Path, evaluation: Callable[..., Evaluation], tmp_path: Path
) -> None:
    """Against the stand-in run_training: cancelling run() terminates its process group."""
    pidfile = tmp_path / "kernel.pid"
    ev = evaluation(kernel_command("--pidfile", str(pidfile), "--hold", "60"))
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:
            tg.start_soon(UrikaLauncher(LauncherOptions(), grace=2).run, ev.job)
            pid = int(await wait_for_file(pidfile))
            scope.cancel()
    assert await gone(pid)


async def test_random_search_through_run_training(urika: Path, tmp_path: Path) -> None:
    """hyperdeme.optimize with launcher='urika', against the stand-in run_training."""
    await search_through(tmp_path, launcher="urika", nodes_per_eval=2)
    lines = (await anyio.Path(urika).read_text()).splitlines()
    assert len(lines) == 4
    assert all(json.loads(line)[:2] == ["-n", "2"] for line in lines)


def test_crayais_urika_args_go_to_run_training() -> None:
    """crayai's ``Evaluator(..., launcher="urika", urika_args="--no-node-list")``."""
    argv = run_training_argv(nodes=2, command="c", launch_args="-v", urika_args="--no-node-list")
    assert argv == [
        "run_training", "-n", "2", "--no-node-list", "-v", "/bin/sh", "-c", "c",
    ]  # fmt: skip


async def test_pbt_through_run_training(urika: Path, tmp_path: Path) -> None:
    """Population-based training, every slice through the stand-in run_training."""
    await pbt_through(tmp_path, launcher="urika")
    assert len((await anyio.Path(urika).read_text()).splitlines()) == 6
