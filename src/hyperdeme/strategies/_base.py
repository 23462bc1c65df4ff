"""The strategy protocol: a pure ask/tell state machine over a search space.

A strategy never touches processes, files, clocks or the event loop, so it is
tested with plain synchronous tests. The engine assigns trial ids and drives
it; call order::

    strategy = GeneticSearch(space, GeneticConfig(pop_size=8), seed=1)
    while not strategy.finished:
        candidate = strategy.ask(trial_id)   # None: nothing to start right now
        ...                                  # evaluations run, many at once
        strategy.tell(trial)                 # once per asked trial.id, any order
        strategy.released_checkpoints()      # slots the engine may delete now

``ask`` returning ``None`` while evaluations are outstanding means "wait for a
result" (a generation barrier); returning ``None`` with nothing outstanding
means the strategy is done (``finished``). A trial id is used by one
successful ``ask`` only; an id whose ``ask`` returned None may be offered again.

A candidate may carry a :class:`~hyperdeme.CheckpointPlan`: the checkpoint
slot it writes and the committed slot it starts from (population-based
training). Slots no later candidate will start from are handed back with
``released_checkpoints()`` so the engine deletes them instead of keeping one
checkpoint per trial; a slot an outstanding candidate starts from is never
released.

Randomness comes from ``self.rng``, a ``numpy.random.Generator`` created
lazily from the explicit seed (an int >= 0; None or 0 draws a fresh one, kept
in ``self.seed`` for replay).

Configuration is separate from state: each strategy has a frozen, validated
config (``RandomConfig``, ``GridConfig``, ``GeneticConfig``) that can be
checked without a search space, and ``config.strategy(space, seed=...)``
builds the state machine. How many evaluations may run at once is not a
strategy's business: wrap it in :class:`~hyperdeme.strategies.ConcurrencyLimiter`.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from .._core._checks import seed as check_seed
from .._core._errors import UsageError

if TYPE_CHECKING:
    import numpy as np

    from .._core._trial import Candidate, Trial
    from .._space import Params

__all__ = ["Strategy", "slot_of"]


def slot_of(trial_id: int) -> str:
    """The checkpoint slot trial ``trial_id`` writes: its id, like its run directory."""
    return f"{trial_id:05d}"


class Strategy(ABC):
    """Base class of the search strategies; see the module docstring.

    Subclasses implement :meth:`_ask` and :meth:`_exhausted`, and usually
    :meth:`_tell`. The base class keeps the outstanding trial ids and refuses
    protocol misuse with :class:`~hyperdeme.UsageError`.
    """

    def __init__(self, space: Params, *, seed: int | None = None) -> None:
        self.space = space
        #: the seed actually used; a fresh one when None/0 was given
        self.seed: int = check_seed("seed", seed) or _fresh_seed()
        self._rng: np.random.Generator | None = None
        self._outstanding: set[int] = set()

    @property
    def rng(self) -> np.random.Generator:
        if self._rng is None:
            import numpy as np

            self._rng = np.random.default_rng(self.seed)
        return self._rng

    @property
    def outstanding(self) -> int:
        """Candidates asked and not yet told."""
        return len(self._outstanding)

    def ask(self, trial_id: int) -> Candidate | None:
        """The candidate to evaluate as trial ``trial_id``, or None (see the module docstring)."""
        if trial_id in self._outstanding:
            raise UsageError(f"trial {trial_id} was already asked for; use a new trial id.")
        candidate = self._ask(trial_id)
        if candidate is not None:
            self._outstanding.add(trial_id)
        return candidate

    def tell(self, trial: Trial) -> None:
        """Take the result of an asked trial into account."""
        try:
            self._outstanding.remove(trial.id)
        except KeyError:
            raise UsageError(
                f"trial {trial.id} is not outstanding for this {type(self).__name__}: it was "
                "never asked for, or was told already; tell each asked trial exactly once."
            ) from None
        self._tell(trial)

    @property
    def finished(self) -> bool:
        """True when nothing is outstanding and the strategy will never ask again."""
        return not self._outstanding and self._exhausted()

    @property
    def budget(self) -> int | None:
        """How many evaluations this strategy plans in all, when it knows."""
        return None

    @property
    def generation_size(self) -> int | None:
        """Evaluations that make one generation (a population's worth), for progress
        reports; None when the strategy has no generations."""
        return None

    def describe(self) -> dict[str, Any]:
        """What this strategy is: its type and settings (not its state, not its seed),
        as JSON-able data. An experiment records it to refuse resuming with another."""
        config = getattr(self, "config", None)
        settings = (
            dataclasses.asdict(config)
            if dataclasses.is_dataclass(config) and not isinstance(config, type)
            else {}
        )
        return {"type": type(self).__name__, "settings": settings}

    def released_checkpoints(self) -> list[str]:
        """Committed checkpoint slots no candidate will start from any more, each given once.

        The engine calls it after every ``tell`` and deletes those slots. None by default.
        """
        return []

    @abstractmethod
    def _ask(self, trial_id: int) -> Candidate | None:
        """The next candidate, or None when none can start now."""

    def _tell(self, trial: Trial) -> None:  # noqa: B027 - optional hook
        """Take a finished trial into account (no-op by default)."""

    @abstractmethod
    def _exhausted(self) -> bool:
        """True once the strategy will never ask again (budget used)."""


def _fresh_seed() -> int:
    import secrets  # where needed: most runs give a seed

    return secrets.randbits(63)
