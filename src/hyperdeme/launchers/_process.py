"""The one helper that runs an external command for a launcher.

Output is pumped chunk by chunk into the engine's sinks (memory stays flat
whatever the program prints), or, when a sink is a file nobody needs to read
while the program runs, written by the program straight into it and read back
once it ended (:mod:`._direct`; such a program is started and waited for by the
loop's process service, :mod:`._service`). The program runs in a new session, so it and
everything it spawns share one process group, which is what gets signalled:

* normal exit: leftovers still in the group (backgrounded grandchildren) are
  killed, so an evaluation never leaves orphans behind;
* cancellation (timeout, run stopped): an optional launcher-specific
  ``stop`` (``scancel`` a step ...) runs first, then SIGTERM to the group,
  ``grace`` seconds, SIGKILL; all shielded and bounded, then the
  cancellation is re-raised. The start itself is shielded, so a process is
  never left running by a cancellation that arrives while it starts;
* the driver dying: the run's watchdog (:mod:`._watchdog`) holds every group
  started here while it runs, and stops them if the driver vanishes;
* whatever ends the program, what it started and left (a ``setsid`` daemon,
  a double-forked child) is stopped before this returns: all that is left in
  its cgroup, or carrying its mark (:mod:`._contain`), gets SIGTERM, ``grace``
  seconds, SIGKILL.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from .._core._logging import get_logger
from ._base import OutputSink
from ._direct import catch_up, direct_fd
from ._watchdog import current as current_watchdog

if TYPE_CHECKING:
    from anyio.abc import ByteReceiveStream

    from ._contain import Cell
    from ._service import Ticket
    from ._spawn import Child, Prepare
    from ._watchdog import Watchdog

__all__ = ["DEFAULT_GRACE", "run_process"]

log = get_logger("hyperdeme.launchers")

DEFAULT_GRACE = 5.0
_CHUNK = 1 << 16
#: how long output may still arrive after the process group is dead
_DRAIN = 2.0


async def run_process(
    argv: Sequence[str],
    *,
    stdout: OutputSink,
    stderr: OutputSink,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    stop: Callable[[], Awaitable[None]] | None = None,
    grace: float = DEFAULT_GRACE,
) -> int:
    """Run ``argv`` to completion, streaming its output; return its exit code.

    Negative exit codes mean "killed by that signal", as in ``subprocess``.
    """
    watchdog = current_watchdog()
    cell = None
    prepare = None
    if watchdog is not None:
        # the run's mark: should the driver die before the group is held below (or
        # should its handle be lost), the watchdog still finds the process by it;
        # and the trial's cgroup (or mark), where what it leaves is found: made in
        # the starting thread, off the event loop (a cgroup's mkdir takes ms)
        cell = watchdog.containment.cell(make=False)
        prepare = _preparer(cell, watchdog.mark)
    # _spawn (anyio's stream classes) is imported by the first process, not by
    # `import hyperdeme`; later calls find it in sys.modules (under a microsecond)
    from ._spawn import pidfds, start

    outputs = direct_fd(stdout), direct_fd(stderr)
    if outputs[0] is not None and outputs[1] is not None and pidfds():
        # nothing to pump: the process service starts it and waits for it
        return await _served(
            argv,
            cwd=cwd,
            env=env,
            prepare=prepare,
            outputs=(outputs[0], outputs[1]),
            sinks=(stdout, stderr),
            cell=cell,
            watchdog=watchdog,
            stop=stop,
            grace=grace,
        )
    # Started shielded: a cancellation arriving while the process starts waits for it,
    # then the clean-up below stops its whole group (never a program left running).
    with anyio.CancelScope(shield=True):
        try:
            process = await start(
                argv, cwd=cwd, env=env, prepare=prepare, stdout=outputs[0], stderr=outputs[1]
            )
        except BaseException:
            if cell is not None:
                await cell.empty(grace=grace)  # its cgroup removed
            raise
    if cell is not None:
        cell.started(process.pid)
    held = watchdog.hold_group(process.pid) if watchdog is not None else None
    try:
        return await _follow(
            process, stdout=stdout, stderr=stderr, stop=stop, grace=grace, cell=cell
        )
    except BaseException:
        # whatever escaped _follow (a KeyboardInterrupt delivered between its lines,
        # on trio): the group goes before the watchdog lets go of it
        with anyio.CancelScope(shield=True):
            await _terminate(process, stop, grace)
        raise
    finally:
        if cell is not None:
            with anyio.CancelScope(shield=True):
                await cell.empty(grace=grace)
        if watchdog is not None and held is not None:
            watchdog.release(held)


async def _served(
    argv: Sequence[str],
    *,
    cwd: Path | str | None,
    env: Mapping[str, str] | None,
    prepare: Prepare | None,
    outputs: tuple[int, int],
    sinks: tuple[OutputSink, OutputSink],
    cell: Cell | None,
    watchdog: Watchdog | None,
    stop: Callable[[], Awaitable[None]] | None,
    grace: float,
) -> int:
    """Run ``argv`` through this loop's process service (:mod:`._service`): handed over,
    its end awaited; cancelled, it is never started, or its group is stopped."""
    from ._service import Ticket, service

    ticket = Ticket(
        argv, cwd=cwd, env=env, prepare=prepare, outputs=outputs, cell=cell, watchdog=watchdog
    )
    ended = False
    try:
        try:
            service(watchdog.containment if watchdog is not None else None).submit(ticket)
            returncode = await ticket.wait()
        except BaseException:
            with anyio.CancelScope(shield=True):
                if not ticket.cancel():  # started: stopped, as a pumped one is
                    await _terminate(_TicketChild(ticket), stop, grace)
            raise
        if ticket.error is not None:
            raise ticket.error
        # the program is done; anything it left in its group goes (see _follow)
        assert ticket.pid is not None  # neither cancelled nor failed: it ran
        _signal_group(ticket.pid, signal.SIGKILL)
        ended = True
    finally:
        with anyio.CancelScope(shield=True):
            if cell is not None:
                await cell.empty(grace=grace)
            # a stopped program's metric is still wanted: read back, as a pipe's drain
            with anyio.move_on_after(math.inf if ended else _DRAIN):
                for sink in sinks if ticket.pid is not None else ():
                    await catch_up(sink)
        if watchdog is not None and ticket.held is not None:
            watchdog.release(ticket.held)
    return returncode


class _TicketChild:
    """A started ticket as :func:`_terminate` sees a process."""

    def __init__(self, ticket: Ticket) -> None:
        assert ticket.pid is not None  # started (never a killpg(0) of the driver's own)
        self._ticket = ticket
        self.pid = ticket.pid
        self.stdout: ByteReceiveStream | None = None
        self.stderr: ByteReceiveStream | None = None

    @property
    def returncode(self) -> int | None:
        return self._ticket.returncode if self._ticket.done.is_set() else None

    async def wait(self) -> int:
        return await self._ticket.wait()


def _preparer(cell: Cell, mark: Mapping[str, str]) -> Prepare:
    """What the starting thread does first: make the trial's cell, put the program in it."""

    def prepare(
        argv: Sequence[str], env: Mapping[str, str] | None
    ) -> tuple[Sequence[str], Mapping[str, str] | None]:
        cell.make()
        return cell.argv(argv), cell.env({**(os.environ if env is None else env), **mark})

    return prepare


async def _follow(
    process: Child,
    *,
    stdout: OutputSink,
    stderr: OutputSink,
    stop: Callable[[], Awaitable[None]] | None,
    grace: float,
    cell: Cell | None = None,
) -> int:
    """Stream the output of a started process until it ends; stop its group if cancelled.

    What it left in its cell is stopped before the pipes are drained: a daemon out
    of the group holds them open. A stream the program wrote to its sink's file
    itself (no pipe) is read back from the file then.
    """
    # The pumps are shielded: while the program is being stopped they keep
    # reading, so what it prints on its way out (srun's "forcing job
    # termination", pbsdsh's "killing task") is logged and never meets a
    # broken pipe. They end at end of file, or after a short drain once the
    # whole group is dead (a setsid'd grandchild could hold a pipe forever).
    pumps = [
        _Pump(stream, sink)
        for stream, sink in ((process.stdout, stdout), (process.stderr, stderr))
        if stream is not None
    ]
    direct = [
        sink
        for stream, sink in ((process.stdout, stdout), (process.stderr, stderr))
        if stream is None
    ]
    ended = False
    async with anyio.create_task_group() as tg:
        for pump in pumps:
            tg.start_soon(pump.run)
        try:
            returncode = await process.wait()
            # The program is done; anything it left in its group would hold the
            # pipes open (and outlive the evaluation): kill it.
            _signal_group(process.pid, signal.SIGKILL)
            if cell is not None:
                with anyio.CancelScope(shield=True):
                    await cell.empty(grace=grace)
            ended = True
        except BaseException:
            with anyio.CancelScope(shield=True):
                await _terminate(process, stop, grace)
                if cell is not None:
                    await cell.empty(grace=grace)
            raise
        finally:
            with anyio.CancelScope(shield=True), anyio.move_on_after(_DRAIN):
                for pump in pumps:
                    await pump.done.wait()
            for pump in pumps:
                pump.scope.cancel()
            # the whole group is dead: nothing writes to the files any more. Read all
            # of them back when the program ended, at most as long as a pipe's drain
            # when it was stopped (its metric is still wanted: a timeout keeps it)
            with anyio.CancelScope(shield=True), anyio.move_on_after(math.inf if ended else _DRAIN):
                for sink in direct:
                    await catch_up(sink)
    return returncode


class _Pump:
    """Copies one output stream into a sink, chunk by chunk, until end of file."""

    def __init__(self, stream: ByteReceiveStream, sink: OutputSink) -> None:
        self.stream = stream
        self.sink = sink
        self.scope = anyio.CancelScope(shield=True)
        self.done = anyio.Event()

    async def run(self) -> None:
        with self.scope:
            async with self.stream:
                while True:
                    try:
                        chunk = await self.stream.receive(_CHUNK)
                    except (
                        anyio.EndOfStream,
                        anyio.ClosedResourceError,
                        anyio.BrokenResourceError,
                    ):
                        break
                    self.sink.write(chunk)
        self.done.set()


async def _terminate(
    process: Child, stop: Callable[[], Awaitable[None]] | None, grace: float
) -> None:
    """Stop the program and its whole process group; never raises."""
    if stop is not None and process.returncode is None:
        with anyio.move_on_after(grace + 5.0):
            try:
                await stop()
            except Exception as exc:  # a failed scancel must not hide the kill below
                log.warning("launcher.stop_failed", error=str(exc), pid=process.pid)
    _signal_group(process.pid, signal.SIGTERM)
    with anyio.move_on_after(grace):
        await process.wait()
    _signal_group(process.pid, signal.SIGKILL)
    with anyio.move_on_after(5.0):
        await process.wait()


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
