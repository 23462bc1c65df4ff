"""The strategy protocol: a pure ask/tell state machine over a search space.

A strategy never touches processes, files, clocks or the event loop, so it is
tested with plain synchronous tests. A plug-in subclasses :class:`Strategy`
and overrides public hooks only:

- :meth:`~Strategy.propose` (required): the candidate to evaluate as trial
  ``trial_id``, or None when none can start now;
- :meth:`~Strategy.exhausted` (required): True once it will never propose again;
- :meth:`~Strategy.observe` (optional, no-op by default): take a finished trial
  into account;
- ``budget``, ``budget_settings``, ``generation_size``,
  :meth:`~Strategy.describe` and :meth:`~Strategy.released_checkpoints`
  (optional, with defaults).

The engine never calls the hooks directly: it calls the base class's
:meth:`~Strategy.ask`, :meth:`~Strategy.tell` and :attr:`~Strategy.finished`,
which keep the outstanding trial ids, refuse protocol misuse with
:class:`~hyperdeme.UsageError` and then call the hooks. It assigns the trial
ids and drives a strategy in this order::

    strategy = factory(space, seed=seed)    # e.g. GeneticSearch(space, config, seed=1)
    while not strategy.finished:            # nothing outstanding and exhausted()
        candidate = strategy.ask(trial_id)  # -> propose(trial_id)
        ...                                 # evaluations run, many at once
        strategy.tell(trial)                # -> observe(trial); once per asked id, any order
        strategy.released_checkpoints()     # slots the engine may delete now

``propose`` returning ``None`` while evaluations are outstanding means "wait
for a result" (a generation barrier); returning ``None`` with nothing
outstanding and ``exhausted()`` true means the strategy is done. A trial id is
used by one successful ``ask`` only; an id whose ``ask`` returned None may be
offered again. ``observe`` sees every trial asked for, whatever its status
(lower FoMs are better, whatever the evaluator's ``direction``: maximising, the
engine tells the negated FoM; ``trial.ok`` is false for a failed one), in the order
they finish (``trial.candidate`` is what ``propose`` returned); when a
run is resumed, the journal's trials are asked and told again in their order,
so a strategy whose proposals depend only on its seed and what it observed is
rebuilt exactly.

A candidate may carry a :class:`~hyperdeme.CheckpointPlan`: the checkpoint
slot it writes and the committed slot it starts from (population-based
training). Slots no later candidate will start from are handed back with
``released_checkpoints()`` so the engine deletes them instead of keeping one
checkpoint per trial; a slot an outstanding candidate starts from is never
released.

Every candidate asked and every trial told joins ``self.seen`` (a
:class:`~hyperdeme.strategies.SeenPoints`), rebuilt on resume by the
replay; the built-in strategies never propose a point in it (PBT members that
continue training keep theirs), and on a finite space say ``exhausted()`` once
``self.seen.complete``.

Randomness comes from ``self.rng``, a ``numpy.random.Generator`` created
lazily from the explicit seed (an int >= 0; None or 0 draws a fresh one, kept
in ``self.seed`` for replay).

Configuration is separate from state: each built-in strategy has a frozen,
validated config (``RandomConfig``, ``GridConfig``, ``GeneticConfig``) that can
be checked without a search space, and ``config.strategy(space, seed=...)``
builds the state machine; ``describe()`` records a ``config`` dataclass
attribute as the strategy's settings. How many evaluations may run at once is
not a strategy's business: wrap it in
:class:`~hyperdeme.strategies.ConcurrencyLimiter`.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Protocol

from .._core._checks import seed as check_seed
from .._core._errors import UsageError
from .._core._trial import Candidate
from ._seen import SeenPoints

if TYPE_CHECKING:
    import numpy as np

    from .._core._trial import Trial
    from .._space import Params

__all__ = ["Strategy", "StrategyFactory", "slot_of"]


def slot_of(trial_id: int) -> str:
    """The checkpoint slot trial ``trial_id`` writes: its id, like its run directory."""
    return f"{trial_id:05d}"


def _type_name(cls: type) -> str:
    """hyperdeme's strategies by name (as journals record them), others fully qualified."""
    if cls.__module__ == "hyperdeme" or cls.__module__.startswith("hyperdeme."):
        return cls.__name__
    return f"{cls.__module__}.{cls.__qualname__}"


class Strategy(ABC):
    """Base class of the search strategies; see the module docstring.

    Subclasses implement :meth:`propose` and :meth:`exhausted`, and usually
    :meth:`observe`; the engine calls :meth:`ask`, :meth:`tell` and
    :attr:`finished`, which keep the outstanding trial ids and refuse protocol
    misuse with :class:`~hyperdeme.UsageError`.
    """

    def __init__(self, space: Params, *, seed: int | None = None) -> None:
        self.space = space
        #: the seed actually used; a fresh one when None/0 was given
        self.seed: int = check_seed("seed", seed) or _fresh_seed()
        self._rng: np.random.Generator | None = None
        self._outstanding: set[int] = set()
        self._seen: SeenPoints | None = None

    @property
    def rng(self) -> np.random.Generator:
        if self._rng is None:
            import numpy as np

            self._rng = np.random.default_rng(self.seed)
        return self._rng

    @property
    def seen(self) -> SeenPoints:
        """The points asked for or told so far (see ``_seen``): what is never proposed again."""
        if self._seen is None:
            self._seen = SeenPoints(self.space)
        return self._seen

    @property
    def outstanding(self) -> int:
        """Candidates asked and not yet told."""
        return len(self._outstanding)

    def ask(self, trial_id: int) -> Candidate | None:
        """The candidate to evaluate as trial ``trial_id``, or None (see the module docstring)."""
        if trial_id in self._outstanding:
            raise UsageError(f"trial {trial_id} was already asked for; use a new trial id.")
        candidate = self.propose(trial_id)
        if candidate is not None and not isinstance(candidate, Candidate):
            raise UsageError(
                f"{type(self).__name__}.propose({trial_id}) returned a "
                f"{type(candidate).__name__}; return a hyperdeme.Candidate(params) or None."
            )
        if candidate is not None:
            self._outstanding.add(trial_id)
            self.seen.add(candidate.params)
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
        if trial.candidate is None:  # else its candidate joined at ask
            self.seen.add(trial.params)
        self.observe(trial)

    @property
    def finished(self) -> bool:
        """True when nothing is outstanding and the strategy will never ask again."""
        return not self._outstanding and self.exhausted()

    @property
    def budget(self) -> int | None:
        """How many evaluations this strategy plans in all, when it knows."""
        return None

    @property
    def budget_settings(self) -> tuple[str, ...]:
        """The settings (keys of ``describe()["settings"]``) that only say how many
        evaluations to run: a resumed experiment may change them (a budget that grows),
        and the strategy rebuilt by replaying the journal goes on to the new budget.
        None by default: a resume refuses any changed setting."""
        return ()

    @property
    def generation_size(self) -> int | None:
        """Evaluations that make one generation (a population's worth), for progress
        reports; None when the strategy has no generations."""
        return None

    def describe(self) -> dict[str, Any]:
        """What this strategy is: its type and settings (not its state, not its seed),
        as JSON-able data. An experiment records it to refuse resuming with another.

        The type is the class's name for hyperdeme's own strategies and its qualified
        name (``my_package.search.MySearch``) for others; the settings are the
        ``config`` attribute's fields when it is a dataclass instance, else none.
        A strategy with settings kept otherwise overrides this to return them too.
        """
        config = getattr(self, "config", None)
        settings = (
            dataclasses.asdict(config)
            if dataclasses.is_dataclass(config) and not isinstance(config, type)
            else {}
        )
        return {"type": _type_name(type(self)), "settings": settings}

    def released_checkpoints(self) -> list[str]:
        """Committed checkpoint slots no candidate will start from any more, each given once.

        The engine calls it after every ``tell`` and deletes those slots. None by default.
        """
        return []

    @abstractmethod
    def propose(self, trial_id: int) -> Candidate | None:
        """The candidate to evaluate as trial ``trial_id``, or None when none can start now
        (wait for results, or done). Called by :meth:`ask`."""

    def observe(self, trial: Trial) -> None:  # noqa: B027 - optional hook
        """Take a finished trial into account (no-op by default). Called by :meth:`tell`."""

    @abstractmethod
    def exhausted(self) -> bool:
        """True once :meth:`propose` will never return a candidate again (budget used)."""


class StrategyFactory(Protocol):
    """What builds a strategy: ``factory(space, seed=seed)`` returns a :class:`Strategy`.

    A Strategy subclass whose constructor is ``(space, *, seed=None, ...)`` is one;
    so is ``functools.partial(MySearch, step=0.1)``. ``seed`` None draws a fresh one.
    """

    def __call__(self, space: Params, /, *, seed: int | None) -> Strategy: ...


def _fresh_seed() -> int:
    import secrets  # where needed: most runs give a seed

    return secrets.randbits(63)
