"""The process service (hyperdeme.launchers._service): one hand-off per trial, ends told in
batches, cancellation before and after the start. Real processes throughout."""

from __future__ import annotations

import os
import select
import shlex
import threading
from pathlib import Path

import anyio
import anyio.to_thread
import pytest

from hyperdeme._engine._sinks import LogSink
from hyperdeme.launchers import _service, run_process
from hyperdeme.launchers._contain import Containment
from hyperdeme.launchers._service import Service, Ticket

pytestmark = pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="no pidfds here")


def sinks(tmp_path: Path, name: str) -> tuple[LogSink, LogSink]:
    """A trial's two log files, as the engine opens them (both written directly)."""
    return LogSink(tmp_path / f"{name}.out"), LogSink(tmp_path / f"{name}.err")


def ticket(argv: list[str]) -> Ticket:
    return Ticket(argv, cwd=None, env=None, prepare=None, outputs=(1, 2), cell=None, watchdog=None)


async def test_a_trial_costs_one_hand_off_and_no_worker_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twenty programs whose logs are files: none goes through anyio's worker threads
    (the start was one such hop), each costs the loop at most one wake-up, and the
    FoM is read back from the file."""
    hops: list[object] = []
    real = anyio.to_thread.run_sync

    async def spy(function: object, *args: object, **kwargs: object) -> object:
        hops.append(function)
        return await real(function, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(anyio.to_thread, "run_sync", spy)
    deliveries = 0
    for i in range(20):
        out, err = sinks(tmp_path, str(i))
        with out, err:
            code = await run_process(["/bin/sh", "-c", "echo 'FoM: 1'"], stdout=out, stderr=err)
        assert (code, out.tail) == (0, "FoM: 1")
        now = _service.service().deliveries
        assert now - deliveries == 1  # this trial's end, in one wake-up
        deliveries = now
    assert hops == []


async def test_ends_seen_in_one_pass_reach_the_loop_in_one_wake_up() -> None:
    """Five programs that ended before the service looked: one delivery for all five,
    each reaped by its own pid."""
    calls: list[object] = []
    service = Service(calls.append)
    service._wake = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
    tickets = [ticket(["/bin/true"]) for _ in range(5)]
    running: dict[int, tuple[Ticket, object]] = {}
    try:
        with select.epoll() as poll:
            poll.register(service._wake, select.EPOLLIN)
            service._queue.extend(tickets)  # as submit does, with no thread of its own
            os.eventfd_write(service._wake, 1)
            assert service._pass(poll, running)  # type: ignore[arg-type]
            assert calls == []
            assert len(running) == 5
            with anyio.fail_after(10):
                while not all(zombie(t.pid) for t in tickets):  # noqa: ASYNC110
                    await anyio.sleep(0.01)
            assert service._pass(poll, running)  # type: ignore[arg-type]
    finally:
        os.close(service._wake)
    assert len(calls) == 1
    assert service.deliveries == 1
    assert running == {}
    assert not any(t.done.is_set() for t in tickets)  # told on the loop, by the delivery
    calls[0]()  # type: ignore[operator]
    assert all(t.done.is_set() and t.returncode == 0 for t in tickets)


def zombie(pid: int | None) -> bool:
    assert pid is not None
    with open(f"/proc/{pid}/stat", "rb") as f:
        return f.read().rsplit(b")", 1)[1].split()[0] == b"Z"


async def test_a_trial_cancelled_before_its_start_is_never_started(tmp_path: Path) -> None:
    flag = tmp_path / "started"
    one = ticket(["/bin/sh", "-c", f"touch {shlex.quote(str(flag))}"])
    assert one.cancel()  # not started yet: it never will be
    _service.service().submit(one)
    with anyio.fail_after(10):
        assert await one.wait() == -15
    assert one.pid is None
    assert one.held is None
    assert not flag.exists()


async def test_a_program_that_cannot_start_raises_and_leaves_nothing_open(tmp_path: Path) -> None:
    await idle()  # an earlier test's service
    before = set(os.listdir("/proc/self/fd"))
    for i in range(5):
        out, err = sinks(tmp_path, str(i))
        with out, err, pytest.raises(FileNotFoundError):
            await run_process([str(tmp_path / "no-such-program")], stdout=out, stderr=err)
    await idle()
    assert set(os.listdir("/proc/self/fd")) == before


async def test_the_thread_ends_once_idle_and_a_new_one_serves_the_next(tmp_path: Path) -> None:
    out, err = sinks(tmp_path, "a")
    with out, err:
        assert await run_process(["/bin/true"], stdout=out, stderr=err) == 0
    await idle()
    out, err = sinks(tmp_path, "b")
    with out, err:
        assert await run_process(["/bin/sh", "-c", "exit 4"], stdout=out, stderr=err) == 4


async def idle() -> None:
    with anyio.fail_after(10):
        while any(t.name == "hyperdeme-process-service" for t in threading.enumerate()):  # noqa: ASYNC110
            await anyio.sleep(0.05)


async def test_a_run_s_service_is_its_containment_s_and_ends_with_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No thread outlives its run: the containment's close ends the run's service at
    once (not after the idle wait, made long here)."""
    monkeypatch.setattr(_service, "IDLE", 60.0)
    containment = Containment(token="s" * 32)
    try:
        run = _service.service(containment)
        assert _service.service(containment) is run
        assert run is not _service.service()  # not the loop's own
        one = ticket(["/bin/true"])
        run.submit(one)
        with anyio.fail_after(10):
            assert await one.wait() == 0
        thread = run._thread
        assert thread is not None  # idle, waiting for more
    finally:
        containment.close(grace=0.0)
    assert not thread.is_alive()
    assert run._wake == -1  # its eventfd closed
