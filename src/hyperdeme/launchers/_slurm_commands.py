"""Slurm command lines and their output, as pure functions (compared by the tests)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence

__all__ = [
    "NODE_FAILURE",
    "JobInfo",
    "parse_granted",
    "parse_job",
    "parse_node_states",
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
) -> list[str]:
    """One job step on exactly ``nodelist``, running ``command`` through ``sh -c``.

    One task per node unless ``launch_args`` chooses the task layout itself.
    """
    extra = shlex.split(launch_args)
    tasks = [] if any(_TASK_OPTIONS.match(arg) for arg in extra) else [f"--ntasks={len(nodelist)}"]
    return [
        "srun", f"--jobid={jobid}", f"--nodes={len(nodelist)}",
        f"--nodelist={','.join(nodelist)}", *tasks, "--exact", f"--job-name={name}",
        "--kill-on-bad-exit=1", *extra, "/bin/sh", "-c", command,
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
