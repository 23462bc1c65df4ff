"""One driver per experiment: an exclusive lock in the experiment directory.

``flock`` on ``<experiment>/.lock``: the kernel releases it when its holder
exits in any way, SIGKILL included, so a lock left by a dead driver is simply
free again; a second live driver is refused at once with the holder's host,
pid and start time, which the holder writes beside it (``.driver``). (On NFS, Linux
implements ``flock`` with the server's locks; a driver on a crashed client
holds its lock until the server notices.)
"""

from __future__ import annotations

import datetime
import errno
import fcntl
import json
import os
import time
from pathlib import Path

from .._core._closing import Closing
from .._core._errors import JournalError
from .._core._nofollow import open_nofollow, write_new

__all__ = ["ExperimentLock", "driver_of"]

LOCK_NAME = ".lock"
#: who holds the lock: host, pid and since, as JSON
HOLDER_NAME = ".driver"
#: a disk that cannot take the holder's file: said as a JournalError naming the directory
_DISK_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})


class ExperimentLock(Closing):
    """Held from construction until :meth:`close`; see the module docstring.

    The holder's host, pid and start are in ``.driver`` beside the lock, written
    whole (a temporary file renamed over it) once the lock is taken.
    """

    def __init__(self, directory: Path) -> None:
        self.path = directory / LOCK_NAME
        self._holder = directory / HOLDER_NAME
        self._fd = open_nofollow(self.path, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            self._fd = -1
            raise JournalError(
                f"the experiment {directory} is being run by another driver "
                f"({_describe(_holder_of(directory, wait=True))}); two drivers would "
                "interleave its journal. Wait for it, stop it, or give this run another name."
            ) from None
        me = {
            "host": _hostname(),
            "pid": os.getpid(),
            "since": datetime.datetime.now().isoformat(timespec="seconds"),
        }
        temporary = self._holder.with_name(f"{HOLDER_NAME}.{os.getpid()}")
        try:
            # a new file (never through a planted link), removed if it cannot be written
            write_new(temporary, (json.dumps(me) + "\n").encode())
            os.replace(temporary, self._holder)
        except OSError as error:
            self.close()
            if error.errno not in _DISK_ERRORS:
                raise  # the machine's (EMFILE ...): the OSError itself, naming the file
            code = errno.errorcode.get(error.errno or 0, "")
            raise JournalError(
                f"cannot start the run in {directory}: writing {temporary} failed: "
                f"{error.strerror} ({code}); free some space there (or let it be "
                "written), or choose another run_path."
            ) from error
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._fd >= 0:
            self._holder.unlink(missing_ok=True)
            os.close(self._fd)  # releases the lock
            self._fd = -1


def _holder_of(directory: Path, *, wait: bool = False) -> dict[str, object] | None:
    """The holder ``.driver`` names; with ``wait``, give a driver that has just taken the
    lock a moment to write it."""
    for _ in range(50 if wait else 1):
        try:
            holder = json.loads((directory / HOLDER_NAME).read_bytes())
        except (OSError, ValueError):
            holder = None
        if isinstance(holder, dict):
            return holder
        if wait:
            time.sleep(0.02)
    return None


def driver_of(directory: Path) -> dict[str, object] | None:
    """Who runs the experiment in ``directory`` now (host, pid, since), or None when no
    driver runs it. Never takes the lock.

    A driver on this host is checked to be alive (a SIGKILLed one leaves its
    details behind); one on another host is taken at its word.
    """
    holder = _holder_of(directory)
    if holder is None:
        return None
    if holder.get("host") == _hostname():
        try:
            os.kill(int(holder["pid"]), 0)  # type: ignore[call-overload]
        except ProcessLookupError:
            return None
        except (PermissionError, KeyError, TypeError, ValueError):
            pass
    return holder


def _describe(holder: dict[str, object] | None) -> str:
    if holder is None:
        return "which could not be told: it may have just ended; try again"
    try:
        return f"pid {holder['pid']} on host {holder['host']} since {holder['since']}"
    except KeyError:
        return "which could not be told"


def _hostname() -> str:
    import socket  # where needed: once per run, not on every ``import hyperdeme``

    return socket.gethostname()
