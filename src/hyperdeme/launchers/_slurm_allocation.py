"""A Slurm allocation's life, for :class:`~hyperdeme.launchers._slurm.SlurmLauncher`:
asked for (``salloc --no-shell``) and watched while it pends, asked about
(``scontrol show job``), expanded to hosts, released (``scancel``).

While ``salloc`` waits, ``squeue -n <name>`` is asked every ``poll_interval``
seconds for the pending reason (salloc's own "Pending job allocation" line
would only come at the end): each new reason is logged and shown in the
progress line; a reason that never clears (:data:`NEVER_CLEARS`, or
``ReqNodeNotAvail`` naming nodes that are down) withdraws the request and
fails at once with Slurm's words; so does ``alloc_wait`` running out. The
policy around it is :mod:`._allocation`'s.
"""

from __future__ import annotations

import itertools
import math
import re
import shlex
import uuid
from collections.abc import Mapping

import anyio

from .._core._errors import LauncherError
from .._core._logging import get_logger
from ._allocation import AllocationState, never_starts, report_status
from ._capture import capture
from ._slurm_commands import (
    NEVER_CLEARS,
    allocation_state,
    node_is_down,
    parse_granted,
    parse_job,
    parse_node_states,
    parse_pending,
    salloc_argv,
)
from ._tail import tail_of

__all__ = ["SlurmAllocation"]

log = get_logger("hyperdeme.launchers.slurm")

_UNAVAILABLE = re.compile(r"ReqNodeNotAvail.*UnavailableNodes:(\S+)")


class SlurmAllocation:
    """Slurm commands about allocations, run with ``env``; see the module docstring."""

    def __init__(
        self,
        *,
        env: Mapping[str, str],
        nodes: int,
        minutes: int,
        extra: str,
        alloc_wait: float = math.inf,
        poll_interval: float = 2.0,
    ) -> None:
        self.env = dict(env)
        self.nodes = nodes
        self.minutes = minutes
        self.extra = extra
        self.alloc_wait = alloc_wait
        self.poll_interval = poll_interval

    async def allocate(self) -> int:
        """A new allocation (the same request each time); raises when it cannot start."""
        name = f"hyperdeme-{uuid.uuid4().hex[:8]}"
        argv = salloc_argv(nodes=self.nodes, minutes=self.minutes, name=name, extra=self.extra)
        granted: list[tuple[int, str, str]] = []
        refused: list[LauncherError] = []
        try:
            async with anyio.create_task_group() as tg:

                async def request() -> None:
                    granted.append(await self.slurm(*argv))
                    tg.cancel_scope.cancel()

                tg.start_soon(request)
                refused.append(await self._watch(name, shlex.join(argv)))
                tg.cancel_scope.cancel()
        except BaseException:
            await self._withdraw(name)  # cancelled while queued: withdraw it by name
            raise
        finally:
            report_status(None)
        if refused:
            await self._withdraw(name)
            raise refused[0]
        code, _out, err = granted[0]
        jobid = parse_granted(err)
        if code != 0 or jobid is None:
            raise LauncherError(
                f"salloc could not allocate {self.nodes} node(s): `{shlex.join(argv)}` "
                f"exited with {code}: {tail_of(err) or 'no message'}",
                command=shlex.join(argv),
                returncode=code,
                stderr_tail=tail_of(err),
            )
        log.info("slurm.allocated", jobid=jobid, nodes=self.nodes)
        return jobid

    async def _watch(self, name: str, command: str) -> LauncherError:
        """Follow the request while it pends (until cancelled); the error that refuses
        it when its reason never clears or ``alloc_wait`` runs out."""
        reason, job = "", "?"
        with anyio.move_on_after(self.alloc_wait):
            while True:
                code, out, _ = await self.slurm("squeue", "-h", "-n", name, "-o", "%i|%T|%r")
                pending = parse_pending(out) if code == 0 else None
                if pending is not None and pending[1] != reason:
                    job, reason = pending
                    log.info("allocation.pending", job=job, reason=reason, name=name)
                    report_status(f"pending: {reason}")
                    if await self._never_clears(reason):
                        return never_starts(
                            scheduler="Slurm", job=job, reason=reason, waited=None, command=command
                        )
                await anyio.sleep(self.poll_interval)
        return never_starts(
            scheduler="Slurm", job=job, reason=reason, waited=self.alloc_wait, command=command
        )

    async def _never_clears(self, reason: str) -> bool:
        if reason in NEVER_CLEARS:
            return True
        unavailable = _UNAVAILABLE.search(reason)
        if unavailable is None:
            return False
        # ReqNodeNotAvail clears when a busy or rebooting node frees; not when it is down
        code, out, _ = await self.slurm("scontrol", "show", "node", "-o", unavailable.group(1))
        states = parse_node_states(out) if code == 0 else {}
        return bool(states) and all(node_is_down(state) for state in states.values())

    async def _withdraw(self, name: str) -> None:
        with anyio.CancelScope(shield=True), anyio.move_on_after(10):
            await self.slurm("scancel", f"--name={name}")

    async def state(self, jobid: int) -> AllocationState | None:
        """What Slurm says of job ``jobid`` (None: it could not be asked). A job that is
        ``COMPLETING`` is asked again (for ``KillWait`` and a little more, 15 s at most)
        until it says how it ended: ``TIMEOUT``, ``CANCELLED``, ``PREEMPTED`` ..."""
        state = None
        with anyio.move_on_after(15):
            while True:
                answer = await self.slurm("scontrol", "show", "job", "-o", str(jobid))
                state = allocation_state(jobid, *answer)
                if state is None or state.state != "COMPLETING":
                    return state
                await anyio.sleep(0.5)
        return state

    async def hosts(self, jobid: int) -> list[str]:
        """The hosts of running allocation ``jobid``."""
        code, out, err = await self.slurm("scontrol", "show", "job", "-o", str(jobid))
        info = parse_job(out)
        if code != 0 or info.state != "RUNNING" or not info.nodelist:
            raise LauncherError(
                f"Slurm job {jobid} is not a running allocation (state {info.state or '?'}).",
                command=f"scontrol show job -o {jobid}",
                returncode=code,
                stderr_tail=tail_of(err),
            )
        code, out, err = await self.slurm("scontrol", "show", "hostnames", info.nodelist)
        hosts = out.split()
        if code != 0 or not hosts:
            raise LauncherError(
                f"cannot expand the node list {info.nodelist!r} of job {jobid}.",
                command="scontrol show hostnames",
                returncode=code,
                stderr_tail=tail_of(err),
            )
        return hosts

    async def release(self, jobid: int) -> None:
        """``scancel`` the job and wait (shielded, 30 s at most) until squeue drops it."""
        with anyio.CancelScope(shield=True), anyio.move_on_after(30) as bounded:
            # squeue is external state: poll until the job is gone, asking again
            # every few seconds in case a scancel was lost (slurmctld busy)
            for poll in itertools.count():
                if poll % 50 == 0:
                    await self.slurm("scancel", str(jobid))
                if not await self._listed(jobid):
                    break
                await anyio.sleep(0.1)
        if bounded.cancelled_caught:
            log.error("slurm.release_failed", jobid=jobid, hint=f"run: scancel {jobid}")
        else:
            log.info("slurm.released", jobid=jobid)

    async def _listed(self, jobid: int) -> bool:
        code, out, _ = await self.slurm("squeue", "-h", "-j", str(jobid), "-o", "%i")
        return code == 0 and bool(out.strip())

    async def slurm(self, *argv: str) -> tuple[int, str, str]:
        return await capture(argv, env=self.env)
