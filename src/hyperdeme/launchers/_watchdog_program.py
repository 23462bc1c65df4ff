"""The watchdog program: the process that stops what a dead driver started.

Run by :class:`~hyperdeme.launchers._watchdog.Watchdog` as
``python -I -S <this file> GRACE RECORD MARK CGROUP`` (see that module for the whole
design). It reads JSON lines on stdin until the pipe closes (the driver is gone)
or ``{"op": "exit"}`` comes (the run is over), then stops what is still held:

* ``{"op": "hold", "key": K, "pgid": P}``: process group ``P`` (its leader's start
  time is read now, so a pid reused later is never signalled);
* ``{"op": "hold", "key": K, "argv": [...], "env": {...} | null}``: a clean-up
  command to run (``scancel``, ``qdel``, ``kubectl delete``);
* ``{"op": "release", "key": K}``: withdraws hold ``K``.

What is held is kept in RECORD (rewritten at most every 0.1 s; a full disk only
makes it lag), which :func:`~hyperdeme.launchers._watchdog.reap` hands to
:func:`stop` when the watchdog died with its driver. MARK is the run's
``HYPERDEME_RUN`` token: every process carrying it is stopped too. CGROUP, when
not empty, is the run's cgroup (v2, see :mod:`._contain`): every process in it or in
its children is stopped (``cgroup.kill`` after the grace) and the cgroups removed.

Standard library only, and only what every run needs is imported at start
(``subprocess`` when there is a command to run): this file runs in a bare
interpreter, once per run. The driver imports it too, for :func:`stop` and its
path; nothing here runs on import.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import sys
import time

TYPE_CHECKING = False  # not typing's: the program never imports typing (mypy knows the name)
if TYPE_CHECKING:
    import subprocess
    from collections.abc import Iterable, Mapping, Sequence
    from typing import Any, TypedDict

    class Entry(TypedDict, total=False):
        """What one hold holds: a process group or a clean-up command."""

        pgid: int
        start: str | None  # the group leader's start time when held
        argv: list[str]
        env: dict[str, str] | None


#: how often what is held is written to the record, at most (seconds)
SAVE_EVERY = 0.1
#: how often the groups are polled while they have ``grace`` to end (seconds)
POLL = 0.05
#: sweeps for marked processes after the SIGKILL (one every ``POLL``)
SWEEPS = 20


def start_time(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, from ``/proc``), if it runs."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return None


def save(record: str, *, mark: str, held: Mapping[int, Entry], cgroup: str = "") -> None:
    """Write what is held to ``record`` (atomically); on a full disk the record lags."""
    if not record:
        return
    tmp = record + ".tmp"
    try:
        # never through a link planted in the run directory
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        with open(fd, "w") as f:
            saved: dict[str, object] = {"mark": mark, "held": list(held.values())}
            if cgroup:
                saved["cgroup"] = cgroup
            json.dump(saved, f)
        os.replace(tmp, record)
    except OSError:
        # a full disk: the record lags, the watchdog goes on; no partial file is left
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def marked(mark: str, *, name: str = "HYPERDEME_RUN") -> set[int]:
    """The process groups of every process carrying the run's mark (or the environment
    variable ``name`` set to ``mark``), this one's excepted."""
    groups: set[int] = set()
    if not mark:
        return groups
    needle = name.encode() + b"=" + mark.encode() + b"\0"
    try:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return groups
    me = os.getpid()
    for pid in pids:
        if pid == me:
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if needle in f.read() + b"\0":
                    groups.add(os.getpgid(pid))
        except OSError:
            pass  # ended meanwhile, or not ours to read
    groups.discard(os.getpgid(0))
    return groups


def signal_groups(groups: Iterable[int], sig: signal.Signals) -> None:
    for pgid in groups:
        with contextlib.suppress(OSError):  # gone already
            os.killpg(pgid, sig)


def alive(groups: Iterable[int]) -> set[int]:
    """The groups of ``groups`` that still have a process."""
    left: set[int] = set()
    for pgid in groups:
        try:
            os.killpg(pgid, 0)
            left.add(pgid)
        except OSError:
            pass
    return left


def held_groups(entries: Iterable[Entry]) -> set[int]:
    """The groups held, except those whose leader's pid was reused since it was held."""
    groups: set[int] = set()
    for entry in entries:
        if "pgid" in entry:
            now = start_time(entry["pgid"])
            if now is None or entry.get("start") in (None, now):
                groups.add(entry["pgid"])
    return groups


def stop(entries: Sequence[Entry], *, mark: str, grace: float, cgroup: str = "") -> None:
    """SIGTERM to the held and marked groups and to every process of ``cgroup``, the
    clean-up commands run, ``grace`` seconds for all to end, SIGKILL to what is left
    (``cgroup.kill``), sweeps until no marked process remains, and the cgroups removed."""
    groups = held_groups(entries) | marked(mark)
    signal_groups(groups, signal.SIGTERM)
    signal_pids(cgroup_pids(cgroup), signal.SIGTERM)
    commands = run_commands(entries)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        late = marked(mark) - groups  # started as the driver died
        signal_groups(late, signal.SIGTERM)
        groups = alive(groups | late)
        if not groups and not populated(cgroup):
            break
        time.sleep(POLL)
    signal_groups(groups | marked(mark), signal.SIGKILL)
    kill_cgroup(cgroup)
    # a process being started when the driver died carries the mark only once it
    # runs its program: sweep until none is left
    for _ in range(SWEEPS):
        late = marked(mark)
        if not late and not populated(cgroup):
            break
        signal_groups(late, signal.SIGKILL)
        kill_cgroup(cgroup)
        time.sleep(POLL)
    remove_cgroup(cgroup)
    wait_for(commands, until=deadline + 10)


def signal_pids(pids: Iterable[int], sig: signal.Signals) -> None:
    """``sig`` to each process; never to 0, 1 or below: ``kill(0)`` is the caller's own
    group, ``kill(-1)`` every process it may signal, 1 is init."""
    for pid in pids:
        if pid > 1:
            with contextlib.suppress(OSError):  # gone already
                os.kill(pid, sig)


def cgroup_pids(cgroup: str) -> list[int]:
    """The processes of ``cgroup`` and of its children (none when it is "" or gone)."""
    pids: list[int] = []
    if not cgroup:
        return pids
    for directory, _, _ in os.walk(cgroup):
        with contextlib.suppress(OSError), open(os.path.join(directory, "cgroup.procs")) as f:
            # a process of another PID namespace than the reader's is listed as 0
            pids += [pid for pid in map(int, f.read().split()) if pid > 0]
    return pids


def populated(cgroup: str) -> bool:
    """Whether a process still lives in ``cgroup`` or its children (``cgroup.events``)."""
    if not cgroup:
        return False
    try:
        with open(os.path.join(cgroup, "cgroup.events"), "rb") as f:
            return b"populated 1" in f.read()
    except OSError:
        return False  # removed: nothing lives in it


def kill_cgroup(cgroup: str) -> None:
    """SIGKILL to every process of ``cgroup`` and its children: ``cgroup.kill`` (Linux
    5.14), else each process read from ``cgroup.procs`` (a fork meanwhile may escape
    that one, the next sweep gets it)."""
    if not cgroup or not populated(cgroup):
        return
    try:
        with open(os.path.join(cgroup, "cgroup.kill"), "w") as f:
            f.write("1")
    except OSError:
        signal_pids(cgroup_pids(cgroup), signal.SIGKILL)


def remove_cgroup(cgroup: str, *, within: float = 5.0) -> None:
    """Remove ``cgroup`` and its children, deepest first; what still has a process (a
    SIGKILLed one still exiting, on a loaded machine) is tried again for ``within`` s."""
    if not cgroup:
        return
    deadline = time.monotonic() + within
    while True:
        for directory, _, _ in os.walk(cgroup, topdown=False):
            with contextlib.suppress(OSError):
                os.rmdir(directory)
        if not os.path.isdir(cgroup) or time.monotonic() > deadline:
            return
        kill_cgroup(cgroup)
        time.sleep(POLL)


def run_commands(entries: Iterable[Entry]) -> list[subprocess.Popen[bytes]]:
    """Start the clean-up commands held (output discarded); those that cannot start are skipped."""
    argvs = [(entry["argv"], entry.get("env")) for entry in entries if "argv" in entry]
    if not argvs:
        return []
    import subprocess  # only runs holding a command (Slurm, PBS, Kubernetes) pay for it

    started: list[subprocess.Popen[bytes]] = []
    for argv, env in argvs:
        with contextlib.suppress(OSError):  # not installed, not allowed: the others run
            started.append(
                subprocess.Popen(
                    argv,
                    env=env or None,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
    return started


def wait_for(commands: Sequence[subprocess.Popen[bytes]], *, until: float) -> None:
    """Wait for the clean-up commands until ``until`` (and at least 1 s each); kill the late."""
    if not commands:
        return
    import subprocess  # imported already: run_commands started them

    for command in commands:
        try:
            command.wait(timeout=max(1.0, until - time.monotonic()))
        except subprocess.TimeoutExpired:
            command.kill()


def apply(held: dict[int, Entry], message: Any) -> bool:
    """Apply one message (a decoded JSON line) to what is held; True on the driver's goodbye."""
    op: str = message.pop("op")
    if op == "hold":
        key = message.pop("key")
        if "pgid" in message:
            message.setdefault("start", start_time(message["pgid"]))
        held[key] = message  # the rest is an Entry
    elif op == "release":
        held.pop(message["key"], None)
    return op == "exit"


def split(pending: bytes, chunk: bytes) -> tuple[list[bytes], bytes]:
    """The whole lines of ``pending + chunk``, and what follows the last of them."""
    *lines, rest = (pending + chunk).split(b"\n")
    return lines, rest


def watch(fd: int, *, record: str, mark: str, cgroup: str = "") -> dict[int, Entry]:
    """Read messages from ``fd`` until the driver says goodbye or is gone; what is held then.

    What is held is saved to ``record`` at most every ``SAVE_EVERY`` seconds, so a
    process start costs no file write.
    """
    held: dict[int, Entry] = {}
    pending = b""
    dirty = True  # the record is written once at start: it names the mark and the cgroup
    last_save = 0.0
    while True:
        ready, _, _ = select.select([fd], [], [], SAVE_EVERY if dirty else None)
        if not ready:
            save(record, mark=mark, cgroup=cgroup, held=held)
            dirty, last_save = False, time.monotonic()
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            return held  # the driver is gone
        lines, pending = split(pending, chunk)
        for line in lines:
            if apply(held, json.loads(line)):
                return held
            dirty = True
        if dirty and time.monotonic() - last_save >= SAVE_EVERY:
            save(record, mark=mark, cgroup=cgroup, held=held)
            dirty, last_save = False, time.monotonic()


def main(argv: Sequence[str]) -> None:
    """``GRACE RECORD MARK CGROUP``: watch stdin, stop what is held at the end, remove
    the record."""
    grace, record, mark = float(argv[0]), argv[1], argv[2]
    cgroup = argv[3] if len(argv) > 3 else ""
    held = watch(0, record=record, mark=mark, cgroup=cgroup)
    stop(list(held.values()), mark=mark, grace=grace, cgroup=cgroup)
    if record:
        with contextlib.suppress(OSError):
            os.unlink(record)


if __name__ == "__main__":
    main(sys.argv[1:])
