"""``Result``: what an optimization returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._core._direction import Direction, best_of, no_best, pareto_front
from .._core._trial import FAILURES, Status, Trial

__all__ = ["Result", "ScheduleStep"]


@dataclass(frozen=True, slots=True)
class ScheduleStep:
    """One slice a PBT member trained: its trial, hyperparameters, result and lineage.

    ``checkpoint_from`` is the trial whose checkpoint the slice continued (None:
    it started afresh); ``exploited_from`` the member whose checkpoint and
    hyperparameters it took over just before (None: it carried on its own).
    """

    step: int
    trial_id: int
    params: dict[str, Any]
    fom: float
    status: Status
    checkpoint_from: int | None
    exploited_from: int | None


@dataclass(slots=True)
class Result:
    """The outcome of a run: the best point and every trial, in finishing order.

    ``best_trial`` (and ``best_fom``, ``best_params``) is the trial with the best
    FoM (the lowest, or the highest when the evaluator's ``direction`` is
    ``"maximize"``; ``best_fom`` is ``inf``, or ``-inf``, when none succeeded)
    among those that ran to their end (``trial.ok``), as Optuna's
    ``best_trial`` ignores pruned trials: a trial stopped early holds the FoM of
    a shorter training, not a result its parameters reproduce.

    With several objectives (``Evaluator(objectives=...)``) there is no single
    best: ``pareto_front`` lists the trials no other dominates, and ``best_*``
    rank by the first objective alone (``fom`` is its value).
    """

    trials: list[Trial] = field(default_factory=list)
    elapsed: float = 0.0
    journal_path: Path | None = None
    seed: int | None = None
    #: True when the ``timeout`` budget stopped the run early
    expired: bool = False
    #: True when ``opt.cancel()`` stopped the run
    cancelled: bool = False
    #: the evaluator's: which way the FoM is better
    direction: Direction = "minimize"
    #: the number of distinct points of a finite search space (None: infinite or unknown)
    space_size: int | None = None
    #: True when every point of the finite search space was evaluated, so the run ended
    #: there whatever was left of its budget (no point is evaluated twice)
    space_exhausted: bool = False
    #: the evaluator's objectives and their directions (empty: one FoM)
    objectives: dict[str, Direction] = field(default_factory=dict)
    #: how many of ``trials`` (the first ones) finished before this run: a resumed
    #: run's journal held them
    resumed: int = 0

    @property
    def best_trial(self) -> Trial | None:
        return best_of(self.trials, self.direction)

    @property
    def best_fom(self) -> float:
        best = self.best_trial
        return best.fom if best is not None else no_best(self.direction)

    @property
    def best_params(self) -> dict[str, Any]:
        best = self.best_trial
        return dict(best.params) if best is not None else {}

    @property
    def pareto_front(self) -> list[Trial]:
        """The successful trials (``trial.ok``) that no other successful trial
        dominates (is no worse in every objective, each in its direction, and better
        in one): the best trade-offs of a multi-objective search.

        Ordered by the first objective, best first (then by the next, then by
        id), so for two objectives it runs along the front from one end to the
        other. Trials with equal objective values all belong to it. With one FoM,
        the trials with the best FoM.
        """
        return pareto_front(self.trials, self.objectives, self.direction)

    @property
    def n_failed(self) -> int:
        """Trials that ended without a result (neither ok, stopped early, nor cancelled)."""
        return sum(1 for t in self.trials if t.status in FAILURES)

    @property
    def n_stopped(self) -> int:
        """Trials stopped early by the evaluator's ``early_stopping`` rule."""
        return sum(1 for t in self.trials if t.status is Status.STOPPED)

    @property
    def n_cancelled(self) -> int:
        return sum(1 for t in self.trials if t.status is Status.CANCELLED)

    @property
    def n_interrupted(self) -> int:
        """Trials the machine or the cluster ended (not their parameters); resume runs
        them again."""
        return sum(1 for t in self.trials if t.status is Status.INTERRUPTED)

    def lineage(self, trial_id: int) -> list[int]:
        """The trials whose checkpoints ``trial_id``'s weights descend from, oldest first.

        Follows ``checkpoint_from`` (the trial whose committed checkpoint was
        copied in before the program started) back to a trial that started
        afresh; the list ends with ``trial_id``.
        """
        by_id = {trial.id: trial for trial in self.trials}
        chain = [trial_id]
        while (trial := by_id.get(chain[-1])) is not None:
            source = trial.info.get("checkpoint_from")
            if source is None or source in chain:
                break
            chain.append(int(source))
        return chain[::-1]

    def schedules(self) -> dict[int, list[ScheduleStep]]:
        """Each PBT member's slices in order: its hyperparameter schedule and lineage.

        Keyed by member; empty for runs of other strategies.
        """
        members: dict[int, list[ScheduleStep]] = {}
        for trial in self.trials:
            member = trial.info.get("member")
            if trial.info.get("strategy") != "pbt" or member is None:
                continue
            exploited = trial.info.get("exploited_from")
            members.setdefault(int(member), []).append(
                ScheduleStep(
                    step=int(trial.info.get("step", 0)),
                    trial_id=trial.id,
                    params=dict(trial.params),
                    fom=trial.fom,
                    status=trial.status,
                    checkpoint_from=trial.info.get("checkpoint_from"),
                    exploited_from=None if exploited is None else int(exploited["member"]),
                )
            )
        return {
            member: sorted(steps, key=lambda s: (s.step, s.trial_id))
            for member, steps in sorted(members.items())
        }

    def __repr__(self) -> str:
        return (
            f"Result(best_fom={self.best_fom!r}, best_params={self.best_params!r}, "
            f"trials={len(self.trials)}, n_failed={self.n_failed}, n_stopped={self.n_stopped}, "
            f"elapsed={self.elapsed:.3f})"
        )
