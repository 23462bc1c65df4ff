"""Slurm: each evaluation is a job step (``srun``) inside an allocation.

Inside an allocation (``SLURM_JOB_ID``, or ``alloc_jobid``) the steps run in
it. Outside one, with ``nodes > 0``, the launcher makes its own allocation
(``salloc --no-shell --no-kill``) on entry and releases it (``scancel``) on
exit, whatever the exit: success, error or cancellation. While the request
pends, its reason is shown and bounded (``alloc_wait``; see
:mod:`._slurm_allocation`).

The launcher knows the allocation's hosts and gives each step its own free
ones (``--nodelist``), so evaluations needing different node counts are
packed without oversubscription. A step that fails because its node died is a
:class:`TransientLauncherError`: the node is set aside and the engine runs the
evaluation again on a surviving one. Cancelling a step (``eval_timeout``, the
run stopping) cancels that step with ``scancel <job>.<step>``, never the
allocation.

A step that fails is checked against its allocation (``scontrol show job``):
when the allocation ended (time limit, ``scancel``, preemption), an allocation
made here is renewed with the same request, at most ``renewals`` times
(``launcher_options``, default 3), and the step runs again there; inside the
user's allocation, or with no renewal left, the step raises
:class:`~hyperdeme.AllocationEnded` and the run stops (see :mod:`._allocation`).
Each attempt's allocation is journalled with its trial (``info["allocation"]``).

A multi-node evaluation runs ``tasks_per_node`` tasks on each of its nodes (one
by default: ``SLURM_PROCID`` is the rank, ``SLURM_NTASKS`` the size; with
``--mpi=pmi2``/``pmix`` in ``launch_args`` also ``PMI_RANK`` /
``OMPI_COMM_WORLD_RANK``), or, with ``single_task``, one task on its first node
that starts the others itself (torchrun, mpirun). Either way ``HYPERDEME_HOSTS``
lists the evaluation's nodes, comma-separated, and only rank 0's stdout is read
for the FoM (``srun --output=0``); every rank's stderr is kept.
"""

from __future__ import annotations

import contextlib
import math
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import anyio

from .._core._checks import boolean, count, number
from .._core._errors import AllocationEnded, ConfigError, TransientLauncherError
from .._core._hosts import HostPool, PoolTooSmall
from .._core._logging import get_logger
from .._core._settings import Config
from ._allocation import DEFAULT_RENEWALS, AllocationState, Renewals, ended_error
from ._base import Exit, Job, Launcher
from ._extra import option
from ._options import LauncherOptions
from ._packing import packed, placed_devices, placed_info
from ._poll import DEFAULT_POLL_INTERVAL, poll_seconds
from ._process import run_process
from ._registry import register
from ._slurm_allocation import SlurmAllocation
from ._slurm_commands import (
    NODE_FAILURE,
    node_is_down,
    parse_node_states,
    parse_steps,
    slurm_environment,
    srun_argv,
)
from ._tail import Tail, tail_of
from ._watchdog import guarded

__all__ = ["HOSTS_VARIABLE", "SlurmLauncher", "SlurmOptions"]

log = get_logger("hyperdeme.launchers.slurm")

#: the nodes of the evaluation, comma-separated, in its environment
HOSTS_VARIABLE = "HYPERDEME_HOSTS"


@dataclass(frozen=True, kw_only=True)
class SlurmOptions(Config):
    """The keys of ``launcher_options`` the Slurm launcher reads."""

    #: times an allocation made here (``nodes=N``) is renewed when it ends under the run
    renewals: int = option(DEFAULT_RENEWALS, count(0))
    #: seconds to wait for an allocation made here to start (default: no limit)
    alloc_wait: float = option(math.inf, number(0.0, above=True, infinite=True, unit="seconds"))
    #: tasks of a multi-node evaluation on each of its nodes
    tasks_per_node: int = option(1, count(1))
    #: one task on the evaluation's first node, which starts the others itself
    single_task: bool = option(False, boolean)
    #: seconds between ``squeue`` polls of a pending allocation
    poll_interval: float = option(DEFAULT_POLL_INTERVAL, poll_seconds)

    def _validate(self) -> None:
        if self.single_task and self.tasks_per_node != 1:
            raise ConfigError(
                "launcher_options['single_task'] starts one task per evaluation, so "
                f"launcher_options['tasks_per_node'] must stay 1, got {self.tasks_per_node}.",
                name="launcher_options.tasks_per_node",
                value=self.tasks_per_node,
            )


@register("slurm")
class SlurmLauncher(Launcher):
    """Runs evaluations as ``srun`` job steps; see the module docstring."""

    launcher_options = SlurmOptions
    packs_gpus = True

    def __init__(
        self,
        options: LauncherOptions,
        *,
        environ: Mapping[str, str] | None = None,
        grace: float | None = None,
    ) -> None:
        self.settings: SlurmOptions = self.read_extra(options)
        self.options = options
        self.environ = dict(os.environ if environ is None else environ)
        self.grace = self.options.grace_period if grace is None else grace
        self.jobid: int | None = None
        self.owns_allocation = False
        self.hosts: list[str] = []
        self._pool: HostPool[str] = HostPool(())
        self._env = slurm_environment(self.environ)
        self._allocation = SlurmAllocation(
            env=self._env,
            nodes=options.nodes,
            minutes=options.alloc_timeout,
            extra=options.alloc_args,
            alloc_wait=self.settings.alloc_wait,
            poll_interval=self.settings.poll_interval,
        )
        self.renewals = Renewals(self.settings.renewals)
        #: set once the allocation ended for good: every later step raises it
        self._ended: AllocationState | None = None
        self._ended_tail = ""
        self._ended_note = ""
        #: set while a renewal is under way; steps wait for it
        self._renewal: anyio.Event | None = None
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
            self.jobid = await self._allocation.allocate()
            self.owns_allocation = True
            # should the driver die, its allocation goes too
            self._guard.enter_context(guarded(["scancel", str(self.jobid)], env=self._env))
        else:
            raise ConfigError(
                "Slurm evaluations need an allocation: run inside one (salloc/sbatch), pass "
                "alloc_jobid=<job id>, or set nodes=N so hyperdeme allocates N nodes."
            )
        try:
            self.hosts = await self._allocation.hosts(self.jobid)
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
        await self._allocation.release(jobid)
        self._guard.close()

    async def run(self, job: Job) -> Exit:
        jobid, pool = await self._current()
        self._pool = pool = packed(pool, job)  # split into shares when it carries gpus=
        nodes = await self._take(pool, max(1, job.nodes))
        devices = placed_devices(nodes, job)
        step_name = f"{job.name or 'hyperdeme'}-{job.trial_id}.{job.attempt}-{uuid.uuid4().hex[:6]}"
        stderr = Tail(job.stderr)
        try:
            returncode = await run_process(
                srun_argv(
                    jobid=jobid,
                    nodelist=nodes,
                    command=job.command,
                    name=step_name,
                    launch_args=self.options.launch_args,
                    tasks_per_node=self.settings.tasks_per_node,
                    single_task=self.settings.single_task,
                ),
                cwd=job.cwd,
                env={**job.environ(self._env), HOSTS_VARIABLE: ",".join(nodes), **devices},
                stdout=job.stdout,
                stderr=stderr,
                stop=lambda: self._cancel_step(jobid, step_name),
                grace=self.grace,
            )
            # srun exits 0 when the node of its step dies: look at its words too
            if returncode != 0 or NODE_FAILURE.search(stderr.text):
                await self._check_allocation(jobid, stderr.text)
                await self._classify_failure(pool, nodes, returncode, stderr.text)
            return Exit(returncode, info={"allocation": str(jobid), **placed_info(devices)})
        finally:
            pool.give_back(nodes)

    # -- the allocation's life -------------------------------------------------

    async def _current(self) -> tuple[int, HostPool[str]]:
        """The allocation to start a step in (after a renewal under way), and its hosts."""
        assert self.jobid is not None, "enter the launcher (async with) before run()"
        if self._renewal is not None:
            await self._renewal.wait()
        if self._ended is not None:
            raise self._ended_error()
        assert self.jobid is not None
        return self.jobid, self._pool

    async def _check_allocation(self, jobid: int, stderr: str) -> None:
        """Return when allocation ``jobid`` still runs; else renew it (the step runs again:
        TransientLauncherError) or raise AllocationEnded. Of the steps that see one end,
        the first acts; the others wait for it (they may ask Slurm at the same time)."""
        if not self._superseded(jobid):
            state = await self._allocation.state(jobid)
            if state is None or state.phase == "running":
                return
            if not self._superseded(jobid):
                if not (self.owns_allocation and self.renewals.left):
                    self._ended, self._ended_tail = state, tail_of(stderr)
                    log.error("allocation.ended", job=state.id, state=state.state, why=state.why)
                    raise self._ended_error()
                await self._renew(state)
        await self._current()  # renewed (or ended for good) since this step started
        raise TransientLauncherError(
            f"Slurm job {jobid} ended under this step; it runs again in job {self.jobid}."
        )

    def _superseded(self, jobid: int) -> bool:
        """True once another step acted on allocation ``jobid``'s end."""
        return jobid != self.jobid or self._renewal is not None or self._ended is not None

    async def _renew(self, state: AllocationState) -> None:
        """A new allocation with the same request in place of ``state``'s; raises
        TransientLauncherError so the step that saw the end runs again there."""
        self._renewal = anyio.Event()
        number = self.renewals.take()
        limit = self.renewals.limit
        log.warning("allocation.renewing", job=state.id, why=state.why, renewal=number, limit=limit)
        try:
            # past its end time a job may hold its nodes for up to 30 s more: free them now
            await self._allocation.slurm("scancel", state.id)
            jobid = await self._allocation.allocate()
            self._guard.close()
            self._guard.enter_context(guarded(["scancel", str(jobid)], env=self._env))
            self.jobid = jobid  # from now on aclose releases it, whatever happens next
            self.hosts = await self._allocation.hosts(jobid)
            self._pool = HostPool(self.hosts)
        except Exception as error:
            # no new allocation: the run stops with the old one's end, saying why
            self._ended, self._ended_note = state, f"renewing it failed: {error}"
            log.error("allocation.ended", job=state.id, state=state.state, why=state.why)
            raise self._ended_error() from error
        finally:
            self._renewal.set()
            self._renewal = None
        log.info("allocation.renewed", old=state.id, new=jobid, renewal=number, hosts=self.hosts)
        raise TransientLauncherError(
            f"Slurm job {state.id} ended ({state.why}); renewed as job {jobid} (renewal "
            f"{number} of {self.renewals.limit}): the evaluation runs again there."
        )

    def _ended_error(self) -> AllocationEnded:
        assert self._ended is not None
        return ended_error(
            self._ended,
            scheduler="Slurm",
            owned=self.owns_allocation,
            renewals=self.renewals,
            stderr_tail=self._ended_tail,
            note=self._ended_note,
        )

    # -- nodes ---------------------------------------------------------------

    async def _take(self, pool: HostPool[str], count: int) -> list[str]:
        """``count`` free hosts that respond; a node failure may leave too few."""
        try:
            return await pool.take(count)
        except PoolTooSmall:
            await self._reprobe_down_nodes(pool)
        try:
            return await pool.take(count)
        except PoolTooSmall as error:
            down = ", ".join(sorted(pool.retired))
            raise TransientLauncherError(
                f"this evaluation needs {count} nodes but only {error.in_service} of the "
                f"allocation's {len(self.hosts)} respond ({down} down)."
            ) from None

    async def _classify_failure(
        self, pool: HostPool[str], nodes: list[str], returncode: int, stderr: str
    ) -> None:
        """Raise TransientLauncherError when the step died with its node."""
        down = await self._down_among(nodes)
        if down or NODE_FAILURE.search(stderr):
            pool.retire(down)
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

    async def _reprobe_down_nodes(self, pool: HostPool[str]) -> None:
        """Put nodes that came back into service."""
        down = pool.retired
        if not down:
            return
        back = down - await self._down_among(sorted(down))
        if back:
            log.info("slurm.nodes_back", nodes=sorted(back))
            pool.restore(back)

    # -- steps ---------------------------------------------------------------

    async def _cancel_step(self, jobid: int, step_name: str) -> None:
        _code, out, _ = await self._slurm("squeue", "-h", "-s", "-j", str(jobid), "-o", "%i|%j")
        step = parse_steps(out).get(step_name)
        if step is not None:
            await self._slurm("scancel", step)
            log.info("slurm.step_cancelled", step=step)

    async def _slurm(self, *argv: str) -> tuple[int, str, str]:
        return await self._allocation.slurm(*argv)
