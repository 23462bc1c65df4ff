"""The process service: one thread per event loop that starts programs and waits for them.

A program whose output goes straight to its log files (:mod:`._direct`: nothing for
the loop to pump) needs two things of the driver: to be started (``fork``/``exec``,
milliseconds on a loaded machine, never on the loop's thread: issue 26) and to be
told when it ended. Done with anyio, each is a hand-off between threads: a worker
thread's start (a queue, a condition, a future, a wake-up of the loop), then the
loop's own wait on the program's pidfd (a registration, a wake-up, a removal).
Here, one thread does both for every program of the loop: the loop hands a trial
over (:meth:`Service.submit`: a queue and an eventfd write, no await) and awaits its
end; the thread starts it (``Popen`` with the log files as stdout/stderr, the
trial's cgroup or mark prepared first), takes its pidfd, tells the watchdog to hold
its group, and waits for the ends of all its programs together (``select.epoll``
on their pidfds and the eventfd, never ``waitpid(-1)``: an embedding application's
own children are not reaped); the ends seen in one pass reach the loop in one
wake-up (``call_soon_threadsafe`` on asyncio, the trio token's ``run_sync_soon``).
So a trial costs the loop one wake-up, shared with the trials that ended with it.

A cancelled trial that has not started yet is never started; one that has is
stopped by the loop (SIGTERM to its group, the grace, SIGKILL: :mod:`._process`),
its end told the same way. A run's service is its containment's, and ends with
the run (:meth:`Service.close`); without a run (``run_process`` called alone), the
loop's ends when it has had nothing to do for :data:`IDLE` seconds (the next
submission starts another). Either way a finished run or a closed loop leaves no
thread behind.

Written by hand: no library starts processes in a thread and reports their ends
to anyio, asyncio and trio alike (trio, asyncio and anyio each keep their own
child machinery on the loop's thread, or a thread per child).
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
from anyio.lowlevel import RunVar

if TYPE_CHECKING:
    from ._contain import Cell, Containment
    from ._spawn import Prepare
    from ._watchdog import Watchdog

__all__ = ["IDLE", "Service", "Ticket", "service"]

#: seconds the service thread waits with nothing to do before it ends
IDLE = 0.5

_SERVICE: RunVar[Service] = RunVar("hyperdeme_process_service")


class Ticket:
    """One program handed to the service: what to start, then what became of it."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | str | None,
        env: Mapping[str, str] | None,
        prepare: Prepare | None,
        outputs: tuple[int, int],
        cell: Cell | None,
        watchdog: Watchdog | None,
    ) -> None:
        self.argv = argv
        self.cwd = cwd
        self.env = env
        self.prepare = prepare
        self.outputs = outputs
        self.cell = cell
        self.watchdog = watchdog
        #: set (on the loop's thread) once the program ended, or could not start
        self.done = anyio.Event()
        self.pid: int | None = None
        self.returncode: int | None = None
        self.error: BaseException | None = None
        self.held: int | None = None
        self.cancelled = False
        #: held by the service while it decides to start, and by :meth:`cancel`
        self.lock = threading.Lock()

    def cancel(self) -> bool:
        """Do not start it, if it has not started yet: whether it never will."""
        with self.lock:
            self.cancelled = True
            return self.pid is None

    async def wait(self) -> int:
        """Its exit code once it ended (negative: the signal that ended it)."""
        await self.done.wait()
        assert self.returncode is not None
        return self.returncode


class Service:
    """Starts the programs handed to it and tells the loop of their ends (see the module
    docstring). Made on the loop's thread by :func:`service`."""

    def __init__(self, deliver: Callable[[Callable[[], None]], object]) -> None:
        self._deliver = deliver  # runs a callable on the loop's thread, soon
        self._queue: list[Ticket] = []
        self._lock = threading.Lock()
        self._wake = -1  # the thread's eventfd, while it runs
        self._thread: threading.Thread | None = None
        self._closing = False
        #: hand-offs to the loop so far (one per epoll pass that saw ends: batches)
        self.deliveries = 0

    def submit(self, ticket: Ticket) -> None:
        """Start ``ticket`` soon; its ``done`` is set once it ended. Never blocks; raises
        OSError (EMFILE) when not even the service's eventfd can be made."""
        with self._lock:
            if self._thread is None:
                self._wake = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
                self._thread = threading.Thread(
                    target=self._run, name="hyperdeme-process-service", daemon=True
                )
                self._thread.start()
            self._queue.append(ticket)
            os.eventfd_write(self._wake, 1)

    def _run(self) -> None:
        running: dict[int, tuple[Ticket, subprocess.Popen[bytes]]] = {}
        try:
            with select.epoll() as poll:
                poll.register(self._wake, select.EPOLLIN)
                while self._pass(poll, running):
                    pass
        except BaseException as error:  # a bug, or no memory: no trial may wait forever
            with self._lock:
                queued, self._queue = self._queue, []
            lost = queued + [ticket for ticket, _ in running.values()]
            for ticket in lost:
                ticket.error, ticket.returncode = error, -1
            self._hand_over(lost)
            with self._lock:
                self._stop_thread()
            raise

    def _pass(
        self, poll: select.epoll, running: dict[int, tuple[Ticket, subprocess.Popen[bytes]]]
    ) -> bool:
        """One epoll pass: start what was handed over, reap what ended, tell the loop of
        both in one wake-up; False once idle (the thread ends)."""
        events = poll.poll(IDLE)
        ended: list[Ticket] = []
        for fd, _ in events:
            if fd == self._wake:
                with contextlib.suppress(BlockingIOError):
                    os.eventfd_read(self._wake)
                with self._lock:
                    queued, self._queue = self._queue, []
                for ticket in queued:
                    started = _start(ticket)
                    if started is None:
                        ended.append(ticket)
                    else:
                        running[started[0]] = (ticket, started[1])
                        poll.register(started[0], select.EPOLLIN)
            elif fd in running:
                ticket, popen = running.pop(fd)
                poll.unregister(fd)
                os.close(fd)
                ticket.returncode = popen.wait()  # it ended: reaped at once, by its pid
                ended.append(ticket)
        self._hand_over(ended)
        if running:
            return True
        with self._lock:
            if self._queue or (events and not self._closing):
                return True
            self._stop_thread()
            return False

    def close(self) -> None:
        """The run is over: the thread ends as soon as nothing it started is running
        (waited for, up to 10 s: a run awaits every program's end before it closes)."""
        with self._lock:
            self._closing = True
            thread = self._thread
            if thread is not None:
                os.eventfd_write(self._wake, 1)
        if thread is not None:
            thread.join(timeout=10.0)

    def _stop_thread(self) -> None:
        """The thread is ending (the lock held): the next submission starts another."""
        self._thread = None
        if self._wake >= 0:
            os.close(self._wake)
            self._wake = -1

    def _hand_over(self, ended: list[Ticket]) -> None:
        if not ended:
            return
        self.deliveries += 1
        # the loop is gone (closed while a trial ran): nobody waits for these any more
        with contextlib.suppress(Exception):
            self._deliver(_setter(ended))


def _setter(tickets: list[Ticket]) -> Callable[[], None]:
    def done() -> None:
        for ticket in tickets:
            ticket.done.set()

    return done


def _start(ticket: Ticket) -> tuple[int, subprocess.Popen[bytes]] | None:
    """In the service thread: start ``ticket``'s program; its pidfd and Popen, or None
    when it was cancelled first or could not start (``ticket.error``)."""
    with ticket.lock:
        if ticket.cancelled:
            ticket.returncode = -15  # never started: as if stopped at once
            return None
        try:
            argv, env = ticket.argv, ticket.env
            if ticket.prepare is not None:
                argv, env = ticket.prepare(argv, env)
            popen = subprocess.Popen(
                list(argv),
                cwd=ticket.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=ticket.outputs[0],
                stderr=ticket.outputs[1],
                start_new_session=True,
            )
        except BaseException as error:
            ticket.error = error
            ticket.returncode = -1
            return None
        try:
            # cannot fail for a child not yet reaped, short of EMFILE: then kill and reap it
            pidfd = os.pidfd_open(popen.pid)
        except BaseException as error:
            popen.kill()
            popen.wait()
            ticket.error = error
            ticket.returncode = -1
            return None
        ticket.pid = popen.pid
        # under the lock: a cancel sees the group held, and lets it go once stopped
        if ticket.cell is not None:
            ticket.cell.started(popen.pid)
        if ticket.watchdog is not None:
            ticket.held = ticket.watchdog.hold_group(popen.pid)
    return pidfd, popen


def service(containment: Containment | None = None) -> Service:
    """The run's process service (``containment``'s, ended by its close), or without a
    run this event loop's (ending once idle); made by the first program that needs it."""
    if containment is not None:
        if isinstance(containment.service, Service):
            return containment.service
        made = _made()
        containment.service = made
        return made
    try:
        return _SERVICE.get()
    except LookupError:
        made = _made()
        _SERVICE.set(made)
        return made


def _made() -> Service:
    import sniffio

    if sniffio.current_async_library() == "trio":
        import trio

        token = trio.lowlevel.current_trio_token()
        made = Service(token.run_sync_soon)
    else:
        import asyncio

        loop = asyncio.get_running_loop()
        made = Service(lambda callback: loop.call_soon_threadsafe(callback))
    return made
