"""Starting a program and waiting for it without a thread: pidfds, on asyncio and trio alike.

:func:`anyio.open_process` on asyncio (Python 3.11) waits for every child with a
thread of its own (asyncio's ``ThreadedChildWatcher``) and reads its output
through asyncio transports; measured on two cores, starting and reaping 400
trivial programs 8 at a time cost 0.78 ms each that way and 0.52 ms with what
this module does (trio: 0.63-0.78 against 0.51), the ``xargs -P8`` floor
being 0.49 ms. So on Linux a program is started by :class:`subprocess.Popen`
(``vfork``, ``close_range``) on two plain non-blocking pipes (or, for a stream
the program writes to its log file itself, that file: :mod:`._direct`), and the event
loop waits for its pidfd (``pidfd_open``, Linux 5.3) to become readable, which
it does when the program ends, and for the pipes, with
:func:`anyio.wait_readable`: no thread, no transport. Where pidfds are missing
(another OS, an old kernel, a seccomp filter) :func:`start` returns
:func:`anyio.open_process`'s process instead; both have what
:mod:`._process` uses (``pid``, ``returncode``, ``wait()``, ``stdout``, ``stderr``).

The start itself (``fork``/``exec`` and the wait for the program's ``exec`` to
succeed) runs in a worker thread, never on the event loop's: on a loaded machine
it takes milliseconds, and on the loop's thread each was a stall of everything
else in the application's loop (issue 26: a 1 ms ticker's p99 was 8-12 ms while 8
slots of trivial programs ran, against 0.2-0.7 ms idle). The threads come from
a :class:`~anyio.CapacityLimiter` of this module's (:data:`SPAWNERS` at once, per
event loop), never from anyio's default limiter, which the application's own
``to_thread`` calls share. Only the start (and, with ``prepare``, making the
trial's cgroup first): the waiting stays on the loop.

A program with no pipe at all (both streams written to its log files) is not started
here but by the loop's process service (:mod:`._service`): one hand-off a trial.

Written by hand because no library offers it: anyio, asyncio and trio each
wrap child processes in their own heavier machinery.
"""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

import anyio
import anyio.to_thread
from anyio.abc import ByteReceiveStream
from anyio.lowlevel import RunVar

__all__ = ["SPAWNERS", "Child", "Prepare", "pidfds", "start"]

#: what the starting thread does first with the command and environment (make the
#: trial's cgroup, see :mod:`._contain`), returning the ones to start
Prepare = Callable[
    [Sequence[str], Mapping[str, str] | None], tuple[Sequence[str], Mapping[str, str] | None]
]

#: programs started at once, each in a worker thread (per event loop); two keep both
#: cores of a small machine busy forking while the loop waits on neither
SPAWNERS = 2

_LIMITER: RunVar[anyio.CapacityLimiter] = RunVar("hyperdeme_spawners")

#: whether pidfd_open works here: None until the first start asks, then True or False
#: (False: every start goes straight to anyio)
_PIDFD: bool | None = None if hasattr(os, "pidfd_open") else False


class Child(Protocol):
    """What :mod:`._process` needs of a started program."""

    @property
    def pid(self) -> int: ...

    @property
    def returncode(self) -> int | None: ...

    @property
    def stdout(self) -> ByteReceiveStream | None: ...

    @property
    def stderr(self) -> ByteReceiveStream | None: ...

    async def wait(self) -> int: ...


async def start(
    argv: Sequence[str],
    *,
    cwd: Path | str | None,
    env: Mapping[str, str] | None,
    prepare: Prepare | None = None,
    stdout: int | None = None,
    stderr: int | None = None,
) -> Child:
    """Start ``argv`` in a new session, stdin from /dev/null, stdout and stderr piped,
    or written by the program straight to the descriptor given for them (then the
    child's stream is None: see :mod:`._direct`).

    Raises what starting it raises (``FileNotFoundError``, ``OSError`` E2BIG or
    EMFILE ...), with nothing left open. The start runs in a worker thread; a
    cancellation waits for it to finish (the caller then stops the program).
    """
    if pidfds():
        started = functools.partial(
            _started, argv, cwd=cwd, env=env, prepare=prepare, outputs=(stdout, stderr)
        )
        return await anyio.to_thread.run_sync(started, limiter=_spawners())
    if prepare is not None:
        argv, env = await anyio.to_thread.run_sync(prepare, argv, env, limiter=_spawners())
    return await anyio.open_process(
        list(argv),
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE if stdout is None else stdout,
        stderr=subprocess.PIPE if stderr is None else stderr,
        start_new_session=True,
    )


def _started(
    argv: Sequence[str],
    *,
    cwd: Path | str | None,
    env: Mapping[str, str] | None,
    prepare: Prepare | None,
    outputs: tuple[int | None, int | None],
) -> _PidfdChild:
    """In a starting thread: prepare, then start."""
    if prepare is not None:
        argv, env = prepare(argv, env)
    return _PidfdChild(argv, cwd=cwd, env=env, outputs=outputs)


class _PidfdChild:
    """A started program whose end the event loop sees on its pidfd."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | str | None,
        env: Mapping[str, str] | None,
        outputs: tuple[int | None, int | None] = (None, None),
    ) -> None:
        fds: list[int] = []  # the pipes made here: (read end, write end) or (-1, given fd)
        try:
            ends: list[tuple[int, int]] = []
            for given in outputs:
                if given is None:
                    read, write = os.pipe2(os.O_CLOEXEC)
                    fds += (read, write)
                    ends.append((read, write))
                else:
                    ends.append((-1, given))
            (out_r, out_w), (err_r, err_w) = ends
            popen = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out_w,
                stderr=err_w,
                start_new_session=True,
            )
        except BaseException:
            for fd in fds:
                os.close(fd)
            raise
        for read, write in ends:
            if read >= 0:
                os.close(write)
        self._popen = popen
        try:
            # cannot fail for a child not yet reaped, short of EMFILE: then kill and reap it
            self._pidfd = os.pidfd_open(popen.pid)
        except BaseException:
            popen.kill()
            popen.wait()
            for read, _ in ends:
                if read >= 0:
                    os.close(read)
            raise
        self.stdout: ByteReceiveStream | None = _PipeStream(out_r) if out_r >= 0 else None
        self.stderr: ByteReceiveStream | None = _PipeStream(err_r) if err_r >= 0 else None

    @property
    def pid(self) -> int:
        return self._popen.pid

    @property
    def returncode(self) -> int | None:
        return self._popen.returncode

    async def wait(self) -> int:
        """The exit code once the program ended (negative: the signal that ended it)."""
        while self._popen.returncode is None:
            await anyio.wait_readable(self._pidfd)
            self._popen.poll()  # reaps it: waitpid(WNOHANG) on the ended child
        if self._pidfd >= 0:
            os.close(self._pidfd)
            self._pidfd = -1
        return self._popen.returncode

    def __del__(self) -> None:
        if getattr(self, "_pidfd", -1) >= 0:
            os.close(self._pidfd)


def pidfds() -> bool:
    """Whether programs can be waited for on pidfds here (asked once)."""
    global _PIDFD
    if _PIDFD is None:
        _PIDFD = _pidfd_works()
    return _PIDFD


def _spawners() -> anyio.CapacityLimiter:
    """This event loop's limiter of starting threads (made by the first start in it)."""
    try:
        return _LIMITER.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(SPAWNERS)
        _LIMITER.set(limiter)
        return limiter


def _pidfd_works() -> bool:
    """Whether pidfd_open is allowed here (not an old kernel, no seccomp filter), asked of
    this process (it always exists)."""
    try:
        fd = os.pidfd_open(os.getpid())
    except OSError:
        return False
    os.close(fd)
    return True


class _PipeStream(ByteReceiveStream):
    """The read end of a pipe, non-blocking, read when the event loop says it is ready."""

    def __init__(self, fd: int) -> None:
        os.set_blocking(fd, False)
        self._fd = fd

    async def receive(self, max_bytes: int = 65536) -> bytes:
        while True:
            if self._fd < 0:
                raise anyio.ClosedResourceError
            try:
                data = os.read(self._fd, max_bytes)
            except BlockingIOError:
                await anyio.wait_readable(self._fd)
                continue
            if not data:
                raise anyio.EndOfStream
            return data

    async def aclose(self) -> None:
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            with contextlib.suppress(OSError):
                os.close(fd)

    def __del__(self) -> None:
        if getattr(self, "_fd", -1) >= 0:
            os.close(self._fd)
