"""How many demes, how large, and how many generations: crayai's, or chosen for a budget.

``sized_for(max_evals)`` is the table behind ``GeneticConfig(max_evals=N)``
(see ``GeneticConfig`` for how it meets settings given explicitly)::

    max_evals      100   400   1,000  2,000  5,000  20,000  256,000
    demes x pop    1x8   1x8   2x9    2x13   2x20   4x28    4x64
    generations    13    50    56     77     125    179     1,000

Small budgets want few, small demes: the initial population is spent before
selection starts, and a deme needs many generations to exploit what it finds
(at 400 evaluations one deme of 8 beat demes of 12 and 16; 2 demes of 20 are
two runs of 200). Once each deme gets about 500 evaluations, a second one pays
(islands keep apart the basins a single greedy deme would drop). The size
grows with the square root of a deme's evaluations, up to crayai's 64, which
it reaches at crayai's own budget.
"""

from __future__ import annotations

import math
from typing import NamedTuple

__all__ = ["CRAYAI", "Sizing", "sized_for"]


class Sizing(NamedTuple):
    num_demes: int
    pop_size: int
    generations: int


#: crayai.hpo's defaults: 4 demes x 64, 1,000 generations (256,000 evaluations)
CRAYAI = Sizing(num_demes=4, pop_size=64, generations=1000)

#: (fewest evaluations, demes): more islands once each can run many generations
_DEMES = ((0, 1), (1_000, 2), (8_000, 4))
_MIN_POP, _MAX_POP = 8, 64
_POP_PER_SQRT = 1 / 2.5


def demes_for(max_evals: int) -> int:
    return max(demes for fewest, demes in _DEMES if max_evals >= fewest)


def pop_for(evals_per_deme: float) -> int:
    """A deme's size for the evaluations it gets: ``sqrt(evals) / 2.5``, within [8, 64]."""
    return min(_MAX_POP, max(_MIN_POP, round(math.sqrt(evals_per_deme) * _POP_PER_SQRT)))


def generations_for(max_evals: int, num_demes: int, pop_size: int, mode: str) -> int:
    """The fewest generations whose budget covers ``max_evals``."""
    if mode == "steady":
        return max(1, math.ceil(max_evals / (num_demes * pop_size)))
    # generational: pop_size in the first generation, pop_size - 1 children afterwards
    after_first = max_evals / num_demes - pop_size
    return 1 + max(0, math.ceil(after_first / (pop_size - 1)))


def sized_for(
    max_evals: int,
    *,
    mode: str = "steady",
    num_demes: int | None = None,
    pop_size: int | None = None,
    generations: int | None = None,
) -> Sizing:
    """The sizing for ``max_evals`` evaluations; a value given is kept as it is."""
    demes = num_demes if num_demes is not None else demes_for(max_evals)
    pop = pop_size if pop_size is not None else pop_for(max_evals / demes)
    if generations is None:
        generations = generations_for(max_evals, demes, pop, mode)
    return Sizing(demes, pop, generations)
