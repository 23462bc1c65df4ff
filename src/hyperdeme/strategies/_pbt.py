"""Population-based training (Jaderberg et al. 2017), as Ray Tune's scheduler does it.

``population`` members each train ``steps`` slices, one evaluation per slice,
each slice continuing from the member's last good checkpoint. Member 0 starts
from the defaults when every parameter has one; the others from random points
(all drawn at the first ``ask``, so the initial population depends on the seed
only).

A member is *ready* once it has trained ``ready_after`` slices since it was
last considered. A ready member is ranked against the latest result of every
member that has one (a failed slice ranks last): the best
``ceil(quantile * n)`` are the top, the worst as many the bottom (at most half
each; ``quantile=0`` means nobody ever exploits, a fixed-hyperparameter
baseline). A ready member in the bottom *exploits*: its next slice starts from
the checkpoint of a top member drawn uniformly, with that member's
hyperparameters, *explored* (see ``_explore``: each range multiplied by one of
``perturb`` or resampled with ``resample_probability``, value lists one index
up or down). Other members carry on unchanged.

``mode="async"`` (default): each member is decided the moment its slice is
told, and the next slice of any free member is asked at once: no barrier, a
slow member never holds up the others. Free members with the fewest slices
trained go first. ``mode="sync"``: every member trains slice ``k`` before any
starts slice ``k + 1``; decisions are made at that barrier, on the results of
slice ``k``.

Checkpoints: each trial writes its own slot (its id, ``00042``) and starts from
its member's last committed one, or the donor's when exploiting (a
:class:`~hyperdeme.CheckpointPlan`). Slots are never overwritten, so a donor's
next slice cannot change the checkpoint a member is copying; a slot is
released as soon as no member's next slice can start from it, so at most about
``population`` plus the running trials' slots exist. A slice that fails leaves
its member on its last good checkpoint (none: start afresh).

Repeated points (``_seen``): the initial members are distinct points (a
space with fewer points than ``population`` is refused with a ConfigError at
the first ask), and an explore step is drawn again, up to 8 times, while it
equals the hyperparameters some member has at the moment, then replaced by a
random point no member has (when there is one). A member's next
slice keeps its hyperparameters: it continues training, a new step, not a
repeat; so PBT never says it exhausted a finite space.

Budget: ``population * steps`` evaluations. The trial ``info`` carries
``member``, ``step`` (0-based), and on a slice after an exploit
``exploited_from`` (``{"member", "trial"}``) and ``explored`` (how each
hyperparameter moved).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .._core._checks import count, number, one_of, part, rate
from .._core._errors import ConfigError, ConfigTypeError
from .._core._settings import Config, setting
from .._core._trial import Candidate, CheckpointPlan, Status
from ._base import Strategy, slot_of
from ._explore import explore
from ._seen import SeenPoints

if TYPE_CHECKING:
    from .._core._trial import Trial
    from .._space import Params

__all__ = ["PBTConfig", "PBTSearch"]

PBTMode = Literal["async", "sync"]
#: explore steps tried for hyperparameters no member has at the moment
_EXPLORE_TRIES = 8


def _quantile(name: str, value: Any) -> float:
    fraction: float = number(0.0)(name, value)
    if fraction > 0.5:
        raise ConfigError(
            f"{name} must be in [0, 0.5] (the fraction of members in the top and in the "
            f"bottom), got {value!r}.",
            name=name,
            value=value,
        )
    return fraction


def _factors(name: str, value: Any) -> tuple[float, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise ConfigTypeError(
            f"{name} must be a sequence of factors > 0 such as (0.8, 1.2), got {value!r}.",
            name=name,
            value=value,
        )
    if not value:
        raise ConfigError(
            f"{name} must hold at least one factor > 0, got {value!r}.", name=name, value=value
        )
    check = number(0.0, above=True)
    return tuple(part(check, f"{name} (each factor)", factor, name=name) for factor in value)


@dataclass(frozen=True, kw_only=True)
class PBTConfig(Config):
    """Population-based training's settings (Ray Tune's meanings; see the module docstring)."""

    #: members trained side by side
    population: int = setting(16, count(2))
    #: slices (evaluations) each member trains
    steps: int = setting(20, count(1))
    #: the fraction ranked top, and as many bottom: a ready bottom member copies a top one
    quantile: float = setting(0.25, _quantile)
    #: factors an explored range is multiplied by (one drawn per parameter)
    perturb: tuple[float, ...] = setting((0.8, 1.2), _factors)
    #: probability that an explored parameter is resampled instead
    resample_probability: float = setting(0.25, rate)
    #: slices a member trains between two decisions
    ready_after: int = setting(1, count(1))
    #: ``async``: a member is decided when its slice ends; ``sync``: at a barrier per slice
    mode: PBTMode = setting("async", one_of(("async", "sync")))

    @property
    def budget(self) -> int:
        return self.population * self.steps

    def strategy(self, space: Params, *, seed: int | None = None) -> PBTSearch:
        return PBTSearch(space, self, seed=seed)


@dataclass(slots=True, eq=False)  # compared by identity
class _Member:
    index: int
    point: dict[str, Any]
    asked: int = 0
    told: int = 0
    running: int | None = None
    #: the latest result (inf until one, and after a failed slice)
    fom: float = math.inf
    #: the trial whose committed checkpoint is this member's latest, if any
    checkpoint: int | None = None
    #: the checkpoint the next slice starts from (its own, or a donor's)
    start: int | None = None
    since_decision: int = 0
    exploit: dict[str, Any] | None = None


class PBTSearch(Strategy):
    """Population-based training; see the module docstring."""

    def __init__(
        self, space: Params, config: PBTConfig | None = None, *, seed: int | None = None
    ) -> None:
        super().__init__(space, seed=seed)
        self.config = config = config or PBTConfig()
        self.mode: PBTMode = config.mode
        self._members: list[_Member] = []
        self._asked = 0
        self._by_trial: dict[int, _Member] = {}
        self._committed: set[int] = set()  # trials whose slots hold a checkpoint, not released

    @property
    def budget(self) -> int:
        return self.config.budget

    @property
    def generation_size(self) -> int:
        """One step of every member."""
        return self.config.population

    @property
    def members(self) -> list[dict[str, Any]]:
        """Each member's current hyperparameters (copies), member 0 first."""
        return [dict(member.point) for member in self._members]

    # ------------------------------------------------------------------ ask
    def exhausted(self) -> bool:
        return self._asked >= self.budget

    def propose(self, trial_id: int) -> Candidate | None:
        if self._asked >= self.budget:
            return None
        if not self._members:
            self._members = self._initial_population()
        member = self._next_member()
        if member is None:
            return None  # all busy (async), or the barrier (sync)
        info: dict[str, Any] = {"strategy": "pbt", "member": member.index, "step": member.asked}
        if member.exploit is not None:
            info.update(member.exploit)
            member.exploit = None
        start = member.start
        plan = CheckpointPlan(
            slot_of(trial_id), start_from=None if start is None else slot_of(start)
        )
        member.asked += 1
        member.running = trial_id
        self._asked += 1
        self._by_trial[trial_id] = member
        return Candidate(dict(member.point), info, checkpoint=plan)

    def _initial_population(self) -> list[_Member]:
        """``population`` distinct points: the defaults first when all are given."""
        distinct = SeenPoints(self.space)
        points: list[dict[str, Any]] = []
        for index in range(self.config.population):
            point: dict[str, Any] | None
            if index == 0 and self.space.has_all_defaults:
                point = self.space.fix(self.space.defaults(self.rng), self.rng)
            else:
                point = distinct.fresh(self._draw, self.rng)
            if point is None:
                raise ConfigError(
                    f"population={self.config.population} needs as many distinct points, but "
                    f"the search space has {len(distinct)}; lower population to at most "
                    f"{len(distinct)}.",
                    name="population",
                    value=self.config.population,
                )
            distinct.add(point)
            points.append(point)
        return [_Member(index, point) for index, point in enumerate(points)]

    def _draw(self) -> dict[str, Any]:
        return self.space.fix(self.space.sample(self.rng), self.rng)

    def _next_member(self) -> _Member | None:
        free = [m for m in self._members if m.running is None and m.asked < self.config.steps]
        if self.mode == "sync":
            round_ = min(m.told for m in self._members)
            free = [m for m in free if m.asked == round_]
        return min(free, key=lambda m: (m.asked, m.index), default=None)

    # ------------------------------------------------------------------ tell
    def observe(self, trial: Trial) -> None:
        member = self._by_trial.pop(trial.id)
        member.running = None
        member.told += 1
        member.fom = trial.fom if trial.ok else math.inf
        if trial.status is Status.OK:  # the engine committed its checkpoint
            member.checkpoint = trial.id
            self._committed.add(trial.id)
        member.start = member.checkpoint
        member.since_decision += 1
        if self.mode == "async":
            self._decide([member])
        elif all(m.told == member.told for m in self._members):  # the barrier
            self._decide(self._members)

    def _decide(self, candidates: list[_Member]) -> None:
        """Exploit and explore for each ready member of ``candidates`` in the bottom quantile."""
        ready = [
            m
            for m in candidates
            if m.since_decision >= self.config.ready_after and m.asked < self.config.steps
        ]
        if not ready:
            return
        ranked = sorted((m for m in self._members if m.told), key=lambda m: (m.fom, m.index))
        size = math.ceil(len(ranked) * self.config.quantile)
        size = min(size, len(ranked) // 2)
        top = [m for m in ranked[:size] if math.isfinite(m.fom) and m.checkpoint is not None]
        bottom = ranked[len(ranked) - size :] if size else []
        for member in ready:
            member.since_decision = 0
            if member in bottom and top:
                self._exploit(member, top[int(self.rng.integers(len(top)))])

    def _exploit(self, member: _Member, donor: _Member) -> None:
        # explored again while it equals a member's current point (see the module docstring)
        taken = SeenPoints(self.space)
        for other in self._members:
            taken.add(other.point)
        for _ in range(_EXPLORE_TRIES):
            point, moves = explore(
                donor.point,
                self.space,
                self.rng,
                self.config.perturb,
                self.config.resample_probability,
            )
            if point not in taken:
                break
        else:  # explore keeps landing on members' points: a random point no member has
            fresh = taken.fresh(self._draw, self.rng)
            if fresh is not None:
                point, moves = fresh, dict.fromkeys(self.space.flags, "resampled")
        member.point = point
        member.start = donor.checkpoint
        member.exploit = {
            "exploited_from": {"member": donor.index, "trial": donor.checkpoint},
            "explored": moves,
        }

    # ------------------------------------------------------------------ checkpoints
    def released_checkpoints(self) -> list[str]:
        # a running member's start is its trial's: members are exploited only between slices
        needed = {m.checkpoint for m in self._members} | {m.start for m in self._members}
        released = sorted(self._committed - needed)
        self._committed -= set(released)
        return [slot_of(trial_id) for trial_id in released]
