"""Shared pieces of the launcher tests: stand-ins on PATH, jobs, the tiny kernel.

The stand-ins under ``tests/standins/`` replace workload-manager tools that
cannot run here (no PBS server, no Kubernetes API server, no Urika system);
each test says which one it runs against and why.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import psutil
import pytest

import hyperdeme
from hyperdeme import Status
from hyperdeme._engine._metrics import MetricScanner, MetricSpec
from hyperdeme._engine._sinks import LogSink
from hyperdeme.launchers import Job
from processes import kill_marked, marked, new_marker

STANDINS = Path(__file__).parent.parent / "standins"
KERNEL = STANDINS / "kernel.py"
#: the engine's test kernel: learning curves (--epochs), hanging runs, marked grandchildren
CURVE_KERNEL = Path(__file__).parent.parent / "kernels" / "kernel.py"


def kernel_command(*args: str) -> str:
    """A shell command running the tiny kernel with this interpreter."""
    return shlex.join([sys.executable, str(KERNEL), *args])


@dataclass
class Evaluation:
    """A job plus what the tests look at afterwards."""

    job: Job
    stdout: LogSink
    stderr: LogSink
    scanner: MetricScanner

    @property
    def output(self) -> str:
        self.stdout.close()
        return self.stdout.path.read_text()

    @property
    def errors(self) -> str:
        self.stderr.close()
        return self.stderr.path.read_text()

    def metrics(self) -> dict[str, float]:
        return self.scanner.close()


@pytest.fixture
def evaluation(tmp_path: Path) -> Iterator[Callable[..., Evaluation]]:
    """Build a job running ``command`` in a fresh directory under tmp_path."""
    sinks: list[LogSink] = []

    def make(command: str, *, trial_id: int = 1, attempt: int = 1, **fields: Any) -> Evaluation:
        directory = tmp_path / f"trial{trial_id}.{attempt}"
        directory.mkdir()
        scanner = MetricSpec("FoM: ").scanner()
        stdout = LogSink(directory / "stdout.log", scanner=scanner)
        stderr = LogSink(directory / "stderr.log")
        sinks.extend((stdout, stderr))
        defaults: dict[str, Any] = {
            "cwd": directory, "env": {}, "nodes": 1, "name": f"exp-{trial_id}",
            "experiment": "exp",
        }  # fmt: skip
        job = Job(
            trial_id=trial_id,
            attempt=attempt,
            command=command,
            stdout=stdout,
            stderr=stderr,
            **{**defaults, **fields},
        )
        return Evaluation(job, stdout, stderr, scanner)

    yield make
    for sink in sinks:
        sink.close()


def put_on_path(monkeypatch: pytest.MonkeyPatch, standin: str) -> Path:
    """Put a stand-in's tools first on PATH, and this interpreter's directory next, so
    their ``#!/usr/bin/env python3`` finds a python3 directly (not through a shim)."""
    directory = STANDINS / standin
    path = os.pathsep.join([str(directory), str(Path(sys.executable).parent), os.environ["PATH"]])
    monkeypatch.setenv("PATH", path)
    return directory


async def wait_for_file(path: Path) -> str:
    """The content of ``path`` once it exists (poll loop, bounded)."""
    for _ in range(500):
        if await anyio.Path(path).exists():
            return await anyio.Path(path).read_text()
        await anyio.sleep(0.02)
    raise TimeoutError(f"{path} did not appear within 10 s")


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie awaiting its reaper is not)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


async def gone(pid: int) -> bool:
    """Whether ``pid`` stops running within 5 s (a signalled process takes a moment to die)."""
    for _ in range(250):
        if not running(pid):
            return True
        await anyio.sleep(0.02)
    return False


async def search_through(tmp_path: Path, **settings: Any) -> hyperdeme.Result:
    """A small random search whose every evaluation runs through the configured backend.

    Returns the result after checking what every backend must give: all trials
    ok, with the FoM the kernel computes from ``--x``.
    """
    source = tmp_path / "src"
    source.mkdir(exist_ok=True)
    evaluator = hyperdeme.Evaluator(
        kernel_command(), run_path=str(tmp_path / "run"), src_path=str(source),
        num_parallel_evals=4, **settings,
    )  # fmt: skip
    optimizer = hyperdeme.RandomOptimizer(evaluator, num_iters=4, seed=5, name="e2e")
    result = await hyperdeme.optimize(optimizer, hyperdeme.Params([["--x", 0.9, (0.0, 1.0)]]))
    assert len(result.trials) == 4
    for trial in result.trials:
        assert trial.status is hyperdeme.Status.OK, trial.error
        assert trial.fom == pytest.approx((trial.params["--x"] - 0.3) ** 2)
    assert result.best_fom == min(trial.fom for trial in result.trials)
    return result


CHECKPOINTER = Path(__file__).parent.parent / "kernels" / "checkpointer.py"


async def pbt_through(tmp_path: Path, **settings: Any) -> hyperdeme.Result:
    """A small PBT run whose every slice runs through the configured backend, resuming the
    checkpoint hyperdeme copied: each program loaded what the slice it continued saved."""
    from lineage import assert_continuations

    source = tmp_path / "src"
    source.mkdir(exist_ok=True)
    evaluator = hyperdeme.Evaluator(
        shlex.join([sys.executable, str(CHECKPOINTER)]) + " @checkpoint",
        run_path=str(tmp_path / "run"), src_path=str(source), checkpoint=str(tmp_path / "ckpt"),
        num_parallel_evals=2, **settings,
    )  # fmt: skip
    optimizer = hyperdeme.PBTOptimizer(
        evaluator, population=2, steps=3, quantile=0.5, mode="sync", seed=3, name="pbt"
    )
    result = await hyperdeme.optimize(optimizer, hyperdeme.Params([["--x", 0.5, (0.0, 1.0)]]))
    assert [t.status for t in result.trials] == [hyperdeme.Status.OK] * 6
    assert_continuations(tmp_path / "run" / "pbt", result.trials)
    assert all(t.info["checkpoint_from"] is not None for t in result.trials if t.info["step"])
    return result


@pytest.fixture
def marker() -> Iterator[str]:
    """A word in the argv of a test's processes, to count the survivors; they are killed
    afterwards whatever happened."""
    marker = new_marker()
    yield marker
    kill_marked(marker)


def survivors(marker: str) -> list[psutil.Process]:
    """Processes carrying ``marker`` still alive after a short grace (signals are async)."""
    _gone, alive = psutil.wait_procs(marked(marker), timeout=5)
    return list(alive)


async def early_stopping_through(tmp_path: Path, marker: str, **settings: Any) -> hyperdeme.Result:
    """Three trials, one at a time, through the configured backend, with ASHA at steps 1
    and 2: the first (the best parameters) prints 4 epochs and ends; the others print a
    worse first epoch, then hang with two grandchildren until they are stopped.

    Returns the result after checking what every backend must give: the hopeless trials
    stopped at step 1 with their first epoch's FoM, and no process of theirs left.
    """
    source = tmp_path / "src"
    source.mkdir(exist_ok=True)
    command = shlex.join([
        sys.executable, str(CURVE_KERNEL), "--epochs=4", "--hang-after=1", "--grandchildren=2",
        f"--state={tmp_path / 'state'}", f"--marker={marker}",
    ])  # fmt: skip
    evaluator = hyperdeme.Evaluator(
        command, run_path=str(tmp_path / "run"), src_path=str(source), num_parallel_evals=1,
        early_stopping=hyperdeme.ASHA(max_steps=4, reduction_factor=2), **settings,
    )  # fmt: skip
    optimizer = hyperdeme.RandomOptimizer(evaluator, num_iters=3, seed=5, name="es")
    space = hyperdeme.Params([["--x", 0.3, (0.0, 1.0)], ["--n", 5, (1, 10)]])
    result = await hyperdeme.optimize(optimizer, space)
    assert [(t.status, t.steps) for t in result.trials] == [
        (Status.OK, 4), (Status.STOPPED, 1), (Status.STOPPED, 1),
    ], [t.error for t in result.trials]  # fmt: skip
    assert result.trials[0].fom == pytest.approx(0.25)  # 0 + 1/4
    for trial in result.trials[1:]:
        x, n = trial.params["--x"], trial.params["--n"]
        assert trial.fom == pytest.approx((x - 0.3) ** 2 + 0.01 * (n - 5) ** 2 + 1)
        assert trial.intermediate == {1: trial.fom}
    assert survivors(marker) == []
    return result


class Watch:
    """A sink passing everything on to ``sink``; ``seen`` is set once ``text`` arrived."""

    def __init__(self, sink: Any, text: bytes) -> None:
        self.sink = sink
        self.text = text
        self.data = b""
        self.seen = anyio.Event()

    def write(self, data: bytes) -> None:
        self.sink.write(data)
        self.data += data
        if self.text in self.data:
            self.seen.set()


def curve_command(*options: str) -> str:
    """A shell command running the engine's test kernel (``--epochs``, ``--hang`` ...)."""
    return shlex.join([sys.executable, str(CURVE_KERNEL), *options])
