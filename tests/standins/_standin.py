"""What the stand-in workload-manager tools share: a spool lock and process-group kills.

The stand-ins (``qsub``/``qstat``/``qdel``/``pbsdsh``, ``kubectl``) keep their
"server" state as JSON files in a spool directory and run jobs as background
process groups, like the daemons of the real tools.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    """Exclusive access to the spool (another stand-in call may run concurrently)."""
    with open(directory / "lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def kill_group(pgid: int) -> None:
    """SIGTERM, 2 s grace, SIGKILL; returns once no process of the group runs."""
    for sig, wait in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not group_alive(pgid):
                return
            time.sleep(0.01)


def group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs (zombies awaiting their reaper don't)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as file:
                fields = file.read().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def injected_failure(directory: Path, switch: str, message: str, code: int) -> None:
    """Fail this call (print ``message``, exit ``code``) while the ``switch`` counter lasts.

    ``$<switch>=N`` (read once per spool, when ``<spool>/<switch>`` does not exist
    yet) makes the next N calls fail; the count left is in ``<spool>/<switch>``
    (tests may write it too), and each failed call appends a line to
    ``<spool>/<switch>.log``, so a test can show the failures happened.
    """
    counter = directory / switch
    with locked(directory):
        if not counter.exists():
            counter.write_text(os.environ.get(switch, "0") or "0")
        left = int(counter.read_text() or "0")
        if left <= 0:
            return
        counter.write_text(str(left - 1))
        with open(directory / f"{switch}.log", "a") as log:
            log.write(" ".join(sys.argv[1:]) + "\n")
    print(message, file=sys.stderr)
    sys.exit(code)


def server_environment(prefix: str) -> dict[str, str]:
    """The environment of a "server-side" process (the batch server, the kubelet): not
    the client's. Only PATH, HOME, LANG and the stand-in's own ``<prefix>*`` settings
    pass, so nothing of the driver (its run mark ``HYPERDEME_RUN`` included, which its
    watchdog sweeps) reaches the daemons, as on a real cluster."""
    return {key: value for key, value in os.environ.items()
            if key in ("PATH", "HOME", "LANG") or key.startswith(prefix)}  # fmt: skip


def leave_client_cgroup(pid: int) -> None:
    """Move server process ``pid`` (the batch server's job, the kubelet's pod) out of
    the client's hyperdeme cgroup, into the cgroup above the run's: a cluster's
    servers are no descendants of the client, and hyperdeme stops what a trial's
    command leaves in the trial's cgroup (``hyperdeme.launchers._contain``). Done by
    the client before it returns, while the server is still starting; a no-op
    outside such a cgroup."""
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            own = next(line[3:].strip() for line in f if line.startswith("0::"))
        if "/hyperdeme-" not in own:
            return
        with open("/proc/self/mountinfo") as f:
            mount = next(line.split()[4] for line in f if " - cgroup2 " in line)
        above = own.split("/hyperdeme-", 1)[0]
        with open(os.path.join(mount, above.lstrip("/"), "cgroup.procs"), "w") as f:
            f.write(str(pid))
    except (OSError, StopIteration):
        pass  # gone already, or no cgroup v2: nothing holds it
