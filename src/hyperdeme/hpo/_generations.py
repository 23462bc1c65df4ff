"""When a genetic run's generation is complete, for crayai's per-generation block.

A trial carries its generation in ``trial.info["generation"]``. Generation
``g`` is complete once every trial of generations ``0..g`` has finished: in
``"steady"`` mode each deme's ``g``-th population (``pop_size`` trials a deme),
in ``"generational"`` mode the first ``num_demes * pop_size`` and then
``num_demes * (pop_size - 1)`` new children a generation (the best of each deme
carries over). Counting finished trials per generation, not in order of
finishing, keeps this right when generations overlap (steady mode, several
slots) and when a run is resumed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .._core._trial import Trial

__all__ = ["Generations"]


@dataclass(slots=True)
class Generations:
    """Counts finished trials by generation; :meth:`add` says which generations it
    completed, :meth:`rest` the ones a run's end leaves incomplete."""

    num_demes: int
    pop_size: int
    generational: bool
    #: evaluations the run plans in all (a budget can end the last generation early)
    budget: int
    #: finished trials of each generation, ok or not
    _finished: dict[int, int] = field(default_factory=dict)
    #: generations reported (all below this one)
    _reported: int = 0

    def through(self, generation: int) -> int:
        """Trials of generations ``0..generation``, the budget permitting."""
        first = self.num_demes * self.pop_size
        later = self.num_demes * (self.pop_size - 1 if self.generational else self.pop_size)
        return min(first + generation * later, self.budget)

    def add(self, trial: Trial) -> list[int]:
        """Count ``trial``; the generations it completed, oldest first."""
        generation = trial.info.get("generation")
        if isinstance(generation, int):
            self._finished[generation] = self._finished.get(generation, 0) + 1
        done: list[int] = []
        while self._reported in self._finished and self._complete(self._reported):
            done.append(self._reported)
            self._reported += 1
        return done

    def rest(self) -> list[int]:
        """The generations with finished trials not reported yet (the run ended)."""
        rest = [g for g in sorted(self._finished) if g >= self._reported]
        if rest:
            self._reported = rest[-1] + 1
        return rest

    def finished_through(self, generation: int) -> int:
        """Finished trials of generations ``0..generation``."""
        return sum(n for g, n in self._finished.items() if g <= generation)

    def _complete(self, generation: int) -> bool:
        return self.finished_through(generation) >= self.through(generation)
