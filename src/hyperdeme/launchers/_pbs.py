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

**Outside a job** each evaluation is a batch job of its own, submitted,
polled and deleted by :mod:`._pbs_batch` (``qsub``, ``qstat``, ``qdel``).

``launcher_options["pbs_flavour"]`` (``"pbspro"`` or ``"torque"``) skips asking
``qsub --version``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

import anyio

from .._core._checks import number, one_of, optional
from .._core._errors import AllocationEnded, ConfigError, LauncherError, TransientLauncherError
from .._core._hosts import HostPool, PoolTooSmall
from .._core._logging import get_logger
from .._core._settings import Config
from ._allocation import ended_error
from ._base import Exit, Job, Launcher
from ._capture import checked
from ._detect import parse_qsub_version
from ._extra import option
from ._follow import FileFollower, while_following
from ._options import LauncherOptions
from ._packing import packed, placed_devices, placed_info
from ._pbs_allocation import job_ended
from ._pbs_batch import BatchJobs
from ._pbs_commands import Flavour, pbsdsh_argv, read_nodefile, remote_command
from ._pbs_files import JobFiles, read_status
from ._poll import DEFAULT_POLL_INTERVAL, poll_seconds
from ._process import run_process
from ._registry import register
from ._tail import Tail

__all__ = ["CARRIED", "HOSTS_VARIABLE", "PbsLauncher", "PbsOptions"]

log = get_logger("hyperdeme.launchers")

#: the hosts of a multi-node evaluation inside a PBS job, comma-separated
HOSTS_VARIABLE = "HYPERDEME_HOSTS"
#: the driver's variables exported to every evaluation (PBS gives jobs its own PATH)
CARRIED = ("PATH",)
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
        #: outside a job: each evaluation a batch job of its own
        self.batch = BatchJobs(
            options,
            carried=self._carried(),
            grace=self.grace,
            poll_interval=self.poll_interval,
            alloc_wait=self.alloc_wait,
        )

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
        return await self.batch.run(job, self.flavour)

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
        files = JobFiles.of(job)
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
        status = await read_status(files.status)
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
