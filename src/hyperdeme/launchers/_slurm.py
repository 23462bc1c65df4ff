"""Slurm: each evaluation is a job step (``srun``) inside an allocation.

Inside an allocation (``SLURM_JOB_ID``, or ``alloc_jobid``) the steps run in
it. Outside one, with ``nodes > 0``, the launcher makes its own allocation
(``salloc --no-shell --no-kill``) on entry and releases it (``scancel``) on
exit, whatever the exit: success, error or cancellation.

The launcher knows the allocation's hosts and gives each step its own free
ones (``--nodelist``), so evaluations needing different node counts are
packed without oversubscription. A step that fails because its node died is a
:class:`TransientLauncherError`: the node is set aside and the engine runs the
evaluation again on a surviving one. Cancelling a step (``eval_timeout``, the
run stopping) cancels that step with ``scancel <job>.<step>``, never the
allocation.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shlex
import uuid
from collections.abc import Mapping

import anyio

from .._core._errors import ConfigError, LauncherError, TransientLauncherError
from .._core._hosts import HostPool, PoolTooSmall
from .._core._logging import get_logger
from ._base import Exit, Job, Launcher
from ._capture import capture
from ._options import LauncherOptions
from ._process import run_process
from ._registry import register
from ._slurm_commands import (
    NODE_FAILURE,
    node_is_down,
    parse_granted,
    parse_job,
    parse_node_states,
    parse_steps,
    salloc_argv,
    slurm_environment,
    srun_argv,
)
from ._tail import Tail, tail_of
from ._watchdog import guarded

__all__ = ["SlurmLauncher"]

log = get_logger("hyperdeme.launchers.slurm")


@register("slurm")
class SlurmLauncher(Launcher):
    """Runs evaluations as ``srun`` job steps; see the module docstring."""

    def __init__(
        self,
        options: LauncherOptions,
        *,
        environ: Mapping[str, str] | None = None,
        grace: float | None = None,
    ) -> None:
        self.options = options
        self.environ = dict(os.environ if environ is None else environ)
        self.grace = self.options.grace_period if grace is None else grace
        self.jobid: int | None = None
        self.owns_allocation = False
        self.hosts: list[str] = []
        self._pool: HostPool[str] = HostPool(())
        self._env = slurm_environment(self.environ)
        #: the watchdog's hold on an allocation made here (see :func:`guarded`)
        self._guard = contextlib.ExitStack()

    @property
    def total_nodes(self) -> int | None:
        return len(self.hosts) or None

    async def __aenter__(self) -> SlurmLauncher:
        inherited = self.environ.get("SLURM_JOB_ID") or self.environ.get("SLURM_JOBID")
        if self.options.alloc_jobid:
            self.jobid = self.options.alloc_jobid
        elif inherited:
            self.jobid = int(inherited)
        elif self.options.nodes > 0:
            self.jobid = await self._allocate()
            self.owns_allocation = True
            # should the driver die, its allocation goes too
            self._guard.enter_context(guarded(["scancel", str(self.jobid)], env=self._env))
        else:
            raise ConfigError(
                "Slurm evaluations need an allocation: run inside one (salloc/sbatch), pass "
                "alloc_jobid=<job id>, or set nodes=N so hyperdeme allocates N nodes."
            )
        try:
            self.hosts = await self._allocation_hosts(self.jobid)
        except BaseException:
            await self.aclose()
            raise
        self._pool = HostPool(self.hosts)
        log.info("slurm.allocation", jobid=self.jobid, hosts=self.hosts, owned=self.owns_allocation)
        return self

    async def aclose(self) -> None:
        if not self.owns_allocation or self.jobid is None:
            return
        jobid, self.jobid, self.owns_allocation = self.jobid, None, False
        with anyio.CancelScope(shield=True), anyio.move_on_after(30) as bounded:
            # squeue is external state: poll until the job is gone, asking again
            # every few seconds in case a scancel was lost (slurmctld busy)
            for poll in itertools.count():
                if poll % 50 == 0:
                    await self._slurm("scancel", str(jobid))
                if not await self._job_listed(jobid):
                    break
                await anyio.sleep(0.1)
        if bounded.cancelled_caught:
            log.error("slurm.release_failed", jobid=jobid, hint=f"run: scancel {jobid}")
        else:
            log.info("slurm.released", jobid=jobid)
        self._guard.close()

    async def run(self, job: Job) -> Exit:
        assert self.jobid is not None, "enter the launcher (async with) before run()"
        nodes = await self._take(max(1, job.nodes))
        step_name = f"{job.name or 'hyperdeme'}-{job.trial_id}.{job.attempt}-{uuid.uuid4().hex[:6]}"
        stderr = Tail(job.stderr)
        try:
            returncode = await run_process(
                srun_argv(
                    jobid=self.jobid,
                    nodelist=nodes,
                    command=job.command,
                    name=step_name,
                    launch_args=self.options.launch_args,
                ),
                cwd=job.cwd,
                env=job.environ(self._env),
                stdout=job.stdout,
                stderr=stderr,
                stop=lambda: self._cancel_step(step_name),
                grace=self.grace,
            )
            # srun exits 0 when the node of its step dies: look at its words too
            if returncode != 0 or NODE_FAILURE.search(stderr.text):
                await self._classify_failure(nodes, returncode, stderr.text)
            return Exit(returncode)
        finally:
            self._pool.give_back(nodes)

    # -- nodes ---------------------------------------------------------------

    async def _take(self, count: int) -> list[str]:
        """``count`` free hosts that respond; a node failure may leave too few."""
        try:
            return await self._pool.take(count)
        except PoolTooSmall:
            await self._reprobe_down_nodes()
        try:
            return await self._pool.take(count)
        except PoolTooSmall as error:
            down = ", ".join(sorted(self._pool.retired))
            raise TransientLauncherError(
                f"this evaluation needs {count} nodes but only {error.in_service} of the "
                f"allocation's {len(self.hosts)} respond ({down} down)."
            ) from None

    async def _classify_failure(self, nodes: list[str], returncode: int, stderr: str) -> None:
        """Raise TransientLauncherError when the step died with its node."""
        down = await self._down_among(nodes)
        if down or NODE_FAILURE.search(stderr):
            self._pool.retire(down)
            log.warning("slurm.node_failure", nodes=nodes, down=sorted(down), returncode=returncode)
            raise TransientLauncherError(
                f"Slurm step on {','.join(nodes)} failed with its node "
                f"({', '.join(sorted(down)) or 'srun reported a node failure'}).",
                command="srun",
                returncode=returncode,
                stderr_tail=tail_of(stderr),
            )

    async def _down_among(self, nodes: list[str]) -> set[str]:
        code, out, _ = await self._slurm("scontrol", "show", "node", "-o", ",".join(nodes))
        if code != 0:
            return set()
        return {name for name, state in parse_node_states(out).items() if node_is_down(state)}

    async def _reprobe_down_nodes(self) -> None:
        """Put nodes that came back into service."""
        down = self._pool.retired
        if not down:
            return
        back = down - await self._down_among(sorted(down))
        if back:
            log.info("slurm.nodes_back", nodes=sorted(back))
            self._pool.restore(back)

    # -- allocation ----------------------------------------------------------

    async def _allocate(self) -> int:
        name = f"hyperdeme-{uuid.uuid4().hex[:8]}"
        argv = salloc_argv(
            nodes=self.options.nodes,
            minutes=self.options.alloc_timeout,
            name=name,
            extra=self.options.alloc_args,
        )
        try:
            code, _out, err = await self._slurm(*argv)
        except BaseException:
            # cancelled while queued: withdraw the request by name
            with anyio.CancelScope(shield=True), anyio.move_on_after(10):
                await self._slurm("scancel", f"--name={name}")
            raise
        jobid = parse_granted(err)
        if code != 0 or jobid is None:
            raise LauncherError(
                f"salloc could not allocate {self.options.nodes} node(s): `{shlex.join(argv)}` "
                f"exited with {code}: {tail_of(err) or 'no message'}",
                command=shlex.join(argv),
                returncode=code,
                stderr_tail=tail_of(err),
            )
        log.info("slurm.allocated", jobid=jobid, nodes=self.options.nodes)
        return jobid

    async def _allocation_hosts(self, jobid: int) -> list[str]:
        code, out, err = await self._slurm("scontrol", "show", "job", "-o", str(jobid))
        info = parse_job(out)
        if code != 0 or info.state != "RUNNING" or not info.nodelist:
            raise LauncherError(
                f"Slurm job {jobid} is not a running allocation (state {info.state or '?'}).",
                command=f"scontrol show job -o {jobid}",
                returncode=code,
                stderr_tail=tail_of(err),
            )
        code, out, err = await self._slurm("scontrol", "show", "hostnames", info.nodelist)
        hosts = out.split()
        if code != 0 or not hosts:
            raise LauncherError(
                f"cannot expand the node list {info.nodelist!r} of job {jobid}.",
                command="scontrol show hostnames",
                returncode=code,
                stderr_tail=tail_of(err),
            )
        return hosts

    async def _job_listed(self, jobid: int) -> bool:
        code, out, _ = await self._slurm("squeue", "-h", "-j", str(jobid), "-o", "%i")
        return code == 0 and bool(out.strip())

    async def _cancel_step(self, step_name: str) -> None:
        assert self.jobid is not None
        _code, out, _ = await self._slurm(
            "squeue", "-h", "-s", "-j", str(self.jobid), "-o", "%i|%j"
        )
        step = parse_steps(out).get(step_name)
        if step is not None:
            await self._slurm("scancel", step)
            log.info("slurm.step_cancelled", step=step)

    async def _slurm(self, *argv: str) -> tuple[int, str, str]:
        return await capture(argv, env=self._env)
