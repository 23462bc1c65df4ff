"""Failures of the machine, not of a trial's parameters: which they are, how they read.

An attempt the machine could not run says nothing about its parameters: the
driver ran out of file descriptors (``EMFILE``, ``ENFILE``), of memory or of
processes to fork (``ENOMEM``, ``EAGAIN``), or of disk, quota or file size
(``ENOSPC``, ``EDQUOT``, ``EFBIG``: ``ulimit -f``) while preparing the trial or
writing its logs. The runner tries such an attempt again, with back-off (see
:mod:`._retries`); if the machine stays short the trial ends
:attr:`~hyperdeme.Status.INTERRUPTED`: journalled and reported with the machine's
error, never told to the strategy as a result, run again on resume; and the
scheduler stops a run whose trials keep ending so (see :mod:`._slots`).

The errors arrive in many wrappings (a task group's, a ``raise ... from``), so
:func:`machine_error` looks through them for the :class:`OSError` behind.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

__all__ = ["MACHINE_ERRNOS", "LogWriteError", "describe", "machine_error"]

#: an OSError of one of these is the machine's, not the trial's
MACHINE_ERRNOS = frozenset(
    {
        errno.EMFILE,
        errno.ENFILE,
        errno.ENOMEM,
        errno.EAGAIN,
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EFBIG,
    }
)

#: what each means for a run, said after the system's own words
_MEANING = {
    errno.EMFILE: "the driver's open-file limit, ulimit -n",
    errno.ENFILE: "the system's open-file table",
    errno.ENOMEM: "out of memory",
    errno.EAGAIN: "no process could be created",
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EFBIG: "the file size limit, ulimit -f",
}


class LogWriteError(OSError):
    """A trial's log could not be written: the program ran, its output had nowhere to go."""

    def __init__(self, path: Path, error: OSError) -> None:
        super().__init__(error.errno, error.strerror, str(path))
        self.path = path

    def __str__(self) -> str:
        return (
            f"the program ran, but its log {self.path} could not be written: "
            f"{_said(self)}; its output from there on was not kept."
        )


def machine_error(error: BaseException) -> OSError | None:
    """The machine's OSError behind ``error`` (in a group, a cause, a context), or None."""
    seen: set[int] = set()
    waiting: list[BaseException] = [error]
    while waiting:
        current = waiting.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in MACHINE_ERRNOS:
            return current
        if isinstance(current, BaseExceptionGroup):
            waiting.extend(current.exceptions)
        waiting.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return None


def describe(error: OSError) -> str:
    """A machine error as a trial's ``error``: what happened, to what, and why."""
    if isinstance(error, LogWriteError):
        return str(error)
    where = f" ({error.filename})" if error.filename else ""
    return f"the machine could not run the attempt: {_said(error)}{where}"


def _said(error: OSError) -> str:
    code = error.errno or 0
    name = errno.errorcode.get(code, "error")
    text = error.strerror or os.strerror(code)
    meaning = _MEANING.get(code)
    return f"{text} ({name}: {meaning})" if meaning else f"{text} ({name})"
