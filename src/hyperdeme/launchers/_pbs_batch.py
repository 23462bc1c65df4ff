"""PBS outside a job: each evaluation is a batch job of its own (``qsub``, ``qstat``, ``qdel``).

A script is written to ``<cwd>/.hyperdeme/pbs/`` (``#PBS -N``, a node request
``-l select=<k>`` on PBS Pro or ``-l nodes=<k>`` on Torque, ``-l walltime`` from
``alloc_timeout`` minutes) and submitted with ``qsub -o <pbs.out> -e <pbs.err>
<alloc_args> <script>``; the job is polled every ``poll_interval`` seconds with
``qstat -f -F json -x`` (PBS Pro) or ``qstat -f`` (Torque, and PBS Pro before JSON
output), what it appended to its output copied into the trial's stdout log at each
poll. Stopping it: ``qdel <id>``, shielded and bounded; should the driver die, the
watchdog runs the ``qdel``. The driver's ``PATH`` is exported by the script (PBS gives
a job the MOM's, see :meth:`~._pbs.PbsLauncher._carried`) with the job's variables.

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
:mod:`._pbs_commands`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import anyio

from .._core._errors import LauncherError, TransientLauncherError
from .._core._logging import get_logger
from ._base import Exit, Job
from ._capture import capture, checked, command_error
from ._follow import FileFollower
from ._options import LauncherOptions
from ._packing import placed_devices
from ._pbs_allocation import PendingJob
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
    qdel_argv,
    qstat_argv,
    qsub_argv,
    returncode_of,
)
from ._pbs_files import JobFiles, copy_if_any, read_status
from ._poll import QueryFailed, query
from ._tail import Tail
from ._watchdog import guarded

__all__ = ["BatchJobs"]

log = get_logger("hyperdeme.launchers")

_SUBMIT_LIMIT = 60.0


class BatchJobs:
    """Runs evaluations as batch jobs for a :class:`~._pbs.PbsLauncher` outside a job."""

    def __init__(
        self,
        options: LauncherOptions,
        *,
        carried: Mapping[str, str],
        grace: float,
        poll_interval: float,
        alloc_wait: float,
    ) -> None:
        self.options = options
        #: the driver's variables every job exports (its PATH)
        self.carried = dict(carried)
        self.grace = grace
        self.poll_interval = poll_interval
        self.alloc_wait = alloc_wait
        #: whether qstat is asked for JSON (PBS Pro 18+); False once it refused -F json
        self.json_output = True

    async def run(self, job: Job, flavour: Flavour) -> Exit:
        """Submit the evaluation as a job, follow it to its end, say how it ended."""
        files = JobFiles.of(job)
        await files.prepare()
        script = job_script(
            name=pbs_job_name(files.label, flavour),
            command=job.command,
            cwd=job.cwd,
            env={**self.carried, **job.env, **placed_devices([], job)},
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
        await copy_if_any(files.pbs_stdout, job.stdout)  # PBS's own streams, staged out
        await copy_if_any(files.pbs_stderr, stderr)
        if exit_status is None:  # the server forgot the job: trust the script's record
            exit_status = await read_status(files.status)
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

    async def _submit(self, files: JobFiles, cwd: Path) -> str:
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
        argv = qstat_argv(jobid, flavour=flavour, json_output=self.json_output)
        returncode, stdout, stderr = await capture(argv)
        json_output = flavour == "pbspro" and self.json_output
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
            self.json_output = False  # PBS Pro before 18: no -F json; ask again the old way
            return await self._status(jobid, flavour)
        raise QueryFailed(command_error(argv, returncode, stderr, what=f"follow PBS job {jobid}"))

    async def _qdel(self, jobid: str) -> None:
        returncode, _, stderr = await capture(qdel_argv(jobid))
        log.info("pbs.deleted", jobid=jobid, returncode=returncode, stderr=stderr.strip()[-200:])
