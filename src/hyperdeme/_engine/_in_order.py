"""``InOrder``: finished trials handed on in trial-id order (``reproducible=True``).

By default the scheduler tells the strategy each result as it arrives, so
with more than one slot a steady-state strategy's next candidates depend on
which evaluation finished first: the same seed gives other trials when the
timing differs. With ``reproducible=True`` the scheduler tells results in id
order, one at a time, and asks for a new candidate only while fewer than
``slots`` asked trials are untold: candidate ``k`` is then drawn from the
state after trials ``1 .. k - slots`` were told (more when the strategy waited
for results), whatever the timing. A result that finishes before an earlier
trial's is held back here until its turn; its slot stays free meanwhile, which
is what reproducibility costs in slot utilization.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._core._trial import Trial

if TYPE_CHECKING:
    from anyio.streams.memory import MemoryObjectReceiveStream

__all__ = ["InOrder"]


class InOrder:
    """Reorders finished trials: :meth:`next` returns the lowest asked id's, once finished."""

    def __init__(self) -> None:
        #: asked (or run again) and not yet handed on, by id
        self._untold: set[int] = set()
        #: finished before their turn
        self._held: dict[int, Trial] = {}

    def asked(self, trial_id: int) -> None:
        self._untold.add(trial_id)

    async def next(self, done: MemoryObjectReceiveStream[Trial]) -> Trial:
        """The finished trial with the lowest untold id, receiving from ``done`` until it is."""
        turn = min(self._untold)
        while turn not in self._held:
            trial = await done.receive()
            self._held[trial.id] = trial
        self._untold.discard(turn)
        return self._held.pop(turn)

    def held(self) -> list[Trial]:
        """The trials finished but not handed on (the run stopped), by id; forgotten here."""
        trials = [self._held[trial_id] for trial_id in sorted(self._held)]
        for trial_id in self._held:
            self._untold.discard(trial_id)
        self._held.clear()
        return trials
