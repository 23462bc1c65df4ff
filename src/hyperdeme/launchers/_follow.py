"""Following a job's output while it runs, so the engine sees each line when it is printed.

Batch systems write a job's output where hyperdeme cannot pipe it: PBS to
files, Kubernetes to container logs. Copying them only when the job ends
would hide the FoMs a program prints as it trains, and early stopping would
have nothing to decide on. :class:`FileFollower` copies what was appended to
a file since its last poll; :class:`SkipSeen` lets a command that prints a
whole log again (``kubectl logs``) deliver only what is new. Either way every
byte reaches the trial's sink once, in order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import anyio

from .._core._logging import get_logger
from ._base import OutputSink

__all__ = ["FileFollower", "SkipSeen", "while_following"]

T = TypeVar("T")

log = get_logger("hyperdeme.launchers")

_CHUNK = 1 << 16
_OUTPUT_WAIT_POLLS = 50  # x 0.1 s: output files a shared file system is slow to show


async def while_following(
    follow: Callable[[], Coroutine[Any, Any, NoReturn]], body: Callable[[], Awaitable[T]]
) -> T:
    """``await body()`` with ``follow()`` running beside it until ``body`` ends.

    ``body``'s exception is raised as it is, never inside an exception group;
    ``follow`` must not raise (a follower that cannot follow gives up quietly:
    the output is still read when the job ends).
    """
    results: list[T] = []
    failures: list[Exception] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(follow)
        try:
            results.append(await body())
        except Exception as error:
            failures.append(error)
        tg.cancel_scope.cancel()
    if failures:
        raise failures[0]
    return results[0]


class FileFollower:
    """Copies what a job appends to ``path`` into ``sink``, poll by poll."""

    def __init__(self, path: Path, sink: OutputSink) -> None:
        self.path = path
        self.sink = sink
        #: bytes copied so far
        self.offset = 0

    async def poll(self) -> bool:
        """Copy what was appended since the last poll; False while the file does not exist."""
        try:
            async with await anyio.open_file(self.path, "rb") as file:
                await file.seek(self.offset)
                while chunk := await file.read(_CHUNK):
                    self.offset += len(chunk)
                    self.sink.write(chunk)
        except FileNotFoundError:
            return False
        return True

    async def follow(self, interval: float) -> NoReturn:
        """Poll every ``interval`` seconds until cancelled."""
        while True:
            try:
                await self.poll()
            except OSError as error:  # unreadable now: read it when the job ends
                log.warning("launcher.follow_failed", path=str(self.path), error=str(error))
                await anyio.sleep_forever()
            await anyio.sleep(interval)

    async def finish(self, *, wait: bool) -> None:
        """Once the job ended: copy the rest. With ``wait``, give a shared file system a
        few seconds to show a file that is not there yet."""
        for _ in range(_OUTPUT_WAIT_POLLS if wait else 0):
            if await anyio.Path(self.path).exists():
                break
            await anyio.sleep(0.1)
        if not await self.poll():
            log.warning("launcher.output_missing", path=str(self.path))


class SkipSeen:
    """A sink for one more read of a whole log: drops its first ``seen`` bytes (delivered
    by an earlier read), passes the rest to ``sink`` and counts them in."""

    def __init__(self, sink: OutputSink) -> None:
        self.sink = sink
        #: bytes delivered to ``sink`` so far, over every read
        self.seen = 0
        self._position = 0

    def restart(self) -> SkipSeen:
        """Begin another read from the log's first byte."""
        self._position = 0
        return self

    def write(self, data: bytes) -> None:
        start = self._position
        self._position += len(data)
        if self._position <= self.seen:
            return
        new = data[max(0, self.seen - start) :]
        self.seen += len(new)
        self.sink.write(new)
