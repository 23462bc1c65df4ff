"""Slurm command lines and their output, as pure functions (compared by the tests)."""

from __future__ import annotations

import datetime
import re
import shlex
import time
from collections.abc import Mapping, Sequence

from ._allocation import AllocationState

__all__ = [
    "NEVER_CLEARS",
    "NODE_FAILURE",
    "JobInfo",
    "allocation_state",
    "parse_granted",
    "parse_job",
    "parse_node_states",
    "parse_pending",
    "parse_steps",
    "salloc_argv",
    "slurm_environment",
    "srun_argv",
]

#: srun's own words for a step lost to its node (not the program's failure)
#: srun's own words for a step lost with its node (measured with Slurm 22.05). Note
#: that srun exits 0 after "Node failure on n2" although the task never finished.
NODE_FAILURE = re.compile(
    r"srun: error: Node failure on"
    r"|CANCELLED AT \S+ DUE TO NODE FAILURE"
    r"|Communication connection failure"
    r"|Unable to create step for job \d+: Requested node configuration is not available",
)
_TASK_OPTIONS = re.compile(r"^(?:-n\d*|--ntasks(?:=.*)?|--ntasks-per-node(?:=.*)?)$")
_OUTPUT_OPTIONS = re.compile(r"^(?:-o.*|--output(?:=.*)?)$")
#: job states of an allocation evaluations can still run in (``COMPLETING`` is ending)
_ALIVE = frozenset({"RUNNING", "CONFIGURING", "SUSPENDED", "RESIZING"})
#: how a job ended, in words (``scontrol show job``'s JobState)
_ENDINGS = {
    "TIMEOUT": "its time limit ran out",
    "CANCELLED": "it was cancelled (scancel)",
    "PREEMPTED": "it was preempted",
    "NODE_FAIL": "its nodes failed",
    "DEADLINE": "its deadline passed",
    "BOOT_FAIL": "its nodes failed to boot",
    "OUT_OF_MEMORY": "it ran out of memory",
    "COMPLETING": "it is ending",
    "COMPLETED": "it ended",
    "FAILED": "it ended",
    "GONE": "Slurm no longer knows it",
}
#: pending reasons (squeue's %r) that waiting never clears (the cluster's limits and
#: configuration refuse the request; with ``EnforcePartLimits=NO`` Slurm queues it anyway).
#: Not ``PartitionConfig``: a 3-node request on the 2-node test cluster read it right
#: after the nodes' previous job ended, before PartitionNodeLimit; it can clear.
NEVER_CLEARS = frozenset({
    "PartitionNodeLimit", "PartitionTimeLimit", "BadConstraints",
    "InvalidAccount", "InvalidQOS", "AccountNotAllowed", "QOSNotAllowed",
    "PartitionDown", "PartitionInactive", "DependencyNeverSatisfied",
})  # fmt: skip
#: job variables inherited from an enclosing job that would confuse a nested srun
_KEEP = frozenset({"SLURM_CONF"})


def slurm_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` without inherited ``SLURM_*``/``SRUN_*`` job variables (but ``SLURM_CONF``)."""
    return {
        key: value
        for key, value in environ.items()
        if key in _KEEP or not key.startswith(("SLURM_", "SRUN_"))
    }


def salloc_argv(*, nodes: int, minutes: int, name: str, extra: str = "") -> list[str]:
    """Make an allocation without a shell.

    ``--exclusive``: whole nodes (a bare ``-N1`` gets one CPU, and ``--exact``
    steps would then run one after another); ``--no-kill``: a node failure
    shrinks the allocation instead of ending it.
    """
    return [
        "salloc", "--no-shell", "--no-kill", "--exclusive", f"--nodes={nodes}",
        f"--time={minutes}",
        f"--job-name={name}", *shlex.split(extra),
    ]  # fmt: skip


def srun_argv(
    *,
    jobid: int,
    nodelist: Sequence[str],
    command: str,
    name: str,
    launch_args: str = "",
    tasks_per_node: int = 1,
    single_task: bool = False,
) -> list[str]:
    """One job step on ``nodelist``, running ``command`` through ``sh -c``.

    ``tasks_per_node`` tasks on each node (one by default, as MPI code expects),
    unless ``launch_args`` chooses the task layout itself; ``single_task``: one
    task on the first node, which starts the others itself (torchrun, mpirun; the
    hosts are in ``HYPERDEME_HOSTS``). Only task 0's stdout reaches hyperdeme
    (``--output=0``: the FoM is rank 0's), unless ``launch_args`` redirects it.
    """
    extra = shlex.split(launch_args)
    if single_task:
        nodelist = nodelist[:1]
        tasks = ["--ntasks=1"]
    elif any(_TASK_OPTIONS.match(arg) for arg in extra):
        tasks = []
    else:
        tasks = [f"--ntasks={len(nodelist) * tasks_per_node}"]
        tasks += [f"--ntasks-per-node={tasks_per_node}"] if tasks_per_node > 1 else []
    output = [] if any(_OUTPUT_OPTIONS.match(arg) for arg in extra) else ["--output=0"]
    return [
        "srun", f"--jobid={jobid}", f"--nodes={len(nodelist)}",
        f"--nodelist={','.join(nodelist)}", *tasks, "--exact", f"--job-name={name}",
        "--kill-on-bad-exit=1", *output, *extra, "/bin/sh", "-c", command,
    ]  # fmt: skip


def parse_granted(stderr: str) -> int | None:
    """The job id from salloc's "Granted job allocation 123"."""
    match = re.search(r"Granted job allocation (\d+)", stderr)
    return int(match.group(1)) if match else None


class JobInfo(dict[str, str]):
    """``scontrol show job -o`` fields."""

    @property
    def state(self) -> str:
        return self.get("JobState", "")

    @property
    def nodelist(self) -> str:
        return self.get("NodeList", "")


def parse_job(text: str) -> JobInfo:
    """Fields of one ``scontrol show job -o`` line (``Key=Value`` pairs)."""
    info = JobInfo()
    for token in text.split():
        key, sep, value = token.partition("=")
        if sep and key not in info:
            info[key] = value
    return info


def parse_node_states(text: str) -> dict[str, str]:
    """NodeName -> State from ``scontrol show node -o`` output."""
    states: dict[str, str] = {}
    for line in text.splitlines():
        fields = parse_job(line)
        if "NodeName" in fields:
            states[fields["NodeName"]] = fields.get("State", "")
    return states


def node_is_down(state: str) -> bool:
    return any(flag in state for flag in ("DOWN", "NOT_RESPONDING", "FAIL", "DRAIN", "*"))


def parse_steps(text: str) -> dict[str, str]:
    """step name -> step id (``<job>.<step>``) from ``squeue -h -s -o '%i|%j'``."""
    steps: dict[str, str] = {}
    for line in text.splitlines():
        step_id, sep, name = line.strip().partition("|")
        if sep:
            steps[name] = step_id
    return steps


def allocation_state(
    jobid: int, code: int, out: str, err: str, *, now: float | None = None
) -> AllocationState | None:
    """The allocation's state from ``scontrol show job -o <jobid>``'s outcome; None when
    the query itself failed (slurmctld busy: ask again later).

    A job past its ``EndTime`` has ended although it may read ``RUNNING`` for up to
    30 s more (slurmctld checks time limits periodically): Slurm already refuses its
    new steps ("Job/step already completing or completed"; measured on 22.05).
    """
    if code != 0:
        if "Invalid job id" in err:
            return AllocationState(str(jobid), "GONE", "ended", why=_ENDINGS["GONE"])
        return None
    info = parse_job(out)
    state = info.state.split("+")[0]
    reason = info.get("Reason", "")
    if state in _ALIVE and _past(info.get("EndTime", ""), time.time() if now is None else now):
        return AllocationState(str(jobid), "TIMEOUT", "ended", "TimeLimit", _ENDINGS["TIMEOUT"])
    if state in _ALIVE:
        return AllocationState(str(jobid), state, "running", reason)
    if state in {"PENDING", "REQUEUED"}:
        return AllocationState(str(jobid), state, "pending", reason)
    return AllocationState(str(jobid), state, "ended", reason, _ENDINGS.get(state, "it ended"))


def parse_pending(text: str) -> tuple[str, str] | None:
    """``(job id, reason)`` of a pending job from ``squeue -h -o '%i|%T|%r'``; None when
    the job is not pending (granted, or not yet listed)."""
    for line in text.splitlines():
        job, _, rest = line.strip().partition("|")
        state, _, reason = rest.partition("|")
        if state == "PENDING":
            return job, reason.strip()
    return None


def _past(end_time: str, now: float) -> bool:
    """True when ``scontrol``'s EndTime (local time, ``2026-12-07T06:29:42``) has passed."""
    try:
        end = datetime.datetime.strptime(end_time, "%Y-%m-%dT%H:%M:%S").timestamp()
    except ValueError:  # Unknown, None: no limit
        return False
    return end <= now
