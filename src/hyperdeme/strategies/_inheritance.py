"""crayai-style PBT in the genetic search: which checkpoint each child continues.

With ``inherit_checkpoints`` every genetic trial writes a checkpoint slot of
its own (its id, ``00042``) and a child starts from a checkpoint of its
*fitter* parent (the lower FoM; ties: the lower trial id), so it trains on
from that parent's weights with its own crossed and mutated hyperparameters.
An initial individual, or a child of a deme none of whose trials finished,
starts empty. The genetic search draws a child's parents among members of
*earlier* generations only, in both modes (in ``"steady"`` mode a sibling of the
child's own generation may have finished first; it is not a parent), so the
fitter parent's own checkpoint is never too deep for the child.

``gens_per_epoch`` generations share one epoch of training: a trial of
generation ``g`` belongs to epoch ``e = g // gens_per_epoch`` and should start
from weights trained ``e`` epochs, so the trials of an epoch are compared after
the same amount of training. The child takes the deepest checkpoint of its
fitter parent's line (the parent's own, else the one the parent started from,
and so on back) that holds at most ``e`` epochs. With ``gens_per_epoch=1``
(crayai's default) every child thus continues the checkpoint its fitter
parent's own evaluation wrote, in both modes. With ``gens_per_epoch=3`` the
population searches hyperparameters for 3 generations on the same weights,
then moves one epoch on: a child whose fitter parent is of an earlier epoch
continues that parent's own checkpoint; within an epoch, as a rule, the one
that parent started from. A parent whose trial failed has no checkpoint of its
own: the child takes the one the parent started from.

A slot is released once no deme member and no running trial can lead a child
to it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

from .._core._trial import CheckpointPlan, Status
from ._base import slot_of

if TYPE_CHECKING:
    from .._core._trial import Trial

__all__ = ["Inheritance"]


class Inheritance:
    """The checkpoint bookkeeping of a genetic search; see the module docstring."""

    def __init__(self, gens_per_epoch: int) -> None:
        self.gens_per_epoch = gens_per_epoch
        self._start: dict[int, int | None] = {}  # trial -> trial whose checkpoint it started from
        self._depth: dict[int, int] = {}  # committed trial -> epochs its checkpoint holds
        self._rank: dict[int, tuple[float, int]] = {}  # told trial -> (fom, id)
        self._outstanding: set[int] = set()
        self._committed: set[int] = set()  # slots holding a checkpoint, not released

    def epoch(self, generation: int) -> int:
        return generation // self.gens_per_epoch

    def plan(self, trial_id: int, generation: int, parents: Iterable[int]) -> CheckpointPlan:
        """The plan of a trial of ``generation`` whose parents (trial ids) are ``parents``."""
        told = [p for p in parents if p in self._rank]
        fitter = min(told, key=self._rank.__getitem__) if told else None
        start = self._source(fitter, self.epoch(generation))
        self._start[trial_id] = start
        self._outstanding.add(trial_id)
        return CheckpointPlan(slot_of(trial_id), None if start is None else slot_of(start))

    def _source(self, parent: int | None, epoch: int) -> int | None:
        """The deepest checkpoint of ``parent``'s line holding at most ``epoch`` epochs."""
        if parent is None:
            return None
        source = parent if parent in self._depth else self._start.get(parent)
        while source is not None and self._depth[source] > epoch:
            source = self._start[source]
        return source

    def told(self, trial: Trial) -> None:
        self._outstanding.discard(trial.id)
        self._rank[trial.id] = (trial.fom if trial.ok else math.inf, trial.id)
        if trial.status is Status.OK:  # the engine committed its checkpoint
            start = self._start.get(trial.id)
            self._depth[trial.id] = (0 if start is None else self._depth[start]) + 1
            self._committed.add(trial.id)

    def released(self, members: Iterable[int]) -> list[str]:
        """Slots no child can start from any more, given the demes' ``members`` (each once)."""
        needed = {t for member in members for t in (member, self._start.get(member))}
        needed |= {self._start[trial_id] for trial_id in self._outstanding}
        released = sorted(self._committed - needed)
        self._committed -= set(released)
        return [slot_of(trial_id) for trial_id in released]
