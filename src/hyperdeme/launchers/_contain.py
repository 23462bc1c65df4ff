"""Containment: finding every process a trial started, whatever it did to its session.

A trial's program runs in a process group of its own, and carries the run's mark
(``HYPERDEME_RUN=<token>`` in its environment). A daemon started with
``setsid env -i ...`` leaves both. Three ways to still find it, the first that
works here is used (logged as ``run.started containment=...``):

``cgroup``
    Linux with a writable cgroup v2 hierarchy (root; on a systemd machine, the
    user's delegated subtree). The run gets a cgroup, ``hyperdeme-<pid>-<pid ns>-<token>``,
    under the driver's own (found from ``/proc/self/cgroup`` and the ``cgroup2``
    mount of ``/proc/self/mountinfo``), and each slot a child cgroup of it: made
    by the first trial that needs one (``1``, ``2`` ...: as many as trials ever ran
    at once), then reused by the trials after it, so no ``mkdir``/``rmdir`` per
    trial (each waits for the kernel, milliseconds on a loaded machine, and the
    removal was a thread hop per trial: see ``benchmarks/README.md``). Nothing a
    process does takes it out of its cgroup, so when a trial ends its cgroup's
    ``cgroup.events`` says whether anything is left (``populated``): if so, it
    gets SIGTERM, the launcher's grace, then ``cgroup.kill``; the cgroup, empty,
    goes back to be the next trial's (one that cannot be emptied is never used
    again). At the run's end, and when the driver dies, the watchdog does the
    same to the run's cgroup and removes it with its children (it is given its
    path); and a run finding beside its own the cgroup of a driver that is gone
    (killed together with its watchdog) empties and removes it.

    The program moves itself in: its command line is prefixed with
    ``echo 0 > <trial cgroup>/cgroup.procs`` run by ``/bin/sh`` before the program
    (spliced into the local launcher's own ``/bin/sh -c``, a wrapping ``sh``
    otherwise), so it is in its cgroup before it can start anything: no window.
    Not by the driver after the start: a migration waits for an RCU grace period
    when none happened lately (measured: 5-16 ms, against 20 us when they follow
    each other), during which the driver would be blocked and the program could
    fork out of reach. What escapes: nothing the trial starts; if the write
    fails (a ``pids`` limit), that trial is contained by its group and the mark
    only.

``subreaper``
    Linux without a writable cgroup v2, in a process that is hyperdeme's own
    (the ``hyperdeme`` command), or when asked for with
    ``HYPERDEME_CONTAINMENT=subreaper``. The driver becomes a child subreaper
    (``prctl(PR_SET_CHILD_SUBREAPER)``) for the run: an orphan of a trial
    (a double-forked child, a ``setsid`` daemon whose parent ended) becomes the
    driver's child instead of init's, so at the run's end every child of the
    driver it did not start itself, in another session than its own, is stopped
    and reaped. Not the default in a library: the subreaper flag is the whole
    process's, so in an application that embeds hyperdeme the application's own
    orphans would be adopted, and stopped at the run's end, too. And not the
    watchdog: an orphan goes to its nearest subreaper *ancestor*, and the
    watchdog is not one of the trials' (making it their parent would move every
    process start out of the driver, and the pidfd wait with it). What escapes:
    a daemon whose environment was emptied is stopped at the run's end, not at
    its trial's; if the driver is killed, its orphans go to init (the watchdog
    then finds only what carries the mark).

``mark``
    Every other platform (macOS), or ``HYPERDEME_CONTAINMENT=mark``. Each trial
    also carries its own mark (``HYPERDEME_TRIAL=<token>``): when it ends, what
    still carries that mark is stopped (read from ``/proc``, Linux only), and at
    the run's end what carries the run's mark. What escapes: a process that
    empties its environment (``env -i``) and leaves the process group
    (``setsid``); on macOS (no ``/proc``) anything that leaves the process group.

``HYPERDEME_CONTAINMENT=cgroup|subreaper|mark`` chooses (``cgroup`` where none can
be made falls back as ``auto`` does). Hand-written: no library manages cgroups
without systemd (``systemd-run --scope`` would need a systemd, and a D-Bus
round trip per trial).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shlex
import signal
import uuid
from collections.abc import Mapping, Sequence
from typing import Literal, Protocol

import anyio

from .._core._logging import get_logger
from . import _watchdog_program as program

__all__ = ["Cell", "Closable", "Containment", "Kind", "allow_subreaper"]

log = get_logger("hyperdeme.launchers")

Kind = Literal["cgroup", "subreaper", "mark"]
ENV = "HYPERDEME_CONTAINMENT"
TRIAL_MARK = "HYPERDEME_TRIAL"
_PR_SET_CHILD_SUBREAPER = 36
_PR_GET_CHILD_SUBREAPER = 37
#: whether this process is hyperdeme's own (the command line), where a subreaper is safe
_OWN_PROCESS = False
#: whether processes can be read from /proc (Linux)
_PROC = os.path.isdir("/proc")


def allow_subreaper() -> None:
    """Say this process is hyperdeme's own (the ``hyperdeme`` command): without a
    cgroup, a run may make it a child subreaper (see the module docstring)."""
    global _OWN_PROCESS
    _OWN_PROCESS = True


class Closable(Protocol):
    """What the run's close ends first: the process service (:mod:`._service`)."""

    def close(self) -> None: ...


class Containment:
    """How the processes of one run are found and stopped (see the module docstring)."""

    def __init__(self, *, token: str) -> None:
        self.token = token
        self.cgroup = ""
        self._subreaper_was: int | None = None
        #: the trials' processes this driver started (never adopted orphans)
        self._started: set[int] = set()
        self._numbers = itertools.count(1)
        #: the slots' cgroups made and empty, ready for the next trial (see :meth:`cell`)
        self._free: list[str] = []
        #: the run's process service (:mod:`._service`), ended by :meth:`close`
        self.service: Closable | None = None
        wanted = os.environ.get(ENV, "auto")
        if wanted not in ("auto", "cgroup", "subreaper", "mark"):
            log.warning("containment.unknown", value=wanted, allowed="auto cgroup subreaper mark")
            wanted = "auto"
        self.kind: Kind = "mark"
        if wanted in ("auto", "cgroup"):
            self.cgroup = _make_cgroup(f"hyperdeme-{os.getpid()}-{_pid_namespace()}-{token}")
            if self.cgroup:
                self.kind = "cgroup"
                _remove_stale(os.path.dirname(self.cgroup))
        if self.kind == "mark" and (wanted == "subreaper" or (wanted == "auto" and _OWN_PROCESS)):
            self._subreaper_was = _become_subreaper()
            if self._subreaper_was is not None:
                self.kind = "subreaper"

    def cell(self, *, make: bool = True) -> Cell:
        """A new trial's place: a slot's cgroup an earlier trial left empty, a new one,
        or its mark. With ``make=False`` a new cgroup is not made yet: :meth:`Cell.make`
        does it later (in the thread that starts the program: making a cgroup takes
        milliseconds on a loaded machine)."""
        if self._free:
            return Cell(self, cgroup=self._free.pop())
        cell = Cell(self)
        if self.kind == "cgroup":
            cell._planned = os.path.join(self.cgroup, str(next(self._numbers)))
        if make:
            cell.make()
        return cell

    def close(self, *, grace: float) -> None:
        """The run is over: stop what is left (the run's cgroup, the run's mark, the
        adopted orphans), remove the cgroup with the slots', stop being a subreaper.
        Blocking."""
        if self.service is not None:
            self.service.close()
        self._free.clear()
        program.stop([], mark=self.token, grace=grace, cgroup=self.cgroup)
        if self._subreaper_was is not None:
            _stop_pids(self.orphans(), grace=grace)
            _reap(self.orphans(zombies=True))
            _prctl(_PR_SET_CHILD_SUBREAPER, self._subreaper_was)
            self._subreaper_was = None

    def orphans(self, *, zombies: bool = False) -> list[int]:
        """The children of this process it did not start: adopted orphans of trials
        (another session than this process's, not a trial's program)."""
        me, session = os.getpid(), os.getsid(0)
        found = []
        for pid in _pids():
            stat = _stat(pid)
            if stat is None or int(stat[1]) != me or pid in self._started:
                continue
            if int(stat[3]) != session and (zombies or stat[0] != "Z"):
                found.append(pid)
        return found


class Cell:
    """One trial's place in the run's containment: a child cgroup, or a per-trial mark."""

    def __init__(self, containment: Containment, *, cgroup: str = "", mark: str = "") -> None:
        self.containment = containment
        self.cgroup = cgroup
        self.mark = mark
        self.pid: int | None = None
        self._emptied = False
        self._planned = ""  # the cgroup :meth:`make` makes ("" for none: a mark)

    def make(self) -> None:
        """Make this cell's cgroup (blocking), or give it a mark where there is none or
        it cannot be made (a limit, ``cgroup.max.descendants``; removed meanwhile)."""
        if self.cgroup or self.mark:
            return
        if self._planned:
            try:
                os.mkdir(self._planned)
            except OSError as error:
                log.warning("containment.cell_failed", error=str(error))
            else:
                self.cgroup = self._planned
                return
        self.mark = uuid.uuid4().hex

    def argv(self, argv: Sequence[str]) -> list[str]:
        """``argv``, made to move itself into this cell's cgroup before it runs."""
        if not self.cgroup:
            return list(argv)
        procs = os.path.join(self.cgroup, "cgroup.procs")
        if len(argv) == 3 and argv[0] == "/bin/sh" and argv[1] == "-c":
            # the local launcher's own shell does it (no extra program started)
            return ["/bin/sh", "-c", f"echo 0 2>/dev/null >{shlex.quote(procs)}\n{argv[2]}"]
        return ["/bin/sh", "-c", 'echo 0 2>/dev/null >"$0"; exec "$@"', procs, *argv]

    def env(self, env: Mapping[str, str]) -> Mapping[str, str]:
        """``env`` with this cell's mark, where there is no cgroup."""
        return {**env, TRIAL_MARK: self.mark} if self.mark else env

    def started(self, pid: int) -> None:
        self.pid = pid
        self.containment._started.add(pid)

    async def empty(self, *, grace: float) -> None:
        """The trial is over: SIGTERM to what it left (in its cgroup, or carrying its
        mark), ``grace`` seconds, SIGKILL; the cgroup, empty, given back for the next
        trial. Never raises; once."""
        if self._emptied:
            return
        self._emptied = True
        if self.pid is not None:
            self.containment._started.discard(self.pid)
        if self.cgroup:
            # the usual case, nothing left, is one read of cgroup.events: no thread hop
            left = _populated(self.cgroup)
            if left is not None and (not left or await _empty_cgroup(self.cgroup, grace=grace)):
                self.containment._free.append(self.cgroup)
            elif left is not None:
                log.warning("containment.cell_not_emptied", cgroup=self.cgroup)
        elif self.mark and _PROC:
            await _empty_marked(self.mark, grace=grace)
            if self.containment.kind == "subreaper":
                _reap(self.containment.orphans(zombies=True), only_zombies=True)


def _populated(cgroup: str) -> bool | None:
    """Whether a process is left in ``cgroup`` (its ``cgroup.events``), None when it is
    gone (removed meanwhile: never given to another trial, whose program could not
    enter it)."""
    try:
        with open(os.path.join(cgroup, "cgroup.events"), "rb") as f:
            return b"populated 1" in f.read()
    except OSError:
        return None


async def _empty_cgroup(cgroup: str, *, grace: float) -> bool:
    """SIGTERM to what is left in ``cgroup``, ``grace`` seconds, ``cgroup.kill``;
    whether it is empty then."""
    program.signal_pids(program.cgroup_pids(cgroup), signal.SIGTERM)
    if await _until_empty(cgroup, within=grace):
        return True
    program.kill_cgroup(cgroup)
    return await _until_empty(cgroup, within=5.0)


async def _until_empty(cgroup: str, *, within: float) -> bool:
    """Polls ``cgroup.events`` (from 1 ms, doubling, up to 50 ms) until no process is
    left or ``within`` seconds passed; whether it is empty."""
    delay = 0.001
    with anyio.move_on_after(within):
        while True:  # polled: cgroup.events can be watched (inotify), but not by anyio
            if not program.populated(cgroup):
                return True
            await anyio.sleep(delay)
            delay = min(delay * 2, 0.05)
    return not program.populated(cgroup)


async def _empty_marked(mark: str, *, grace: float) -> None:
    groups = program.marked(mark, name=TRIAL_MARK)
    if not groups:
        return
    program.signal_groups(groups, signal.SIGTERM)
    with anyio.move_on_after(grace):
        while True:  # polled: nothing tells when a process of another session ends
            groups = program.alive(groups | program.marked(mark, name=TRIAL_MARK))
            if not groups:
                break
            await anyio.sleep(program.POLL)
    program.signal_groups(groups | program.marked(mark, name=TRIAL_MARK), signal.SIGKILL)


def _make_cgroup(name: str) -> str:
    """Create cgroup ``name`` under this process's cgroup v2; its path, or "" where
    there is none or it is not writable."""
    try:
        mount = _cgroup2_mount()
        with open("/proc/self/cgroup") as f:
            own = next(line[3:].strip() for line in f if line.startswith("0::"))
    except (OSError, StopIteration):
        return ""
    if mount is None:
        return ""
    path = os.path.join(mount, own.lstrip("/"), name)
    try:
        os.mkdir(path)
    except OSError:
        return ""
    if not os.access(os.path.join(path, "cgroup.procs"), os.W_OK):
        with contextlib.suppress(OSError):
            os.rmdir(path)
        return ""
    return path


def _remove_stale(parent: str) -> None:
    """Empty and remove the run cgroups beside this run's whose driver is gone (both it
    and its watchdog killed): what they hold is a dead run's, stopped by no one else.

    A run cgroup is named ``hyperdeme-<driver pid>-<pid namespace>-<token>``; one whose
    pid was reused since is left as it is, and so is one made in another PID namespace
    (a container, ``unshare --pid``, sharing this cgroup hierarchy): its driver's pid
    means nothing here, so its liveness cannot be judged from here (a run whose driver
    looked gone from here would be killed while it runs). Names of hyperdeme before
    0.4 (``hyperdeme-<pid>-<token>``) are judged by their pid alone, as then."""
    try:
        names = os.listdir(parent)
    except OSError:
        return
    here = str(_pid_namespace())
    for name in names:
        parts = name.split("-") if name.startswith("hyperdeme-") else []
        if len(parts) == 4 and parts[2] != here:
            continue  # another PID namespace's run
        pid = parts[1] if len(parts) in (3, 4) else ""
        if not pid.isdigit() or _exists(int(pid)):
            continue
        path = os.path.join(parent, name)
        program.signal_pids(program.cgroup_pids(path), signal.SIGKILL)
        program.kill_cgroup(path)
        program.remove_cgroup(path, within=1.0)
        log.warning("containment.stale_removed", cgroup=path)


def _pid_namespace() -> int:
    """This process's PID namespace (the inode of ``/proc/self/ns/pid``; 0 without it)."""
    try:
        return os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return 0


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's
    return True


def _cgroup2_mount() -> str | None:
    """Where the cgroup v2 hierarchy is mounted (``/proc/self/mountinfo``), if it is."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            before, _, after = line.partition(" - ")
            if after.split(" ", 1)[0] == "cgroup2":
                # octal escapes (a space is \040) in the mount point
                point = before.split()[4]
                return point.encode().decode("unicode_escape") if "\\" in point else point
    return None


def _prctl(option: int, value: int) -> int:
    import ctypes  # only a run without a cgroup pays for it
    import ctypes.util

    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    return int(libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0))


def _become_subreaper() -> int | None:
    """Make this process a child subreaper; what the flag was before, or None where it
    cannot be set (not Linux)."""
    if not _PROC:
        return None
    import ctypes
    import ctypes.util

    try:
        was = ctypes.c_int(0)
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        if libc.prctl(_PR_GET_CHILD_SUBREAPER, ctypes.byref(was), 0, 0, 0) != 0:
            return None
        if _prctl(_PR_SET_CHILD_SUBREAPER, 1) != 0:
            return None
    except (OSError, AttributeError):
        return None
    return was.value


def _pids() -> list[int]:
    try:
        return [int(p) for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return []


def _stat(pid: int) -> list[str] | None:
    """State, parent, group, session ... of ``pid`` (``/proc/<pid>/stat`` after the name)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].decode().split()
    except (OSError, IndexError):
        return None


def _stop_pids(pids: list[int], *, grace: float) -> None:
    """SIGTERM, up to ``grace`` seconds for them to end, SIGKILL (blocking)."""
    if not pids:
        return
    import time

    program.signal_pids(pids, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_running(pid) for pid in pids):
        time.sleep(program.POLL)
    program.signal_pids(pids, signal.SIGKILL)


def _running(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def _reap(pids: list[int], *, only_zombies: bool = False) -> None:
    """Collect adopted orphans that ended (they are this process's children now)."""
    for pid in pids:
        if only_zombies and _running(pid):
            continue
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, 0 if not only_zombies else os.WNOHANG)
