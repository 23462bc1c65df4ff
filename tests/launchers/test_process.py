"""run_process within a run (a watchdog): what the watchdog is told, and what a program
leaves behind, seen from outside (the watchdog's record, the processes left running).

Written for scripts/mutants (the process module's mutants that its other tests let
live, see tests/mutants/results.md); each test names the promise it guards.
"""

from __future__ import annotations

import contextlib
import errno
import inspect
import json
import os
import shlex
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import anyio.lowlevel
import psutil  # type: ignore[import-untyped,unused-ignore]
import pytest

from hyperdeme import LauncherOptions
from hyperdeme._engine._sinks import LogSink
from hyperdeme.launchers import _watchdog_program as program
from hyperdeme.launchers import run_process
from hyperdeme.launchers._watchdog import WATCHDOG_FILE, Watchdog
from processes import kill_marked, marked, new_marker


@pytest.fixture
def marker() -> Iterator[str]:
    marker = new_marker()
    yield marker
    kill_marked(marker)


def _held(record: Path) -> list[dict[str, object]] | None:
    try:
        held = json.loads(record.read_text())["held"]
    except (OSError, ValueError, KeyError):
        return None
    return list(held)


def _await_record(record: Path, *, showing: list[str]) -> list[dict[str, object]]:
    """What the watchdog's record holds once it lists the clean-up command ``showing``
    (told after everything else: the record then shows all that came before)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        held = _held(record)
        if held is not None and any(entry.get("argv") == showing for entry in held):
            return held
        time.sleep(0.01)
    raise AssertionError(f"the watchdog's record never listed {showing}: {_held(record)}")


async def test_a_program_that_ended_is_no_longer_held_by_the_watchdog(tmp_path: Path) -> None:
    """Promise: a group is held only while its program runs (withdrawn when done): after
    many programs the watchdog (and its record) holds none of them, so its record does not
    grow with the run and a dying driver's watchdog signals no group that ended long ago."""
    record = tmp_path / WATCHDOG_FILE
    watchdog = Watchdog(record=record, grace=1.0)
    try:
        with watchdog.active():
            for _ in range(3):
                with LogSink(None) as out, LogSink(None) as err:
                    code = [sys.executable, "-c", "pass"]
                    assert await run_process(code, stdout=out, stderr=err) == 0
        watchdog.flush()
        sentinel = ["true", new_marker()]
        key = watchdog.hold_command(sentinel)
        held = await anyio.to_thread.run_sync(lambda: _await_record(record, showing=sentinel))
        watchdog.release(key)
    finally:
        watchdog.close()
    assert held == [{"argv": sentinel, "env": None}]  # no process group left held


DAEMON = textwrap.dedent(
    """
    import signal, sys, time
    notes = open(sys.argv[1], "a", buffering=1)
    signal.signal(signal.SIGTERM, lambda *a: notes.write("TERM\\n"))
    notes.write("ready\\n")
    while True:
        time.sleep(0.05)
    """
)


@pytest.mark.timeout(60)
async def test_a_cancellation_during_the_clean_up_of_a_left_daemon_still_stops_it(
    tmp_path: Path, marker: str
) -> None:
    """Promise: whatever ends the program, what it left (a ``setsid`` daemon, here one that
    ignores SIGTERM) is stopped before run_process returns, even when a cancellation
    arrives while that clean-up is giving the daemon its grace period."""
    notes = tmp_path / "notes"
    notes.touch()
    daemon = shlex.join(["setsid", sys.executable, "-c", DAEMON, str(notes), marker])
    # the daemon is up (its SIGTERM handler installed) before the program exits
    script = f"{daemon} >/dev/null 2>&1 </dev/null & while ! [ -s {notes} ]; do sleep 0.01; done"
    watchdog = Watchdog(grace=1.0)
    try:
        with watchdog.active(), LogSink(None) as out, LogSink(None) as err:
            async with anyio.create_task_group() as tg:
                tg.start_soon(
                    lambda: run_process(["/bin/sh", "-c", script], stdout=out, stderr=err, grace=3)
                )
                with anyio.fail_after(30):
                    while "TERM" not in notes.read_text():  # noqa: ASYNC110 - a file
                        await anyio.sleep(0.02)
                tg.cancel_scope.cancel()  # the clean-up is in the daemon's grace period
            alive = [p for p in marked(marker) if p.is_running()]
            _gone, alive = psutil.wait_procs(alive, timeout=1)
    finally:
        watchdog.close()
    assert alive == []
    assert notes.read_text().splitlines() == ["ready", "TERM"]


def test_run_process_s_default_grace_is_the_evaluator_s_default_grace_period() -> None:
    """Promise (docs/guide.md, ``grace_period``: 5 s by default, "every launcher's stop"): a
    custom launcher that calls run_process without ``grace`` stops its program (SIGTERM,
    the grace, SIGKILL) as the built-in launchers do by default."""
    default = inspect.signature(run_process).parameters["grace"].default
    assert default == LauncherOptions().grace_period == 5.0


@pytest.mark.timeout(60)
async def test_a_cancelled_program_whose_output_a_daemon_holds_open_still_returns(
    tmp_path: Path, marker: str
) -> None:
    """Promise: cancelling run_process ends within the grace and a short drain, even when a
    process out of the program's group (a ``setsid`` daemon, no run here to contain it)
    holds the program's output open: the output is not waited for forever. The output
    goes through a pipe (a sink that is no file: a log file would be written by the
    program itself, with no pipe to hold open)."""
    up = tmp_path / "up"
    code = "import sys, time; open(sys.argv[1], 'w').close(); time.sleep(60)"
    daemon = shlex.join(["setsid", sys.executable, "-c", code, str(up), marker])
    # "ready" once the daemon runs (out of the group: the group's SIGTERM spares it)
    script = f"{daemon} & while ! [ -e {up} ]; do sleep 0.01; done; echo ready; exec sleep 60"
    out = LogSink(None)
    with out, LogSink(None) as err:
        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                tg.start_soon(
                    lambda: run_process(["/bin/sh", "-c", script], stdout=out, stderr=err, grace=1)
                )
                while "ready" not in out.tail:  # noqa: ASYNC110 - a file, not an event
                    await anyio.sleep(0.02)
                tg.cancel_scope.cancel()
    assert out.tail == "ready"
    assert len(marked(marker)) == 1  # the daemon, still holding the output (killed by the fixture)


@pytest.mark.parametrize("in_a_run", [False, True])
async def test_a_program_that_cannot_start_raises_the_start_s_error_and_leaves_no_cell(
    tmp_path: Path, in_a_run: bool
) -> None:
    """Promise: run_process raises what starting the program raised (here E2BIG: one
    argument past the kernel's 128 KiB limit), and within a run the slot's cgroup, made
    before the start, holds nothing: a failed start leaves nothing behind."""
    watchdog = Watchdog(grace=1.0) if in_a_run else None
    too_long = "x" * (1 << 18)
    try:
        with contextlib.ExitStack() as stack:
            if watchdog is not None:
                stack.enter_context(watchdog.active())
            out, err = stack.enter_context(LogSink(None)), stack.enter_context(LogSink(None))
            with pytest.raises(OSError, match="Argument list too long") as caught:
                await run_process(["/bin/echo", too_long], stdout=out, stderr=err)
        assert caught.value.errno == errno.E2BIG
        if watchdog is not None and watchdog.containment.kind == "cgroup":
            # the slot's cgroup stays, empty, for the next trial of that slot
            run_cgroup = watchdog.containment.cgroup
            assert program.cgroup_pids(run_cgroup) == []
            assert len([entry for entry in os.scandir(run_cgroup) if entry.is_dir()]) <= 1
    finally:
        if watchdog is not None:
            watchdog.close()


@pytest.mark.timeout(60)
async def test_a_program_that_ended_returns_although_a_daemon_holds_its_output_open(
    tmp_path: Path, marker: str
) -> None:
    """Promise: once the program ended, run_process returns its exit code after a short
    drain, even when a process out of its group (a ``setsid`` daemon, no run here to
    contain it) holds its output open; the output printed before that is all there."""
    up = tmp_path / "up"
    code = "import sys, time; open(sys.argv[1], 'w').close(); time.sleep(60)"
    daemon = shlex.join(["setsid", sys.executable, "-c", code, str(up), marker])
    script = f"{daemon} & while ! [ -e {up} ]; do sleep 0.01; done; echo bye; exit 3"
    out = LogSink(tmp_path / "out.log")
    with out, LogSink(None) as err, anyio.fail_after(30):
        assert await run_process(["/bin/sh", "-c", script], stdout=out, stderr=err) == 3
    assert out.tail == "bye"
    assert len(marked(marker)) == 1  # the daemon, still holding the output (killed by the fixture)


TRAP_TERM = textwrap.dedent(
    """
    import signal, sys, time
    notes = open(sys.argv[1], "a", buffering=1)
    def on_term(*_):
        notes.write("TERM\\n")
        sys.stdout.write("bye\\n")  # what it prints on its way out (one write)
        sys.stdout.flush()
        sys.exit(0)

    signal.signal(signal.SIGTERM, on_term)
    sys.stdout.write("ready\\n")  # one write: a SIGTERM between two would join the lines
    sys.stdout.flush()
    while True:
        time.sleep(0.05)
    """
)


@pytest.mark.timeout(60)
async def test_a_launcher_s_stop_runs_before_the_program_is_signalled(tmp_path: Path) -> None:
    """Promise: on cancellation the launcher's own ``stop`` (``scancel`` of a step...) runs
    first, while the program still runs, and only then SIGTERM reaches the group; once.
    What the program prints on its way out is still read (srun's "forcing job
    termination"), the output being read until the program is gone."""
    notes = tmp_path / "notes"
    notes.touch()

    async def stop() -> None:
        await anyio.lowlevel.checkpoint()
        with notes.open("a") as f:
            f.write("stop\n")

    out = LogSink(tmp_path / "out.log")
    with out, LogSink(None) as err:
        async with anyio.create_task_group() as tg:
            argv = [sys.executable, "-c", TRAP_TERM, str(notes)]
            tg.start_soon(lambda: run_process(argv, stdout=out, stderr=err, stop=stop, grace=20))
            with anyio.fail_after(30):  # the program writes its log itself: read the file
                while "ready" not in (tmp_path / "out.log").read_text():  # noqa: ASYNC110
                    await anyio.sleep(0.02)
            tg.cancel_scope.cancel()
    assert notes.read_text().splitlines() == ["stop", "TERM"]
    assert (tmp_path / "out.log").read_text().splitlines() == ["ready", "bye"]


async def test_output_arriving_just_after_the_group_died_is_still_read(
    tmp_path: Path, marker: str
) -> None:
    """Promise: once the program's group is dead, output still arriving is read for a
    short drain: a ``setsid`` helper it left (no run here to contain it) that prints a
    moment after the program ended is heard, and run_process then returns."""
    up = tmp_path / "up"
    helper = f"touch {shlex.quote(str(up))}; sleep 0.2; echo late"
    late = shlex.join(["setsid", "/bin/sh", "-c", helper, marker])
    late += f" & while ! [ -e {shlex.quote(str(up))} ]; do sleep 0.01; done"  # it is out
    out = LogSink(tmp_path / "out.log")
    with out, LogSink(None) as err, anyio.fail_after(30):
        assert (
            await run_process(["/bin/sh", "-c", f"{late}; echo early"], stdout=out, stderr=err) == 0
        )
    assert (tmp_path / "out.log").read_text().splitlines() == ["early", "late"]
