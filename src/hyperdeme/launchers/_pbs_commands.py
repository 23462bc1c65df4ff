"""PBS command lines, job scripts and the tools' output, as pure functions.

Covers PBS Pro / OpenPBS (``flavour="pbspro"``) and Torque (``"torque"``).
The tests compare what these functions build and feed them the tools' output.

Exit status (``Exit_status`` in ``qstat -f``) to ``returncode``:

* ``0``-``255``: the job script's own exit status (``128+N`` when its
  program died of signal N, as the shell reports it), kept as is;
* ``> 256``: the job was killed by signal ``status - 256`` (``271`` after
  ``qdel``: SIGTERM), mapped to ``-signal`` like ``subprocess``;
* ``-24`` to ``-29`` (``JOB_EXEC_KILL_*``: walltime, memory, CPU limits):
  PBS killed it, mapped to ``-9`` (SIGKILL), like an evaluation timeout;
* other negative values (``JOB_EXEC_FAIL1``, ``JOB_EXEC_RETRY`` ...): PBS
  could not start the job; :func:`is_exec_failure` says so and the launcher
  raises a :class:`~hyperdeme.TransientLauncherError` (worth another attempt).
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .._core._checks import is_shell_name
from .._core._errors import ConfigError

__all__ = [
    "FINISHED_STATES",
    "NEVER_RUNS",
    "UNKNOWN_JOB",
    "Flavour",
    "JobStatus",
    "ended_why",
    "exports",
    "is_exec_failure",
    "job_script",
    "killed_by_limit",
    "parse_qstat_full",
    "parse_qstat_json",
    "parse_qsub_output",
    "pbs_job_name",
    "pbsdsh_argv",
    "qdel_argv",
    "qstat_argv",
    "qsub_argv",
    "read_nodefile",
    "remote_command",
    "returncode_of",
    "walltime",
]

Flavour = Literal["pbspro", "torque"]

#: ``job_state`` of a job that will not change any more (PBS: F, X; Torque: C)
FINISHED_STATES = frozenset({"F", "X", "C"})
#: ``job_state`` of a job that waits to start (queued, held, waiting)
WAITING_STATES = frozenset({"Q", "H", "W", "T"})
#: the scheduler's ``comment`` on a queued job whose request exceeds what the complex
#: has (``Can Never Run: Insufficient amount of resource: mem (R: 1000gb A: 24105mb``)
NEVER_RUNS = re.compile(r"^\s*Can Never Run\b", re.IGNORECASE)
#: qstat/qdel on a job the server no longer knows (finished, history off)
UNKNOWN_JOB = re.compile(r"Unknown Job Id", re.IGNORECASE)
_NAME_LIMIT = {"pbspro": 236, "torque": 15}
_NOT_NAME = re.compile(r"[^A-Za-z0-9_.-]+")
_FIELD = re.compile(r"^\s*(job_state|exit_status)\s*=\s*(\S+)", re.IGNORECASE | re.MULTILINE)
_RESOURCE_LIMIT_KILLS = range(-29, -23)  # JOB_EXEC_KILL_NCPUS_BURST (-24) .. _WALLTIME (-29)


@dataclass(frozen=True, slots=True)
class JobStatus:
    """What ``qstat -f`` says about one job."""

    state: str
    exit_status: int | None = None
    #: the scheduler's words on it (``Not Running: Queue not started.``)
    comment: str = ""
    #: ``resources_used.walltime`` and ``Resource_List.walltime`` in seconds, if given
    walltime_used: int | None = None
    walltime_limit: int | None = None

    @property
    def finished(self) -> bool:
        return self.state in FINISHED_STATES

    @property
    def waiting(self) -> bool:
        """Not started yet: queued, held, waiting (its ``comment`` says why)."""
        return self.state in WAITING_STATES

    @property
    def never_runs(self) -> bool:
        """The scheduler said it can never run (a request beyond the complex)."""
        return self.waiting and bool(NEVER_RUNS.search(self.comment))

    @property
    def ending(self) -> bool:
        """Finished or exiting (``E``): an allocation that is over."""
        return self.finished or self.state == "E" or self.exit_status is not None


def read_nodefile(text: str) -> dict[str, int]:
    """Hosts of ``$PBS_NODEFILE`` in order, each with the index of its first line.

    The node file has one line per MPI process; that index is the host's
    task-manager node number, which ``pbsdsh -n`` takes.
    """
    hosts: dict[str, int] = {}
    for index, line in enumerate(text.splitlines()):
        host = line.strip()
        if host and host not in hosts:
            hosts[host] = index
    return hosts


def pbs_job_name(label: str, flavour: Flavour) -> str:
    """``label`` as a PBS job name: ``[A-Za-z0-9_.-]``, starts with a letter, short enough.

    Torque keeps 15 characters: the end of the label (the trial id) is kept.
    """
    name = _NOT_NAME.sub("-", label).strip("-") or "hyperdeme"
    if not name[0].isalpha():
        name = "h" + name
    limit = _NAME_LIMIT[flavour]
    if len(name) > limit:
        name = "h" + name[-(limit - 1) :].lstrip("-")
    return name


def walltime(minutes: int) -> str:
    """``HH:MM:SS`` for ``minutes``."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}:00"


def exports(env: Mapping[str, str]) -> list[str]:
    """``export KEY=value`` lines, values shell-quoted; a key that is no shell name is
    refused (the engine refuses it earlier, when the Evaluator is built)."""
    for key in env:
        if not is_shell_name(key):
            raise ConfigError(
                f"environment variable name {key!r} cannot be exported by a shell; use "
                "letters, digits and '_', not starting with a digit.",
                name=f"env.{key}",
                value=key,
            )
    return [f"export {key}={shlex.quote(value)}" for key, value in env.items()]


def remote_command(
    command: str,
    *,
    cwd: Path | str,
    env: Mapping[str, str],
    stdout_path: Path | str,
    stderr_path: Path | str,
    status_path: Path | str,
) -> str:
    """The ``sh -c`` text that runs ``command`` where neither cwd nor env is carried.

    ``cd`` to ``cwd``, export ``env``, run the command through ``/bin/sh -c``
    with its output in ``stdout_path``/``stderr_path``, and record its exit
    status in ``status_path``, all on the shared file system: a task started
    by ``pbsdsh`` writes to the PBS job's own output, not to ``pbsdsh``'s, and
    PBS Pro's ``pbsdsh`` exits 0 whatever its task did.
    """
    exported = "".join(f"{line}; " for line in exports(env))
    q = shlex.quote
    return (
        f"{{ cd {q(str(cwd))} && {{ {exported}/bin/sh -c {q(command)}; }}; }}"
        f" > {q(str(stdout_path))} 2> {q(str(stderr_path))}; "
        f"status=$?; echo $status > {q(str(status_path))}; exit $status"
    )


def pbsdsh_argv(node_index: int, remote: str) -> list[str]:
    """Run ``remote`` (see :func:`remote_command`) on task-manager node ``node_index``.

    ``-n`` is understood by both PBS Pro and Torque (``-h host`` is Torque's only).
    """
    return ["pbsdsh", "-n", str(node_index), "--", "/bin/sh", "-c", remote]


def job_script(
    *,
    name: str,
    command: str,
    cwd: Path | str,
    env: Mapping[str, str],
    nodes: int,
    flavour: Flavour,
    minutes: int,
    status_path: Path | str,
    stdout_path: Path | str,
    stderr_path: Path | str,
    alloc_args: str = "",
) -> str:
    """A batch script running ``command`` in ``cwd`` with ``env`` on ``nodes`` nodes.

    Its first command sends the script's output to ``stdout_path`` and
    ``stderr_path`` (``exec >``): the job writes them itself, as it runs,
    whatever PBS does with its own ``-o``/``-e`` streams (spooled and copied at
    the job's end by default).

    The node request is left to ``alloc_args`` when it has one (``select=``,
    ``nodes=``), and the placement when it says ``place=``. The exit status is
    also written to ``status_path``, for servers that forget finished jobs.
    Every path, value and the command are shell-quoted. No path goes into a
    ``#PBS`` directive, which cannot be quoted: the output files are given to
    qsub on its command line (:func:`qsub_argv`).
    """
    directives = [f"-N {name}"]
    if not re.search(r"\b(select|nodes)=", alloc_args):
        if flavour == "torque":
            directives.append(f"-l nodes={nodes}")
        else:
            directives.append(f"-l select={nodes}")
            if nodes > 1 and "place=" not in alloc_args:
                directives.append("-l place=scatter")
    if minutes > 0:
        directives.append(f"-l walltime={walltime(minutes)}")
    lines = ["#!/bin/sh", *(f"#PBS {directive}" for directive in directives)]
    q = shlex.quote
    lines.append(f"exec > {q(str(stdout_path))} 2> {q(str(stderr_path))}")
    lines.append(f"cd {q(str(cwd))} || exit 1")
    lines += exports(env)
    lines += [
        f"/bin/sh -c {shlex.quote(command)}",
        "status=$?",
        f"echo $status > {shlex.quote(str(status_path))}",
        "exit $status",
    ]
    return "\n".join(lines) + "\n"


def qsub_argv(
    script: Path | str,
    alloc_args: str = "",
    *,
    stdout_path: Path | str,
    stderr_path: Path | str,
) -> list[str]:
    """Submit ``script``, PBS's own output streams to ``stdout_path``/``stderr_path``
    (what the job writes before its ``exec >`` and PBS's messages, such as a walltime
    kill); ``alloc_args`` on the command line win over the script's directives.

    The paths are arguments (no shell, no directive parsing): a run path with
    spaces or shell metacharacters reaches PBS as it is.
    """
    return [
        "qsub", "-o", str(stdout_path), "-e", str(stderr_path), *shlex.split(alloc_args),
        str(script),
    ]  # fmt: skip


def parse_qsub_output(stdout: str) -> str | None:
    """The job id qsub printed (``123.server``), or None."""
    for line in reversed(stdout.strip().splitlines()):
        word = line.strip()
        if re.fullmatch(r"\d+(?:\[\d*\])?(?:\.[\w.-]+)?", word):
            return word
    return None


def qstat_argv(jobid: str, *, flavour: Flavour, json_output: bool = True) -> list[str]:
    """Full status of one job, finished ones included.

    PBS Pro: ``-x`` includes finished jobs, ``-F json`` (PBS Pro 18+) gives JSON.
    Torque's ``-x`` means XML, and it keeps finished jobs as ``C`` by itself.
    """
    if flavour == "torque":
        return ["qstat", "-f", jobid]
    if json_output:
        return ["qstat", "-f", "-F", "json", "-x", jobid]
    return ["qstat", "-f", "-x", jobid]


def qdel_argv(jobid: str) -> list[str]:
    return ["qdel", jobid]


def parse_qstat_json(text: str, jobid: str) -> JobStatus | None:
    """``qstat -f -F json`` output (PBS Pro): the job's state and ``Exit_status``."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    jobs = data.get("Jobs") if isinstance(data, dict) else None
    if not isinstance(jobs, dict) or not jobs:
        return None
    info: Any = jobs.get(jobid)
    if info is None:
        short = jobid.split(".")[0]
        matches = [v for k, v in jobs.items() if k.split(".")[0] == short]
        info = matches[0] if len(matches) == 1 else None
    if not isinstance(info, dict) or "job_state" not in info:
        return None
    exit_status = info.get("Exit_status", info.get("exit_status"))
    used, limit = info.get("resources_used"), info.get("Resource_List")
    return JobStatus(
        str(info["job_state"]),
        _int_or_none(exit_status),
        comment=str(info.get("comment", "")),
        walltime_used=_seconds(used.get("walltime")) if isinstance(used, dict) else None,
        walltime_limit=_seconds(limit.get("walltime")) if isinstance(limit, dict) else None,
    )


def ended_why(status: JobStatus) -> str:
    """A few plain words on how a job (an allocation) ended, from ``qstat -f``."""
    code = status.exit_status
    used, limit = status.walltime_used, status.walltime_limit
    if code == -29 or (used is not None and limit is not None and used >= limit):
        text = f"{limit // 3600:02d}:{limit // 60 % 60:02d}:{limit % 60:02d}" if limit else "?"
        return f"its walltime ({text}) ran out"
    if code is not None and killed_by_limit(code):
        return f"PBS killed it for exceeding a resource limit (Exit_status {code})"
    if code is not None and code > 256:
        return f"it was deleted (qdel) or killed by signal {code - 256}"
    if "terminated by" in status.comment or code is None:
        return "it was deleted (qdel) or killed"
    return f"it finished (Exit_status {code})"


def parse_qstat_full(text: str) -> JobStatus | None:
    """``qstat -f`` text (Torque, older PBS Pro): ``job_state`` and ``exit_status``."""
    fields: dict[str, str] = {}
    for key, value in _FIELD.findall(text):
        fields.setdefault(key.lower(), value)
    if "job_state" not in fields:
        return None
    return JobStatus(fields["job_state"], _int_or_none(fields.get("exit_status")))


def returncode_of(exit_status: int) -> int:
    """``Exit_status`` as a ``subprocess``-style return code (see the module docstring)."""
    if exit_status > 256:
        return -(exit_status - 256)
    if exit_status in _RESOURCE_LIMIT_KILLS:
        return -9
    return exit_status


def is_exec_failure(exit_status: int) -> bool:
    """True when PBS could not run the job at all (a negative ``JOB_EXEC_*`` code)."""
    return exit_status < 0 and exit_status not in _RESOURCE_LIMIT_KILLS


def killed_by_limit(exit_status: int) -> bool:
    """True when PBS killed the job for exceeding a limit (``JOB_EXEC_KILL_*``)."""
    return exit_status in _RESOURCE_LIMIT_KILLS


def _seconds(value: object) -> int | None:
    """``HH:MM:SS`` (or ``MM:SS``, ``SS``) as seconds."""
    if not isinstance(value, str):
        return None
    try:
        parts = [int(part) for part in value.strip().split(":")]
    except ValueError:
        return None
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None
