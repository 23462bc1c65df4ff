"""Every failure is a recorded trial: an evaluation that cannot start, or whose function
raises what normally ends a program, is a failed trial in the journal, never a crash.

Injected (asyncio and trio): an argument list too long for ``execve`` (E2BIG: a
300 kB parameter value), a NUL byte in a value (``Params`` allows it; ``execve``
cannot take it), a file where a trial's directory goes, a Python function raising
``SystemExit`` or ``KeyboardInterrupt`` (in a worker thread and in a worker
process), and a function overrunning ``eval_timeout`` (in a worker process: killed
with its process; in a thread, which cannot be killed: the run ends anyway). Each
run ends normally with its other trials ``ok``, the journal holds every trial as
the run reported it, and no process survives.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import psutil
import pytest

import hyperdeme
from hyperdeme import Params, Result, Status, read_journal
from kernels.fault_driver import KERNEL, SPACE, optimizer

from .support import snapshot, survivors


async def grid(tmp_path: Path, cmd: Any, values: list[str], **settings: Any) -> Result:
    """A grid over one list parameter ``--what`` (its first value first)."""
    evaluator = hyperdeme.Evaluator(cmd, run_path=str(tmp_path / "run"), **settings)
    opt = hyperdeme.GridOptimizer(evaluator, name="exp")
    return await hyperdeme.optimize(opt, Params([["--what", values[0], values]]))


def assert_journal_is_the_result(result: Result) -> None:
    journal = read_journal(result.journal_path or "")
    assert [(t.id, t.status, t.params, t.error) for t in journal] == [
        (t.id, t.status, t.params, t.error) for t in result.trials
    ]
    shot = snapshot(result.journal_path or Path())
    assert shot.torn == b""
    assert set(shot.started) == set(shot.finished)


def kernel(marker: str) -> str:
    return f"bash {KERNEL} --marker={marker}"


async def test_an_argument_list_too_long_is_a_failed_trial(
    tmp_path: Path, src: Path, marker: str
) -> None:
    huge = "y" * 300_000  # one argument longer than MAX_ARG_STRLEN (128 kB): E2BIG
    result = await grid(tmp_path, kernel(marker), ["small", huge], src_path=str(src))
    small, big = result.trials
    assert (small.params["--what"], small.status) == ("small", Status.OK)
    assert (big.params["--what"], big.status) == (huge, Status.FAILED)
    assert "could not start" in big.error
    assert "Argument list too long" in big.error
    assert_journal_is_the_result(result)
    assert await survivors(marker, within=1.0) == []


async def test_a_nul_byte_in_a_value_is_a_failed_trial_and_journalled_intact(
    tmp_path: Path, src: Path, marker: str
) -> None:
    """Params accepts "a\\0b" in a value list; no program can receive it (C strings): the
    trial fails to start, and the journal keeps the value exactly (JSON escapes it)."""
    result = await grid(tmp_path, kernel(marker), ["small", "a\x00b"], src_path=str(src))
    small, nul = result.trials
    assert small.status is Status.OK
    assert (nul.params["--what"], nul.status) == ("a\x00b", Status.FAILED)
    assert "could not start" in nul.error
    assert "null byte" in nul.error
    assert_journal_is_the_result(result)
    assert b"\x00" not in (result.journal_path or Path()).read_bytes()
    assert await survivors(marker, within=1.0) == []


async def test_a_file_in_the_way_of_a_trial_directory_is_a_failed_trial(
    tmp_path: Path, src: Path, marker: str
) -> None:
    experiment = tmp_path / "run" / "exp"
    experiment.mkdir(parents=True)
    (experiment / "00002").write_text("in the way\n")
    opt = optimizer(tmp_path / "run", marker=marker, src_path=src, num_iters=3)
    result = await hyperdeme.optimize(opt, SPACE)
    assert [t.status for t in result.trials if t.id != 2] == [Status.OK, Status.OK]
    [second] = [t for t in result.trials if t.id == 2]
    assert second.status is Status.FAILED
    assert "could not start: FileExistsError" in second.error
    assert str(experiment / "00002") in second.error
    assert (experiment / "00002").read_text() == "in the way\n"  # left alone
    assert_journal_is_the_result(result)
    assert await survivors(marker, within=1.0) == []


def last_line(text: str) -> str:
    return text.strip().rpartition("\n")[2]


def ends_a_program(params: dict[str, Any]) -> float:
    """Module level, so that a worker process can unpickle it."""
    if params["--what"] == "exit":
        raise SystemExit(3)
    if params["--what"] == "interrupt":
        raise KeyboardInterrupt
    return 1.0


@pytest.mark.parametrize("runs_in", ["thread", "process"])
async def test_a_function_raising_system_exit_or_keyboard_interrupt_is_a_failed_trial(
    tmp_path: Path, runs_in: str
) -> None:
    """One slot, so the trials run in this order, each after the one before."""
    values = ["ok", "exit", "ok after exit", "interrupt", "ok after interrupt"]
    result = await grid(tmp_path, ends_a_program, values, function_runs_in=runs_in)
    outcomes = {t.params["--what"]: (t.status, last_line(t.error)) for t in result.trials}
    assert outcomes == {
        "ok": (Status.OK, ""),
        "exit": (Status.FAILED, "SystemExit: 3"),
        "ok after exit": (Status.OK, ""),  # not handed the worker that SystemExit ended
        "interrupt": (Status.FAILED, "KeyboardInterrupt"),
        "ok after interrupt": (Status.OK, ""),
    }
    assert_journal_is_the_result(result)


def overrun(params: dict[str, Any]) -> float:
    """Writes its process id, then runs far past any eval_timeout."""
    Path(params["--pidfile"]).write_text(str(os.getpid()))
    time.sleep(600)
    return 0.0


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


async def test_a_function_overrunning_eval_timeout_in_a_process_is_killed_with_it(
    tmp_path: Path,
) -> None:
    pidfile = tmp_path / "pid"
    evaluator = hyperdeme.Evaluator(
        overrun, run_path=str(tmp_path / "run"), eval_timeout=2, function_runs_in="process"
    )  # long enough for a new worker process to start and import this module
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=1, name="exp")
    result = await hyperdeme.optimize(opt, Params([["--pidfile", str(pidfile), [str(pidfile)]]]))
    [trial] = result.trials
    assert trial.status is Status.TIMEOUT
    assert_journal_is_the_result(result)
    pid = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while not gone(pid):  # the run killed it before returning; the kernel may lag a little
        assert time.monotonic() < deadline, f"the worker process {pid} outlived its trial"
        await anyio.sleep(0.01)


async def test_a_function_overrunning_eval_timeout_in_a_thread_does_not_hold_the_run(
    tmp_path: Path,
) -> None:
    """A thread cannot be killed: it is abandoned, and the run ends without waiting."""
    release, finished = threading.Event(), threading.Event()

    def stuck(params: dict[str, Any]) -> float:
        release.wait(60)
        finished.set()
        return 0.0

    evaluator = hyperdeme.Evaluator(stuck, run_path=str(tmp_path / "run"), eval_timeout=0.2)
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=2, name="exp")
    try:
        result = await hyperdeme.optimize(opt, SPACE)
        assert not finished.is_set()  # the run ended while its functions still ran
        assert [t.status for t in result.trials] == [Status.TIMEOUT, Status.TIMEOUT]
        assert_journal_is_the_result(result)
    finally:
        release.set()
    assert finished.wait(10)
