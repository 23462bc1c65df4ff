"""One driver per experiment: an exclusive lock in the experiment directory.

``flock`` on ``<experiment>/.lock``: the kernel releases it when its holder
exits in any way, SIGKILL included, so a lock left by a dead driver is simply
free again; a second live driver is refused at once with the holder's host,
pid and start time, which the holder writes into the file. (On NFS, Linux
implements ``flock`` with the server's locks; a driver on a crashed client
holds its lock until the server notices.)
"""

from __future__ import annotations

import datetime
import fcntl
import json
import os
import socket
from pathlib import Path
from typing import Self

from .._core._closing import Closing
from .._core._errors import JournalError

__all__ = ["ExperimentLock", "driver_of"]

LOCK_NAME = ".lock"


class ExperimentLock(Closing):
    """Held from construction until :meth:`close`; see the module docstring."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / LOCK_NAME
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe(os.pread(self._fd, 4096, 0))
            os.close(self._fd)
            self._fd = -1
            raise JournalError(
                f"the experiment {directory} is being run by another driver ({holder}); "
                "two drivers would interleave its journal. Wait for it, stop it, or give "
                "this run another name."
            ) from None
        me = {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "since": datetime.datetime.now().isoformat(timespec="seconds"),
        }
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, json.dumps(me).encode() + b"\n", 0)

    def __enter__(self) -> Self:
        return self

    def close(self) -> None:
        if self._fd >= 0:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # releases the lock
            self._fd = -1


def driver_of(directory: Path) -> dict[str, object] | None:
    """Who runs the experiment in ``directory`` now, as its lock file says (host, pid,
    since), or None when no driver runs it. Never takes the lock.

    A driver on this host is checked to be alive (a SIGKILLed one leaves its
    details behind); one on another host is taken at its word.
    """
    try:
        holder = json.loads((directory / LOCK_NAME).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(holder, dict):
        return None
    if holder.get("host") == socket.gethostname():
        try:
            os.kill(int(holder["pid"]), 0)
        except ProcessLookupError:
            return None
        except (PermissionError, KeyError, TypeError, ValueError):
            pass
    return holder


def _describe(data: bytes) -> str:
    try:
        holder = json.loads(data)
        return f"pid {holder['pid']} on host {holder['host']} since {holder['since']}"
    except (ValueError, KeyError, TypeError):
        return "holder unknown"
