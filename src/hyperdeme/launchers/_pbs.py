"""PBS Pro, OpenPBS and Torque: ``pbsdsh`` inside a job, ``qsub`` outside one.

**Inside a PBS job** (``PBS_NODEFILE`` is set) the evaluations share the job's
hosts: the unique lines of the node file (``total_nodes`` is their count). Each
evaluation gets ``job.nodes`` free hosts and runs on the first one with
``pbsdsh -n <index>`` (``-n`` works on PBS Pro and Torque; ``-h host`` is
Torque's only); all its hosts are exported to the program as
``HYPERDEME_HOSTS`` (comma-separated) for it to start its own multi-node work
(``mpirun --host $HYPERDEME_HOSTS``). ``pbsdsh`` carries neither the working
directory nor the environment, a task's output goes to the PBS job's own output
rather than to ``pbsdsh``, and PBS Pro's ``pbsdsh`` exits 0 whatever its task
did. So the ``sh -c`` text carries it all (``cd <cwd>``, ``export ...`` of the
driver's ``PATH`` and the job's variables, output and exit status redirected to
files in ``<cwd>/.hyperdeme/pbs/``, which must be on a file system shared with
the job's hosts, as for any PBS job). The output file is followed while the
task runs (every ``poll_interval`` seconds) and the stderr file copied when it
ends, into the trial's logs. Stopping it: ``pbsdsh`` is signalled with the rest
of its process group (SIGTERM, grace, SIGKILL); on SIGTERM it kills its remote
task through the task manager (``tm_kill``) before exiting.

**Outside a job** each evaluation is a batch job: a script written to
``<cwd>/.hyperdeme/pbs/`` (``#PBS -N``, a node request ``-l select=<k>``
on PBS Pro or ``-l nodes=<k>`` on Torque, ``-l walltime`` from
``alloc_timeout`` minutes), submitted with ``qsub -o <pbs.out> -e <pbs.err>
<alloc_args> <script>``: the output files are qsub arguments, not ``#PBS``
directives, which cannot quote a path with spaces. The script exports the
driver's ``PATH`` (PBS gives a job the MOM's, see :meth:`PbsLauncher._carried`)
and the job's variables. The job is polled every
``poll_interval`` seconds (``launcher_options``, default 2) with ``qstat -f
-F json -x`` (PBS Pro) or ``qstat -f`` (Torque, and PBS Pro before JSON
output). At each poll what the job appended to its output file is copied into
the trial's stdout log, so FoMs printed while it trains reach the engine
(early stopping); the rest, and the error file, when it ends.

*Where the output is written while the job runs.* By default (``Keep_Files``
``n``) PBS Pro / OpenPBS spool a job's streams on the execution host and copy
them to the ``-o``/``-e`` paths only when the job ends; ``qsub -k od`` (direct
write) would make it write them as it goes, but Torque has no ``d``, a site may
forbid it, a user's ``-k`` in ``alloc_args`` would clash with ours, and OpenPBS
writes directly only where the MOM maps the destination (else it stages out
anyway). So the job writes its own output instead: the script's first command is
``exec > <label>.out 2> <label>.err`` in ``<cwd>/.hyperdeme/pbs/``, the
directory the exit-status file already needs on a file system shared with the
execution hosts. That is followed while the job runs, whatever ``-k`` says, on
every flavour. PBS's own ``-o``/``-e`` streams (``<label>.pbs.out``/``.pbs.err``:
what PBS itself reports, such as ``=>> PBS: job killed: walltime ...``) are
copied after the job's output, into the trial's stdout and stderr logs, once the
job ended. ``Exit_status`` becomes the return code as described in
:mod:`._pbs_commands`. Stopping it: ``qdel <id>``, shielded and bounded.
``launcher_options["pbs_flavour"]`` (``"pbspro"`` or ``"torque"``) skips asking
``qsub --version``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import anyio

from .._core._checks import number, one_of, optional
from .._core._errors import AllocationEnded, ConfigError, LauncherError, TransientLauncherError
from .._core._hosts import HostPool, PoolTooSmall
from .._core._logging import get_logger
from .._core._settings import Config
from ._allocation import ended_error
from ._base import Exit, Job, Launcher, OutputSink, launcher_files
from ._capture import capture, checked, command_error
from ._detect import parse_qsub_version
from ._extra import option
from ._follow import FileFollower, while_following
from ._options import LauncherOptions
from ._packing import packed, placed_devices, placed_info
from ._pbs_allocation import PendingJob, job_ended
from ._pbs_commands import (
    UNKNOWN_JOB,
    Flavour,
    JobStatus,
    is_exec_failure,
    job_script,
    killed_by_limit,
    parse_qstat_full,
    parse_qstat_json,
    parse_qsub_output,
    pbs_job_name,
    pbsdsh_argv,
    qdel_argv,
    qstat_argv,
    qsub_argv,
    read_nodefile,
    remote_command,
    returncode_of,
)
from ._poll import DEFAULT_POLL_INTERVAL, QueryFailed, poll_seconds, query
from ._process import run_process
from ._registry import register
from ._tail import Tail
from ._watchdog import guarded

__all__ = ["CARRIED", "HOSTS_VARIABLE", "PbsLauncher", "PbsOptions"]

log = get_logger("hyperdeme.launchers")

#: the hosts of a multi-node evaluation inside a PBS job, comma-separated
HOSTS_VARIABLE = "HYPERDEME_HOSTS"
#: the driver's variables exported to every evaluation (PBS gives jobs its own PATH)
CARRIED = ("PATH",)
_SUBMIT_LIMIT = 60.0
#: seconds to ask qstat whether the driver's own job is ending, after a task died
_ENDING_CHECK = 5.0


@dataclass(frozen=True, kw_only=True)
class PbsOptions(Config):
    """The keys of ``launcher_options`` the PBS launcher reads."""

    #: seconds between ``qstat`` polls (and reads of a running task's output)
    poll_interval: float = option(DEFAULT_POLL_INTERVAL, poll_seconds)
    #: ``"pbspro"`` or ``"torque"``: skips asking ``qsub --version``
    pbs_flavour: Flavour | None = option(None, optional(one_of(("pbspro", "torque"))))
    #: seconds an evaluation's job may wait in the queue before it is withdrawn
    alloc_wait: float = option(math.inf, number(0.0, above=True, infinite=True, unit="seconds"))


@register("pbs")
class PbsLauncher(Launcher):
    """Runs evaluations through PBS; see the module docstring."""

    launcher_options = PbsOptions
    packs_gpus = True

    def __init__(
        self,
        options: LauncherOptions,
        *,
        environ: Mapping[str, str] | None = None,
        grace: float | None = None,
    ) -> None:
        settings: PbsOptions = self.read_extra(options)
        self.options = options
        self.environ = dict(os.environ if environ is None else environ)
        self.grace = self.options.grace_period if grace is None else grace
        self.poll_interval = settings.poll_interval
        self.flavour: Flavour | None = settings.pbs_flavour
        self.alloc_wait = settings.alloc_wait
        #: set once the PBS job the driver runs in ended: every later evaluation raises it
        self._ended: AllocationEnded | None = None
        self.hosts: dict[str, int] = {}  # host -> pbsdsh node index, inside a job
        self._pool: HostPool[str] = HostPool(())
        self._json = True

    @property
    def total_nodes(self) -> int | None:
        return len(self.hosts) or self.options.nodes or None

    async def __aenter__(self) -> PbsLauncher:
        nodefile = self.environ.get("PBS_NODEFILE")
        if nodefile:
            try:
                text = await anyio.Path(nodefile).read_text()
            except OSError as error:
                raise LauncherError(
                    f"PBS_NODEFILE={nodefile} cannot be read ({error}); run inside a PBS job "
                    "or unset PBS_NODEFILE to submit each evaluation with qsub."
                ) from error
            self.hosts = read_nodefile(text)
            if not self.hosts:
                raise LauncherError(f"PBS_NODEFILE={nodefile} lists no hosts.")
            self._pool = HostPool(self.hosts)
            log.info("pbs.allocation", hosts=list(self.hosts), nodefile=nodefile)
        elif self.flavour is None:
            version = await checked(["qsub", "--version"], what="ask qsub for its version")
            found = parse_qsub_version(version)
            self.flavour = "torque" if found == "torque" else "pbspro"
            log.info("pbs.flavour", flavour=self.flavour, qsub_version=version.strip()[:80])
        return self

    async def run(self, job: Job) -> Exit:
        if self.hosts:
            return await self._run_in_job(job)
        if self.flavour is None:
            raise RuntimeError("enter the launcher (async with) before run()")
        return await self._run_as_job(job, self.flavour)

    def _carried(self) -> dict[str, str]:
        """The driver's variables every evaluation gets: its ``PATH``.

        PBS gives a batch job, and a ``pbsdsh`` task, the MOM's own ``PATH``
        (``/usr/local/bin:/usr/bin:/bin`` on OpenPBS), not the submitter's, which
        it keeps only as ``PBS_O_PATH`` (measured on the real server): ``python
        train.py`` from an activated venv would run another python, or none.
        Only ``PATH`` is carried, as the local and Slurm launchers' programs
        inherit it; the rest of the environment stays PBS's (``qsub -V`` in
        ``alloc_args`` carries all of it).
        """
        return {key: self.environ[key] for key in CARRIED if key in self.environ}

    # -- inside a PBS job: pbsdsh ---------------------------------------------

    async def _run_in_job(self, job: Job) -> Exit:
        if self._ended is not None:
            raise self._ended
        files = _Files.of(job)
        await files.prepare()
        self._pool = packed(self._pool, job)  # split into shares when it carries gpus=
        hosts = await self._take(max(1, job.nodes))
        devices = placed_devices(hosts, job)
        diagnostics = Tail()  # pbsdsh's own messages; the task's output goes to files
        stdout = FileFollower(files.stdout, job.stdout)
        try:
            remote = remote_command(
                job.command,
                cwd=job.cwd,
                env={**self._carried(), **job.env, HOSTS_VARIABLE: ",".join(hosts), **devices},
                stdout_path=files.stdout,
                stderr_path=files.stderr,
                status_path=files.status,
            )
            log.info("pbs.pbsdsh", hosts=hosts, trial=job.trial_id, attempt=job.attempt)
            argv = pbsdsh_argv(self.hosts[hosts[0]], remote)
            returncode = await while_following(
                lambda: stdout.follow(self.poll_interval),
                lambda: run_process(
                    argv, stdout=diagnostics, stderr=diagnostics, env=self.environ, grace=self.grace
                ),
            )
        finally:
            self._pool.give_back(hosts)
        stderr = Tail(job.stderr)
        await stdout.finish(wait=True)
        await FileFollower(files.stderr, stderr).finish(wait=True)
        status = await _read_status(files.status)
        await self._check_allocation(status, stderr.text)
        if status is None:
            raise TransientLauncherError(
                f"pbsdsh did not run the evaluation on {hosts[0]} (exit code {returncode}, no "
                f"exit status in {files.status}; is the working directory on a file system "
                f"shared with the job's hosts?): {diagnostics.text[-500:]}",
                command="pbsdsh", returncode=returncode, stderr_tail=stderr.text,
            )  # fmt: skip
        info = {"allocation": self.environ.get("PBS_JOBID", ""), **placed_info(devices)}
        return Exit(status, info=info)

    async def _check_allocation(self, status: int | None, stderr_tail: str) -> None:
        """Raise AllocationEnded when the task died with the PBS job the driver runs in.

        At walltime or ``qdel`` PBS signals every process of the job, the tasks and the
        driver alike (SIGTERM, then SIGKILL after ``kill_delay``): a task that died of a
        signal, or left no status, may be the job ending rather than its parameters.
        ``qstat`` of ``$PBS_JOBID`` is asked for a few seconds (the server learns of the
        end from the MOM a little later); meanwhile the driver's own SIGTERM may stop the
        run first, which journals the attempt cancelled, also run again on resume.
        """
        jobid = self.environ.get("PBS_JOBID")
        if not jobid or (status is not None and 0 <= status < 128):
            return
        state = None
        with anyio.move_on_after(_ENDING_CHECK):
            while state is None:
                state = await job_ended(jobid)
                if state is None:
                    await anyio.sleep(0.5)
        if state is None:
            return
        if self._ended is None:
            log.error("allocation.ended", job=state.id, state=state.state, why=state.why)
            self._ended = ended_error(state, scheduler="PBS", owned=False, stderr_tail=stderr_tail)
        raise self._ended

    async def _take(self, count: int) -> list[str]:
        try:
            return await self._pool.take(count)
        except PoolTooSmall:
            raise ConfigError(
                f"an evaluation needs {count} nodes but this PBS job has {len(self.hosts)}; "
                "lower nodes_per_eval or request more nodes (qsub -l select=N).",
                name="nodes_per_eval",
                value=count,
            ) from None

    # -- outside: one batch job per evaluation ------------------------------

    async def _run_as_job(self, job: Job, flavour: Flavour) -> Exit:
        files = _Files.of(job)
        await files.prepare()
        script = job_script(
            name=pbs_job_name(files.label, flavour),
            command=job.command,
            cwd=job.cwd,
            env={**self._carried(), **job.env, **placed_devices([], job)},
            nodes=max(1, job.nodes),
            flavour=flavour,
            minutes=self.options.alloc_timeout,
            status_path=files.status,
            stdout_path=files.stdout,
            stderr_path=files.stderr,
            alloc_args=self.options.alloc_args,
        )
        await anyio.Path(files.script).write_text(script)
        jobid = await self._submit(files, job.cwd)
        log.info("pbs.submitted", jobid=jobid, trial=job.trial_id, attempt=job.attempt)
        stdout = FileFollower(files.stdout, job.stdout)
        with guarded(qdel_argv(jobid)):  # should the driver die while the job runs
            try:
                exit_status = await self._wait(jobid, flavour, stdout)
            except BaseException:
                with anyio.CancelScope(shield=True), anyio.move_on_after(self.grace + 10):
                    await self._qdel(jobid)
                raise
        ran = exit_status is None or not is_exec_failure(exit_status)
        stderr = Tail(job.stderr)
        await stdout.finish(wait=ran)
        await FileFollower(files.stderr, stderr).finish(wait=ran)
        await _copy_if_any(files.pbs_stdout, job.stdout)  # PBS's own streams, staged out
        await _copy_if_any(files.pbs_stderr, stderr)
        if exit_status is None:  # the server forgot the job: trust the script's record
            exit_status = await _read_status(files.status)
        if exit_status is None:
            raise LauncherError(
                f"PBS job {jobid} finished but its exit status is unknown (the server keeps no "
                "history and the job wrote none; was it deleted by someone else?).",
                command="qstat", stderr_tail=stderr.text,
            )  # fmt: skip
        if is_exec_failure(exit_status):
            raise TransientLauncherError(
                f"PBS could not run job {jobid} (Exit_status={exit_status}, a JOB_EXEC_* code; "
                f"`qstat -xf {jobid}` tells why).",
                command="qsub", returncode=exit_status, stderr_tail=stderr.text,
            )  # fmt: skip
        if killed_by_limit(exit_status):
            log.warning("pbs.killed_by_limit", jobid=jobid, exit_status=exit_status)
        log.info("pbs.finished", jobid=jobid, exit_status=exit_status)
        return Exit(returncode_of(exit_status))

    async def _submit(self, files: _Files, cwd: Path) -> str:
        """qsub, shielded: once submitted, the job id is needed to qdel it."""
        argv = qsub_argv(
            files.script, self.options.alloc_args, stdout_path=files.pbs_stdout,
            stderr_path=files.pbs_stderr,
        )  # fmt: skip
        with anyio.CancelScope(shield=True), anyio.move_on_after(_SUBMIT_LIMIT):
            stdout = await checked(argv, what="submit the evaluation", cwd=cwd)
            jobid = parse_qsub_output(stdout)
            if jobid is None:
                raise LauncherError(
                    f"qsub printed no job id: {stdout.strip()[-300:]!r}", command=" ".join(argv)
                )
            return jobid
        raise TransientLauncherError(
            f"qsub did not answer within {_SUBMIT_LIMIT:g} s.", command=" ".join(argv)
        )

    async def _wait(self, jobid: str, flavour: Flavour, stdout: FileFollower) -> int | None:
        """Poll qstat until the job finished, following its output; its Exit_status (None:
        unknown)."""
        pending = PendingJob(jobid, self.alloc_wait)
        try:
            while True:
                status = await query(
                    lambda: self._status(jobid, flavour), interval=self.poll_interval, job=jobid
                )
                if status.finished:
                    return status.exit_status
                pending.check(status)
                await stdout.poll()
                await anyio.sleep(self.poll_interval)
        finally:
            pending.clear()

    async def _status(self, jobid: str, flavour: Flavour) -> JobStatus:
        """One status query; an unreadable answer raises QueryFailed."""
        argv = qstat_argv(jobid, flavour=flavour, json_output=self._json)
        returncode, stdout, stderr = await capture(argv)
        json_output = flavour == "pbspro" and self._json
        if returncode == 0:
            status = parse_qstat_json(stdout, jobid) if json_output else parse_qstat_full(stdout)
            if status is None:
                raise QueryFailed(
                    LauncherError(
                        f"qstat output about PBS job {jobid} cannot be read: {stdout[-300:]!r}",
                        command=" ".join(argv),
                    )
                )
            return status
        if UNKNOWN_JOB.search(stderr):
            return JobStatus("F")  # finished and forgotten (no job history)
        if json_output and re.search(r"invalid option|usage", stderr, re.IGNORECASE):
            self._json = False  # PBS Pro before 18: no -F json; ask again the old way
            return await self._status(jobid, flavour)
        raise QueryFailed(command_error(argv, returncode, stderr, what=f"follow PBS job {jobid}"))

    async def _qdel(self, jobid: str) -> None:
        returncode, _, stderr = await capture(qdel_argv(jobid))
        log.info("pbs.deleted", jobid=jobid, returncode=returncode, stderr=stderr.strip()[-200:])


@dataclass(frozen=True, slots=True)
class _Files:
    """Where an evaluation's script, output and exit status go."""

    directory: Path
    label: str

    @classmethod
    def of(cls, job: Job) -> _Files:
        base = job.name or f"trial-{job.trial_id}"
        label = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{base}.{job.attempt}")
        return cls(launcher_files(job, "pbs"), label)

    async def prepare(self) -> None:
        """Create the directory; remove what an earlier run with this label left."""
        await anyio.Path(self.directory).mkdir(parents=True, exist_ok=True)
        for stale in (self.stdout, self.stderr, self.status, self.pbs_stdout, self.pbs_stderr):
            await anyio.Path(stale).unlink(missing_ok=True)

    @property
    def script(self) -> Path:
        return self.directory / f"{self.label}.pbs"

    @property
    def stdout(self) -> Path:
        return self.directory / f"{self.label}.out"

    @property
    def stderr(self) -> Path:
        return self.directory / f"{self.label}.err"

    @property
    def status(self) -> Path:
        return self.directory / f"{self.label}.status"

    @property
    def pbs_stdout(self) -> Path:
        """PBS's own output stream of a batch job (``qsub -o``), staged out at its end."""
        return self.directory / f"{self.label}.pbs.out"

    @property
    def pbs_stderr(self) -> Path:
        """PBS's own error stream of a batch job (``qsub -e``), staged out at its end."""
        return self.directory / f"{self.label}.pbs.err"


async def _copy_if_any(path: Path, sink: OutputSink) -> None:
    """Copy a file that may not exist (nothing was staged out, or PBS kept it elsewhere)."""
    await FileFollower(path, sink).poll()


async def _read_status(path: Path) -> int | None:
    try:
        return int((await anyio.Path(path).read_text()).strip())
    except (OSError, ValueError):
        return None
