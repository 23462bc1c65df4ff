"""Short query commands (``qsub``, ``qstat``, ``kubectl get``) whose output is wanted as text.

They run through :func:`~hyperdeme.launchers._process.run_process` like every
other external command (process group killed on cancellation), with bounded
in-memory sinks instead of the trial's log files. :func:`checked` is the one
place where a failing workload-manager command becomes a
:class:`~hyperdeme.LauncherError` (or :class:`~hyperdeme.TransientLauncherError`
when its message says the server was momentarily unreachable).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path

from .._core._errors import LauncherError, TransientLauncherError
from ._process import run_process
from ._tail import tail_of

__all__ = ["TRANSIENT", "capture", "checked", "command_error"]

#: words of a workload-manager client that could not reach its server right now
TRANSIENT = re.compile(
    r"connection refused|connection timed out|could not connect|cannot connect|"
    r"unable to connect to the server|i/o timeout|tls handshake timeout|"
    r"temporarily unavailable|try again|server is busy|pbs_server.*not running|"
    r"communication failure|etcdserver",
    re.IGNORECASE,
)


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


async def capture(
    argv: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[int, str, str]:
    """Run ``argv`` to completion; return ``(returncode, stdout, stderr)``.

    Output is kept in memory up to a few MiB per stream. A missing executable
    is exit code 127 with the reason in ``stderr``.
    """
    stdout, stderr = _Buffer(), _Buffer()
    try:
        returncode = await run_process(argv, stdout=stdout, stderr=stderr, cwd=cwd, env=env)
    except FileNotFoundError as error:
        return 127, "", str(error)
    return returncode, stdout.text(), stderr.text()


async def checked(
    argv: Sequence[str],
    *,
    what: str,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """``capture`` that returns stdout and raises when the command fails.

    ``what`` says in a few words what the command was for ("submit the job").
    """
    returncode, stdout, stderr = await capture(argv, cwd=cwd, env=env)
    if returncode == 0:
        return stdout
    raise command_error(argv, returncode, stderr, what=what)


def command_error(argv: Sequence[str], returncode: int, stderr: str, *, what: str) -> LauncherError:
    """The exception for a failed workload-manager command (transient or not)."""
    command = shlex.join(argv)
    tail = tail_of(stderr)
    if returncode == 127 and "No such file or directory" in tail:
        message = f"could not {what}: {argv[0]!r} was not found; install it or put it on PATH."
        return LauncherError(message, command=command, returncode=returncode, stderr_tail=tail)
    message = f"could not {what}: `{command}` exited with {returncode}: {tail or 'no message'}"
    error_type = TransientLauncherError if TRANSIENT.search(tail) else LauncherError
    return error_type(message, command=command, returncode=returncode, stderr_tail=tail)
