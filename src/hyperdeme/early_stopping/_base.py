"""The early-stopping protocol: a rule that stops trials whose intermediate FoMs are hopeless.

A training program that prints its FoM every epoch reports one *step* per
such line (see :mod:`hyperdeme._engine._metrics`). A rule is a frozen,
validated configuration (:class:`~hyperdeme.ASHA`) given to the
``Evaluator``; the engine makes one state per run from it and asks that state
about every step of every trial, in the order the steps arrive. Call order::

    rule = hyperdeme.ASHA(max_steps=27)
    state = rule.start()                       # once per run (resume: rule.resume(trials))
    for each step of each running attempt:
        if state.keeps(step):                  # journalled in trial.intermediate
            trial.intermediate[step] = fom
        if state.report(trial_id, step, fom):  # True: stop that trial now
            ...                                # its launch is cancelled, status "stopped"

Like a strategy, a state is pure and synchronous: no processes, files, clocks
or event loop, so rules are tested with plain synchronous tests, and the
decisions depend only on the order of the reports. A retried trial reports
its steps again from step 1; its new values replace the earlier attempt's.

Write your own rule (a median rule, a threshold) by subclassing both classes:
:meth:`EarlyStopping.start` returns a fresh :class:`EarlyStoppingState`, whose
:meth:`~EarlyStoppingState.report` decides. What :meth:`~EarlyStoppingState.keeps`
keeps is written to the journal with each trial, which is what
:meth:`EarlyStopping.resume` replays to rebuild the state of a resumed run.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._core._trial import Trial

__all__ = ["EarlyStopping", "EarlyStoppingState"]


class EarlyStoppingState(ABC):
    """The decisions of one run; see the module docstring."""

    @abstractmethod
    def report(self, trial_id: int, step: int, fom: float) -> bool:
        """Record trial ``trial_id``'s intermediate FoM at ``step`` (1, 2, ...); return True
        to stop the trial now. ``fom`` is a score, lower is better (the program's FoM,
        negated when the evaluator maximises); it may be NaN or infinite (a diverged
        training)."""

    def keeps(self, step: int) -> bool:
        """Whether ``step``'s FoM is journalled in ``trial.intermediate`` (and so replayed
        on resume). Default: every step; a rule that looks at a few steps keeps those."""
        return True

    def restore(self, trial: Trial) -> None:
        """Take in a trial of an earlier part of the run, from its journal record:
        by default its kept intermediate FoMs are reported again, in step order."""
        for step, fom in sorted(trial.intermediate.items()):
            self.report(trial.id, step, fom)


class EarlyStopping(ABC):
    """A rule deciding from intermediate FoMs whether to stop a trial early.

    Subclasses are frozen configurations; see the module docstring.
    """

    @abstractmethod
    def start(self) -> EarlyStoppingState:
        """A fresh state for one run."""

    def resume(self, trials: Iterable[Trial]) -> EarlyStoppingState:
        """The state of a run that already finished ``trials`` (read from its journal),
        rebuilt from what each trial journalled (``trial.intermediate``)."""
        state = self.start()
        for trial in trials:
            state.restore(trial)
        return state
