"""Several evaluations on one node, each on its own GPUs: a node's devices as shares.

On Slurm and PBS each evaluation normally takes whole nodes. With
``Evaluator(gpus=[0, 1, 2, 3], gpus_per_eval=2)`` a node is split instead: every
host of the allocation gets the same ids, cut into shares of ``gpus_per_eval``
(``n1:0,1``, ``n1:2,3``, ``n2:0,1`` ...), and a one-node evaluation takes one share
(the step runs on its host, with ``CUDA_VISIBLE_DEVICES`` and the other variables
of :func:`~hyperdeme._core._devices.device_environment` set to the share's ids).
Ids left over (5 devices at 2 each) are not used, as on one machine.

:class:`PackedHosts` is a :class:`~hyperdeme._core._hosts.HostPool` of host names
to the launchers (take, give back, retire a dead node, restore it) over a pool of
shares, so the launchers' node-failure handling stays as it is. A multi-node
evaluation is refused here: its ranks would need per-host ids, which is the
site's binding to do (``srun --gpus-per-task``, gres, ``launch_args``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .._core._devices import device_environment
from .._core._errors import ConfigError
from .._core._hosts import HostPool, PoolTooSmall
from ._base import Job

__all__ = ["PackedHosts", "Placement", "Share", "packed", "placed_devices", "placed_info"]


@dataclass(frozen=True, slots=True)
class Share:
    """``gpus_per_eval`` devices of one host."""

    host: str
    gpus: tuple[str, ...]


class Placement(list[str]):
    """The host an evaluation runs on (a list of one name, as the launchers expect)
    and the share it holds, given back with it."""

    def __init__(self, share: Share) -> None:
        super().__init__([share.host])
        self.share = share

    @property
    def gpus(self) -> tuple[str, ...]:
        return self.share.gpus


def shares(hosts: Sequence[str], gpus: Sequence[str], per_eval: int) -> list[Share]:
    """Each host's devices in groups of ``per_eval``, hosts taken in turn (a run
    spreads over the nodes before doubling up)."""
    groups = [tuple(gpus[i : i + per_eval]) for i in range(0, len(gpus) - per_eval + 1, per_eval)]
    return [Share(host, group) for group in groups for host in hosts]


class PackedHosts(HostPool[str]):
    """See the module docstring."""

    def __init__(self, hosts: Iterable[str], gpus: Sequence[str], per_eval: int) -> None:
        super().__init__(hosts)
        self.gpus = tuple(gpus)
        self.per_eval = per_eval
        self._shares: HostPool[Share] = HostPool(shares(self.hosts, self.gpus, per_eval))

    def fits(self, gpus: Sequence[str], per_eval: int) -> bool:
        return (tuple(gpus), per_eval) == (self.gpus, self.per_eval)

    @property
    def in_service(self) -> int:
        return len(self.hosts) - len(self.retired)

    @property
    def free(self) -> int:
        return self._shares.free

    @property
    def retired(self) -> frozenset[str]:
        """Hosts whose every share is out of service."""
        out = {share.host for share in self._shares.retired}
        return frozenset(out)

    async def take(self, count: int) -> list[str]:
        if count != 1:
            raise ConfigError(
                f"an evaluation of {count} nodes cannot be given gpus= devices: packing "
                "puts one-node evaluations on a node's GPUs. Leave gpus out and bind the "
                "devices of a multi-node evaluation with the site's options (srun "
                "--gpus-per-task in launch_args, a gres request).",
                name="gpus",
                value=list(self.gpus),
            )
        try:
            [share] = await self._shares.take(1)
        except PoolTooSmall:
            raise PoolTooSmall(count, self.in_service) from None
        return Placement(share)

    def give_back(self, hosts: Iterable[str]) -> None:
        if isinstance(hosts, Placement):
            self._shares.give_back([hosts.share])

    def retire(self, hosts: Iterable[str]) -> None:
        down = set(hosts)
        self._shares.retire(s for s in self._shares.hosts if s.host in down)

    def restore(self, hosts: Iterable[str]) -> None:
        back = set(hosts)
        self._shares.restore(s for s in self._shares.hosts if s.host in back)


def packed(pool: HostPool[str], job: Job) -> HostPool[str]:
    """``pool``, split into shares of devices when ``job`` carries a device pool (once:
    the same pool comes back after)."""
    if not job.device_pool:
        return pool
    if isinstance(pool, PackedHosts) and pool.fits(job.device_pool, job.gpus_per_eval):
        return pool
    return PackedHosts(pool.hosts, job.device_pool, job.gpus_per_eval)


def placed_devices(hosts: list[str], job: Job) -> dict[str, str]:
    """The device variables of an evaluation placed on ``hosts``: its share's ids; an
    evaluation that has its node(s) to itself (a batch job of its own) gets the first
    ``gpus_per_eval`` of the pool; none without ``gpus=``."""
    if isinstance(hosts, Placement):
        return device_environment(hosts.gpus)
    if job.device_pool:
        return device_environment(job.device_pool[: job.gpus_per_eval])
    return {}


def placed_info(devices: dict[str, str]) -> dict[str, Any]:
    """What the trial journals of its devices (``info["gpus"]``)."""
    ids = devices.get("HYPERDEME_GPUS")
    return {"gpus": ids.split(",")} if ids else {}
