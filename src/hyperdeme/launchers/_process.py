"""The one helper that runs an external command for a launcher.

Output is pumped chunk by chunk into the engine's sinks (memory stays flat
whatever the program prints). The program runs in a new session, so it and
everything it spawns share one process group, which is what gets signalled:

* normal exit: leftovers still in the group (backgrounded grandchildren) are
  killed, so an evaluation never leaves orphans behind;
* cancellation (timeout, run stopped): an optional launcher-specific
  ``stop`` (``scancel`` a step ...) runs first, then SIGTERM to the group,
  ``grace`` seconds, SIGKILL; all shielded and bounded, then the
  cancellation is re-raised.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path

import anyio
from anyio.abc import ByteReceiveStream, Process

from .._logging import get_logger
from ._base import OutputSink

__all__ = ["DEFAULT_GRACE", "run_captured", "run_process"]

log = get_logger("hyperdeme.launchers")

DEFAULT_GRACE = 5.0
_CHUNK = 1 << 16


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
    process = await anyio.open_process(
        list(argv),
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        async with anyio.create_task_group() as tg:
            assert process.stdout is not None
            assert process.stderr is not None
            tg.start_soon(_pump, process.stdout, stdout)
            tg.start_soon(_pump, process.stderr, stderr)
            returncode = await process.wait()
            # The program is done; anything it left in its group would hold the
            # pipes open (and outlive the evaluation): kill it.
            _signal_group(process.pid, signal.SIGKILL)
        return returncode
    except BaseException:
        with anyio.CancelScope(shield=True):
            await _terminate(process, stop, grace)
        raise


async def _pump(stream: ByteReceiveStream, sink: OutputSink) -> None:
    async with stream:
        while True:
            try:
                chunk = await stream.receive(_CHUNK)
            except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
                return
            sink.write(chunk)


async def _terminate(
    process: Process, stop: Callable[[], Awaitable[None]] | None, grace: float
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
        await process.aclose()


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


class _Buffer:
    """An in-memory sink for short query commands (bounded, keeps the head)."""

    def __init__(self, limit: int = 1 << 22) -> None:
        self._chunks: list[bytes] = []
        self._size = 0
        self._limit = limit

    def write(self, data: bytes) -> None:
        if self._size < self._limit:
            self._chunks.append(data[: self._limit - self._size])
            self._size += len(self._chunks[-1])

    def text(self) -> str:
        return b"".join(self._chunks).decode(errors="replace")


async def run_captured(
    argv: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[int, str, str]:
    """Run a short query command (``squeue``, ``qstat``, ``kubectl get``); return
    ``(returncode, stdout, stderr)``. A missing executable is exit code 127."""
    stdout, stderr = _Buffer(), _Buffer()
    try:
        returncode = await run_process(argv, stdout=stdout, stderr=stderr, cwd=cwd, env=env)
    except FileNotFoundError as error:
        return 127, "", str(error)
    return returncode, stdout.text(), stderr.text()
