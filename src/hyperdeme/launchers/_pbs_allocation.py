"""A PBS job's life as an allocation, for :class:`~hyperdeme.launchers._pbs.PbsLauncher`
(the policy is :mod:`._allocation`'s, as for Slurm).

* **An evaluation's job waiting in the queue** (outside a PBS job, one ``qsub`` per
  evaluation): :class:`PendingJob` shows the scheduler's ``comment`` on the progress
  line (``pending: Not Running: Queue not started.``) and in the log
  (``allocation.pending``) whenever it changes. A comment saying ``Can Never Run``
  (the request exceeds what the complex has: ``Insufficient amount of resource: mem
  (R: 1000gb A: 24105mb T: 24105mb)``) fails the evaluation at once with PBS's words;
  ``alloc_wait`` seconds in the queue do too. The launcher's ``qdel`` withdraws it.
  A request beyond a queue's ``resources_max``, or a disabled queue, is refused by
  ``qsub`` itself, whose words fail the evaluation.
* **The job the driver runs in** (``pbsdsh`` evaluations): :func:`job_ended` asks
  ``qstat -f -F json -x $PBS_JOBID`` whether it is over (exiting or finished) and
  why (``ended_why``: walltime, ``qdel``, a resource limit).
"""

from __future__ import annotations

import anyio

from .._core._logging import get_logger
from ._allocation import AllocationState, never_starts, report_status
from ._capture import capture
from ._pbs_commands import JobStatus, ended_why, parse_qstat_json, qstat_argv

__all__ = ["PendingJob", "job_ended"]

log = get_logger("hyperdeme.launchers.pbs")


async def job_ended(jobid: str) -> AllocationState | None:
    """PBS job ``jobid`` when it is over (exiting or finished), else None (running, or
    qstat could not say)."""
    returncode, stdout, _ = await capture(qstat_argv(jobid, flavour="pbspro"))
    found = parse_qstat_json(stdout, jobid) if returncode == 0 else None
    if found is None or not found.ending:
        return None
    return AllocationState(
        id=jobid, state=found.state, phase="ended", reason=found.comment, why=ended_why(found)
    )


class PendingJob:
    """An evaluation's job while it waits in the queue: PBS's comment on the progress line
    (``pending: Not Running: Queue not started.``) and in the log as it changes; a comment
    that says it can never run, or ``alloc_wait`` seconds spent waiting, fail it with
    PBS's words (the caller's ``qdel`` withdraws the job)."""

    def __init__(self, jobid: str, alloc_wait: float) -> None:
        self.jobid = jobid
        self.alloc_wait = alloc_wait
        self.comment: str | None = None
        self.since: float | None = None

    def check(self, status: JobStatus) -> None:
        if not status.waiting:
            self.clear()
            return
        now = anyio.current_time()
        self.since = now if self.since is None else self.since
        if status.comment != self.comment:
            self.comment = status.comment
            log.info("allocation.pending", job=self.jobid, reason=status.comment)
            report_status(f"pending: {status.comment or status.state}")
        command = f"qstat -f {self.jobid}"
        if status.never_runs:
            raise never_starts(
                scheduler="PBS", job=self.jobid, reason=status.comment, waited=None,
                command=command,
            )  # fmt: skip
        if now - self.since >= self.alloc_wait:
            raise never_starts(
                scheduler="PBS", job=self.jobid, reason=status.comment,
                waited=self.alloc_wait, command=command,
            )  # fmt: skip

    def clear(self) -> None:
        if self.comment is not None:
            report_status(None)
            self.comment = None
