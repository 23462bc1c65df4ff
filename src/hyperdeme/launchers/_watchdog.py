"""Nothing outlives its driver: a watchdog process that stops what the driver started.

A run starts one small helper process (in its own session, so a Ctrl-C or a
signal to the driver's process group does not reach it) and keeps a pipe to
it open. Every process group the run starts (:func:`run_process` registers
them) and every clean-up command a launcher needs if the driver vanishes
(``scancel`` of an allocation it made, ``qdel`` of a submitted job,
``kubectl delete`` of a created Job) is announced on the pipe, and withdrawn
when done. If the driver dies, SIGKILL included, the pipe closes: the
watchdog sends SIGTERM to every group still registered, runs the clean-up
commands, waits ``grace`` seconds, sends SIGKILL to what is left, and exits.
A clean end of the run closes it with nothing registered.

The watchdog can die on its own (the OOM killer, a stray ``kill``): the driver
notices (a write to the pipe fails, or a thread polling every 0.1 s sees it
ended), starts a new one with the same mark and cgroup, tells it everything
held, and logs ``watchdog.restarted``. And at the run's end the driver itself
stops what is left (:meth:`.Containment.close`: the run's cgroup, its mark, the
orphans it adopted), so nothing survives even a watchdog gone at that moment.

Every process the run starts also carries the run's mark in its environment
(``HYPERDEME_RUN=<token>``), inherited by what it starts, and where a cgroup v2
can be made it runs in the run's cgroup (:mod:`._contain`). When the driver dies,
and when the run ends, the watchdog also stops every process carrying the
mark (read from ``/proc``, on Linux) and every process of the run's cgroup, so a
process whose group was not yet registered when the driver died, whose handle a
driver lost, or that left its session, is stopped too.

The watchdog also keeps what is registered in a file in the experiment
directory (rewritten at most every 0.1 s, so process starts cost no file
writes). If it was killed too (both at once: the OOM killer), resuming the
experiment reads that file and stops what is listed before anything new
starts (:func:`reap`); groups started in the last 0.1 s before such a double
death may be missed. Process groups are identified by
their leader's pid and start time, so a pid reused since is never signalled.

Hand-written because no library does this: the program
(:mod:`._watchdog_program`) is a hundred lines of ``os``/``signal``/``subprocess``
that a bare interpreter runs from the package (``python -I -S <file>``); this
module is the driver's side.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .._core._logging import get_logger
from . import _watchdog_program
from ._contain import Containment

if TYPE_CHECKING:
    from ._watchdog_program import Entry

__all__ = ["PROGRAM", "WATCHDOG_FILE", "Watchdog", "current", "guarded", "program_argv", "reap"]

log = get_logger("hyperdeme.launchers")

WATCHDOG_FILE = ".watchdog.json"
_CURRENT: contextvars.ContextVar[Watchdog | None] = contextvars.ContextVar(
    "hyperdeme_watchdog", default=None
)

#: the watchdog program, a file of this package (absolute: the driver may change directory)
PROGRAM = os.path.abspath(_watchdog_program.__file__)


#: restarts of one run's watchdog at most (one that cannot stay up is given up on)
MAX_RESTARTS = 100


def program_argv(*, grace: float, record: Path | None, mark: str, cgroup: str = "") -> list[str]:
    """The watchdog's command line: a bare interpreter (no site, no environment) runs it."""
    return [sys.executable, "-I", "-S", PROGRAM, str(grace), str(record or ""), mark, cgroup]


class Watchdog:
    """The driver's side of the watchdog (see the module docstring)."""

    def __init__(self, *, record: Path | None = None, grace: float = 2.0) -> None:
        self.record = record
        self.grace = grace
        self._next = 0
        #: messages not yet written: a hold released before it was sent costs nothing
        self._pending: dict[int, bytes] = {}
        #: holds written and not released: what a restarted watchdog is told
        self._sent: dict[int, bytes] = {}
        token = uuid.uuid4().hex
        #: the environment every process of the run carries (see the module docstring)
        self.mark = {"HYPERDEME_RUN": token}
        self.containment = Containment(token=token)
        self._argv = program_argv(
            grace=grace, record=record, mark=token, cgroup=self.containment.cgroup
        )
        self.restarts = 0
        self._broken = False
        self._closing = False
        try:
            self._process = self._start()
        except BaseException:
            self.containment.close(grace=0.0)  # its cgroup removed, no subreaper left
            raise
        self._lock = threading.Lock()  # the run's tasks and the flushing thread
        self._closed = threading.Event()
        self._flusher = threading.Thread(target=self._flush_often, daemon=True)
        self._flusher.start()

    def _start(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            self._argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
        )
        assert process.stdin is not None
        self._fd = process.stdin.fileno()
        return process

    @property
    def pid(self) -> int:
        """The pid of the watchdog process running now."""
        return self._process.pid

    @contextlib.contextmanager
    def active(self) -> Iterator[Watchdog]:
        """While active, :func:`current` returns this watchdog (in tasks started inside too)."""
        token = _CURRENT.set(self)
        try:
            yield self
        finally:
            _CURRENT.reset(token)

    def hold_group(self, pgid: int) -> int:
        """Stop process group ``pgid`` if the driver dies before :meth:`release`.

        Told to the watchdog at the next :meth:`flush` (a thread flushes every
        0.1 s): a group started and ended between two flushes costs no message;
        meanwhile the run's mark covers it.
        """
        with self._lock:
            self._next += 1
            # formatted, not json.dumps'd: two ints, and this runs for every process
            self._pending[self._next] = b'{"op": "hold", "pgid": %d, "key": %d}\n' % (
                pgid,
                self._next,
            )
            return self._next

    def hold_command(self, argv: Sequence[str], *, env: Mapping[str, str] | None = None) -> int:
        """Run ``argv`` (a clean-up command) if the driver dies before :meth:`release`.

        Told at once: no mark finds a job submitted to a workload manager.
        """
        message = {"op": "hold", "argv": list(argv), "env": dict(env) if env else None}
        with self._lock:
            self._next += 1
            line = _line({**message, "key": self._next})
            self._sent[self._next] = line
            self._write(line)
            return self._next

    def release(self, key: int) -> None:
        with self._lock:
            if self._pending.pop(key, None) is None:  # sent already: withdraw it
                self._sent.pop(key, None)
                self._write(_line({"op": "release", "key": key}))

    def flush(self) -> None:
        """Tell the watchdog the holds not sent yet."""
        with self._lock:
            if self._pending:
                lines = b"".join(self._pending.values())
                self._sent.update(self._pending)
                self._pending.clear()
                self._write(lines)

    def _flush_often(self) -> None:
        while not self._closed.wait(0.1):
            if self._process.poll() is not None:  # died: restarted before the flush
                with self._lock:
                    if self._process.poll() is not None:
                        self._restart(f"exit status {self._process.returncode}")
            self.flush()

    def close(self) -> None:
        """The run is over: the watchdog exits (stopping anything still registered),
        then the driver stops what is left itself (the watchdog may be gone)."""
        self._closed.set()
        self._flusher.join()
        with self._lock:
            self._closing = True  # a watchdog dying now is not restarted: the sweep below
            self._pending.clear()
            if self._process.poll() is None:
                self._write(_line({"op": "exit"}))
            elif not self._broken:  # died since the flusher's last look: swept below
                error = f"exit status {self._process.returncode}"
                log.warning("watchdog.gone", error=error, restarts=self.restarts)
        if self._process.stdin is not None:
            with contextlib.suppress(OSError):
                self._process.stdin.close()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self.containment.close(grace=self.grace)

    def _write(self, data: bytes) -> None:
        """Write to the watchdog (the lock held); a dead one is restarted, and told
        everything held instead."""
        if self._broken:
            return
        try:
            while data:
                data = data[os.write(self._fd, data) :]
        except OSError as error:
            self._restart(str(error))

    def _restart(self, why: str) -> None:
        """The watchdog died: start a new one and tell it what is held (the lock held)."""
        if self._closing or self._broken:
            return
        old = self._process
        with contextlib.suppress(OSError):
            if old.stdin is not None:
                old.stdin.close()
        old.poll()  # reaps it
        if self.restarts >= MAX_RESTARTS:
            self._broken = True
            log.warning("watchdog.gone", error=why, restarts=self.restarts)
            return
        try:
            self._process = self._start()
        except OSError as error:  # EMFILE, fork failing: the run goes on, swept at its end
            self._broken = True
            log.warning("watchdog.gone", error=f"{why}; restarting it: {error}")
            return
        self.restarts += 1
        log.warning("watchdog.restarted", reason=why, pid=self._process.pid, held=len(self._sent))
        self._write(b"".join(self._sent.values()))


def _line(message: Mapping[str, object]) -> bytes:
    return (json.dumps(message) + "\n").encode()


def current() -> Watchdog | None:
    """The watchdog of the run this task belongs to, if any."""
    return _CURRENT.get()


@contextlib.contextmanager
def guarded(argv: Sequence[str], *, env: Mapping[str, str] | None = None) -> Iterator[None]:
    """While inside, ``argv`` runs should the driver die (``qdel`` of a submitted job ...).

    A no-op outside a run with a watchdog.
    """
    watchdog = current()
    key = watchdog.hold_command(argv, env=env) if watchdog is not None else None
    try:
        yield
    finally:
        if watchdog is not None and key is not None:
            watchdog.release(key)


def reap(directory: Path) -> int:
    """Stop what a dead driver's watchdog file in ``directory`` lists; how many entries.

    For a driver whose watchdog died with it. Runs the watchdog's own stopping
    code (:func:`._watchdog_program.stop`) synchronously, in this process; a
    record that is not one a watchdog wrote is ignored.
    """
    record = directory / WATCHDOG_FILE
    try:
        saved = json.loads(record.read_text())
        entries, mark = [_entry(e) for e in saved["held"]], str(saved["mark"])
        cgroup = _cgroup(saved.get("cgroup"))
    except (OSError, ValueError, KeyError, TypeError):
        return 0  # no record, or not one a watchdog wrote
    # the entries keep their recorded start times: the watchdog's own code stops them,
    # whatever still carries the dead run's mark, and what is in its cgroup
    _watchdog_program.stop(entries, mark=mark, grace=2.0, cgroup=cgroup)
    record.unlink(missing_ok=True)
    log.warning("run.reaped", directory=str(directory), entries=len(entries))
    return len(entries)


def _cgroup(saved: object) -> str:
    """The run cgroup a record names, checked: one that hyperdeme made, or none."""
    if saved in (None, ""):
        return ""
    if not (
        isinstance(saved, str)
        and os.path.isabs(saved)
        and os.path.basename(saved).startswith("hyperdeme-")
        and ".." not in saved.split("/")
    ):
        raise ValueError(f"a recorded cgroup must be a hyperdeme run's cgroup, got {saved!r}")
    return saved


def _entry(saved: object) -> Entry:
    """One entry of a watchdog's record, checked (it is read from disk)."""
    if not isinstance(saved, dict):
        raise TypeError(f"a held entry must be an object, got {saved!r}")
    entry: Entry = {}
    if "pgid" in saved:
        if not isinstance(saved["pgid"], int) or saved["pgid"] <= 1:
            raise ValueError(f"a held pgid must be a process group id, got {saved['pgid']!r}")
        entry["pgid"], start = saved["pgid"], saved.get("start")
        entry["start"] = start if isinstance(start, str) else None
    if "argv" in saved:
        argv, env = saved["argv"], saved.get("env")
        if not (isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv)):
            raise TypeError(f"a held argv must be a list of strings, got {argv!r}")
        if env is not None and not (
            isinstance(env, dict) and all(isinstance(v, str) for v in env.values())
        ):
            raise TypeError(f"a held env must be an object of strings, got {env!r}")
        entry["argv"], entry["env"] = argv, env
    return entry
