"""Starting programs without a thread each (pidfds), and the fallback where pidfds are missing.

Real processes throughout; the fallback is forced by making ``os.pidfd_open``
fail the way a kernel without it (ENOSYS) or a seccomp filter (EPERM) makes it fail.
"""

from __future__ import annotations

import errno
import os
import shlex
import signal
import subprocess
import sys
import threading
from pathlib import Path

import anyio
import anyio.lowlevel
import psutil  # type: ignore[import-untyped,unused-ignore]
import pytest
from structlog.testing import capture_logs

from hyperdeme._engine._sinks import LogSink
from hyperdeme.launchers import _contain, _spawn, run_process
from hyperdeme.launchers._watchdog import Watchdog
from processes import marked, new_marker

PRINT_BOTH = "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"


@pytest.fixture
def no_pidfd(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """pidfd_open fails as on a kernel without it; the calls it got are counted."""
    calls: list[int] = []

    def refused(pid: int, flags: int = 0) -> int:
        calls.append(pid)
        raise OSError(errno.ENOSYS, "Function not implemented")

    monkeypatch.setattr(_spawn, "_PIDFD", None)
    monkeypatch.setattr(os, "pidfd_open", refused)
    return calls


async def _run(tmp_path: Path, code: str) -> tuple[int, str, str]:
    out, err = LogSink(tmp_path / "out.log"), LogSink(tmp_path / "err.log")
    with out, err:
        code_ = await run_process([sys.executable, "-c", code], stdout=out, stderr=err)
    return code_, out.tail, err.tail


@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="pidfds are Linux 5.3+")
async def test_a_program_runs_on_pidfds_with_its_output_and_exit_code(tmp_path: Path) -> None:
    child = await _spawn.start([sys.executable, "-c", PRINT_BOTH], cwd=tmp_path, env=None)
    assert type(child).__name__ == "_PidfdChild"
    assert child.stdout is not None
    assert child.stderr is not None
    assert await child.wait() == 3
    assert (await child.stdout.receive()).strip() == b"out"
    assert (await child.stderr.receive()).strip() == b"err"
    with pytest.raises(anyio.EndOfStream):
        await child.stdout.receive()
    await child.stdout.aclose()
    with pytest.raises(anyio.ClosedResourceError):
        await child.stdout.receive()
    await child.stderr.aclose()


async def test_without_pidfds_programs_run_through_anyio(
    tmp_path: Path, no_pidfd: list[int]
) -> None:
    for _ in range(3):
        assert await _run(tmp_path, PRINT_BOTH) == (3, "out", "err")
    assert len(no_pidfd) == 1  # asked once, then never again
    assert _spawn._PIDFD is False


async def test_a_signal_is_a_negative_exit_code(tmp_path: Path) -> None:
    code, _, _ = await _run(tmp_path, "import os, signal; os.kill(os.getpid(), signal.SIGTERM)")
    assert code == -signal.SIGTERM


async def test_a_program_that_cannot_start_leaves_nothing_open(tmp_path: Path) -> None:
    me = psutil.Process()
    before = me.num_fds()
    for _ in range(20):
        with pytest.raises(FileNotFoundError):
            await _spawn.start([str(tmp_path / "no-such-program")], cwd=tmp_path, env=None)
    assert me.num_fds() == before


async def idle_services() -> None:
    """Until no process service thread is left (each ends once idle: _service.IDLE)."""
    with anyio.fail_after(10):
        while any(t.name == "hyperdeme-process-service" for t in threading.enumerate()):  # noqa: ASYNC110
            await anyio.sleep(0.05)


async def test_many_programs_leave_no_descriptor_zombie_or_thread(tmp_path: Path) -> None:
    """A hundred programs, 16 at a time, each printing and sleeping a little: afterwards
    the driver has the descriptors it had, no child (zombie or not), and while 16 run
    at once it holds no thread per child (asyncio 3.11 would add one each)."""
    me = psutil.Process()
    await idle_services()  # an earlier test's process service holds its epoll until idle
    fds_before, threads_before = me.num_fds(), threading.active_count()
    peak_threads = threads_before
    limiter = anyio.CapacityLimiter(16)
    code = "import time; print('FoM: 1'); time.sleep(0.05)"

    async def one(i: int) -> None:
        nonlocal peak_threads
        async with limiter:
            out, err = LogSink(tmp_path / f"{i}.out"), LogSink(None)
            with out, err:
                assert await run_process([sys.executable, "-c", code], stdout=out, stderr=err) == 0
                peak_threads = max(peak_threads, threading.active_count())
            assert out.tail == "FoM: 1"

    async with anyio.create_task_group() as tg:
        for i in range(100):
            tg.start_soon(one, i)
    assert me.num_fds() == fds_before
    assert me.children() == []
    if hasattr(os, "pidfd_open"):
        assert peak_threads - threads_before < 4, (threads_before, peak_threads)


@pytest.mark.parametrize("through", ["pipes", "service"])
async def test_cancelling_a_wait_stops_the_group(tmp_path: Path, through: str) -> None:
    """run_process cancelled while the program runs: its whole group is gone afterwards,
    the backgrounded grandchild too; with its output pumped through pipes, and with log
    files it writes itself (started and awaited by the process service)."""
    marker = new_marker()
    sleeper = shlex.join([sys.executable, "-c", "import time; time.sleep(60)", marker])
    if through == "pipes":
        out, err = LogSink(None), LogSink(None)
    else:
        out, err = LogSink(tmp_path / "cancelled.out"), LogSink(tmp_path / "cancelled.err")
    with out, err:
        async with anyio.create_task_group() as tg:
            tg.start_soon(
                lambda: run_process(
                    ["/bin/sh", "-c", f"{sleeper} & {sleeper}; wait"],
                    stdout=out,
                    stderr=err,
                    grace=1,
                )
            )
            with anyio.fail_after(30):
                while len(marked(marker)) < 2:  # noqa: ASYNC110 - processes, not events
                    await anyio.sleep(0.02)
            tg.cancel_scope.cancel()
    # killed, they may take a moment to leave the kernel (1 s of slack, as in tests/faults)
    psutil.wait_procs(marked(marker), timeout=1)
    assert marked(marker) == []
    assert psutil.Process().children() == []


# ------------------------------------------------------- mutants killed (scripts/mutants)


def _open_fds() -> set[int]:
    return {int(name) for name in os.listdir("/proc/self/fd")}


@pytest.mark.parametrize("pidfd", [True, False])
async def test_mutants_a_program_leads_its_own_session_with_its_pid_and_returncode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pidfd: bool
) -> None:
    if not pidfd:
        monkeypatch.setattr(_spawn, "_PIDFD", False)
    elif not hasattr(os, "pidfd_open"):
        pytest.skip("pidfds are Linux 5.3+")
    code = "import os, sys; print(os.getpid(), os.getsid(0), os.getpgid(0)); sys.stdin.read()"
    child = await _spawn.start([sys.executable, "-c", code], cwd=tmp_path, env=None)
    assert child.stdout is not None
    assert child.stderr is not None
    assert child.returncode is None
    assert await child.wait() == 0  # stdin is /dev/null: read() returned at once
    assert child.returncode == 0
    output = b""
    while not output.endswith(b"\n"):
        output += await child.stdout.receive()
    pid, session, group = map(int, output.split())
    assert pid == child.pid
    assert session == group == pid  # its own session and process group: killpg reaches all
    assert session != os.getsid(0)
    await child.stdout.aclose()
    await child.stderr.aclose()


@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="pidfds are Linux 5.3+")
async def test_mutants_waiting_closes_the_pidfd_at_once(tmp_path: Path) -> None:
    before = _open_fds()
    child = await _spawn.start([sys.executable, "-c", "pass"], cwd=tmp_path, env=None)
    assert child.stdout is not None
    assert child.stderr is not None
    await child.stdout.aclose()
    await child.stderr.aclose()
    assert len(_open_fds() - before) == 1  # the pidfd, until the end is seen
    assert await child.wait() == 0
    assert _open_fds() - before == set()  # while the child object lives on


@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="pidfds are Linux 5.3+")
async def test_mutants_a_failed_pidfd_open_kills_reaps_and_closes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def emfile(pid: int, flags: int = 0) -> int:
        raise OSError(errno.EMFILE, "Too many open files")

    monkeypatch.setattr(_spawn, "_PIDFD", True)
    monkeypatch.setattr(os, "pidfd_open", emfile)
    before = _open_fds()
    children_before = {p.pid for p in psutil.Process().children()}
    with pytest.raises(OSError, match="Too many open files"):
        await _spawn.start(
            [sys.executable, "-c", "import time; time.sleep(60)"], cwd=None, env=None
        )
    assert _open_fds() == before
    assert {p.pid for p in psutil.Process().children()} == children_before  # killed and reaped


async def test_mutants_a_cancelled_program_gets_sigterm_then_sigkill(tmp_path: Path) -> None:
    """The program traps SIGTERM (says so and carries on): it hears SIGTERM first, and
    is still stopped (SIGKILL after the grace period)."""
    marker = new_marker()
    code = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, lambda *a: print('TERM', flush=True))\n"
        # one write (print() makes two: SIGTERM between "ready" and "\n" gave "readyTERM")
        "sys.stdout.write('ready\\n'); sys.stdout.flush()\n"
        "while True: time.sleep(0.01)\n"
    )
    out, err = LogSink(tmp_path / "out.log"), LogSink(tmp_path / "err.log")
    with out, err:
        async with anyio.create_task_group() as tg:
            tg.start_soon(
                lambda: run_process(
                    [sys.executable, "-c", code, marker], stdout=out, stderr=err, grace=0.5
                )
            )
            with anyio.fail_after(30):
                while "ready" not in (tmp_path / "out.log").read_text():  # noqa: ASYNC110
                    await anyio.sleep(0.02)
            tg.cancel_scope.cancel()
    psutil.wait_procs(marked(marker), timeout=1)
    assert marked(marker) == []  # stopped although it ignores SIGTERM
    assert (tmp_path / "out.log").read_text().split() == ["ready", "TERM"]


@pytest.mark.parametrize("fails", [False, True])
async def test_mutants_a_cancelled_program_is_stopped_by_its_launcher_first(
    tmp_path: Path, fails: bool
) -> None:
    """run_process's ``stop`` (scancel, qdel ...) runs once on cancellation, before the
    signals; when it fails, that is logged and the group is stopped all the same."""
    marker = new_marker()
    stops: list[str] = []

    async def stop() -> None:
        await anyio.lowlevel.checkpoint()  # a real stop awaits its command
        stops.append(marker)
        if fails:
            raise RuntimeError("scancel: connection refused")

    code = "import time; print('ready', flush=True); time.sleep(60)"
    out, err = LogSink(tmp_path / "out.log"), LogSink(tmp_path / "err.log")
    with out, err, capture_logs() as logs:
        async with anyio.create_task_group() as tg:
            tg.start_soon(
                lambda: run_process(
                    [sys.executable, "-c", code, marker],
                    stdout=out,
                    stderr=err,
                    stop=stop,
                    grace=0.5,
                )
            )
            with anyio.fail_after(30):
                while "ready" not in (tmp_path / "out.log").read_text():  # noqa: ASYNC110
                    await anyio.sleep(0.02)
            tg.cancel_scope.cancel()
    psutil.wait_procs(marked(marker), timeout=1)
    assert marked(marker) == []
    assert stops == [marker]
    failed = [e for e in logs if e["event"] == "launcher.stop_failed"]
    assert [e["error"] for e in failed] == (["scancel: connection refused"] if fails else [])


async def test_mutants_a_program_that_ended_is_not_stopped_by_its_launcher(tmp_path: Path) -> None:
    stops: list[int] = []

    async def stop() -> None:
        stops.append(1)

    out, err = LogSink(None), LogSink(None)
    with out, err:
        code = await run_process(
            [sys.executable, "-c", "pass"], stdout=out, stderr=err, stop=stop, grace=0.5
        )
    assert (code, stops) == (0, [])


@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="pidfds are Linux 5.3+")
async def test_a_program_is_started_off_the_event_loop_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fork/exec and the wait for the exec (ms on a loaded machine) never stall the
    loop (issue 26): Popen and ``prepare`` run in another thread; the wait stays here."""
    threads: dict[str, int] = {}
    real_popen = subprocess.Popen

    def popen(*args: object, **kwargs: object) -> object:
        threads["popen"] = threading.get_ident()
        return real_popen(*args, **kwargs)  # type: ignore[call-overload]

    def prepare(argv: object, env: object) -> tuple[list[str], None]:
        threads["prepare"] = threading.get_ident()
        return [sys.executable, "-c", "import sys; sys.exit(4)"], None

    monkeypatch.setattr(subprocess, "Popen", popen)
    child = await _spawn.start(["no-such-program"], cwd=tmp_path, env=None, prepare=prepare)
    assert await child.wait() == 4  # what prepare returned was started
    assert threads["popen"] == threads["prepare"] != threading.get_ident()


async def test_starting_a_program_never_waits_for_the_application_s_thread_pool(
    tmp_path: Path,
) -> None:
    """anyio's default limiter is the application's (Starlette's sync endpoints...):
    with all of it taken, programs still start (the starting threads are hyperdeme's)."""
    default = anyio.to_thread.current_default_thread_limiter()
    tokens, release = default.total_tokens, threading.Event()
    default.total_tokens = 1
    timer = threading.Timer(10.0, release.set)  # frees the pool should the start wait on it
    timer.start()
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(anyio.to_thread.run_sync, release.wait)
            await anyio.sleep(0.05)
            assert default.borrowed_tokens == 1
            assert await _run(tmp_path, PRINT_BOTH) == (3, "out", "err")
            assert not release.is_set()  # started and ended while the pool was all taken
            release.set()
    finally:
        timer.cancel()
        release.set()
        default.total_tokens = tokens


async def test_run_process_makes_the_trial_s_cell_in_the_starting_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Within a run (a watchdog), the trial's cgroup is made by the thread that starts
    the program, never on the event loop's (a cgroup's mkdir is ms on a loaded
    machine, issue 26); the program runs in it, and it is removed afterwards."""
    made: list[tuple[int, str, str]] = []
    real_make = _contain.Cell.make

    def make(cell: _contain.Cell) -> None:
        real_make(cell)
        made.append((threading.get_ident(), cell.cgroup, cell.mark))

    monkeypatch.setattr(_contain.Cell, "make", make)
    code = "print(open('/proc/self/cgroup').read().strip())"
    watchdog = Watchdog(grace=1.0)
    try:
        with watchdog.active():
            returncode, printed, _ = await _run(tmp_path, code)
    finally:
        watchdog.close()
    assert returncode == 0
    assert [thread for thread, _, _ in made] != []
    assert all(thread != threading.get_ident() for thread, _, _ in made)
    _, cgroup, mark = made[-1]
    if watchdog.containment.kind == "cgroup":
        # the program ran in the cell made off the loop
        assert printed.endswith(cgroup[len(_contain._cgroup2_mount() or "") :])
        assert not await anyio.Path(cgroup).exists()  # and it was removed
    else:
        assert len(mark) == 32
