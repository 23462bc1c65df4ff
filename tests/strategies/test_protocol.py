"""The strategy protocol as a plug-in sees it: public hooks, wrapped by ask/tell/finished."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

import hyperdeme
from hyperdeme import Candidate, Params, Status, Strategy, Trial, UsageError

SPACE = Params([["--x", 0.5, (0.0, 1.0)]])


class Countdown(Strategy):
    """``count`` candidates, each ``--x`` the last observed FoM; records the hook calls."""

    def __init__(self, space: Params, *, seed: int | None = None, count: int = 2) -> None:
        super().__init__(space, seed=seed)
        self.count = count
        self.calls: list[tuple[str, int]] = []
        self.last = 0.5

    def propose(self, trial_id: int) -> Candidate | None:
        self.calls.append(("propose", trial_id))
        if self.count == 0:
            return None
        self.count -= 1
        return Candidate({"--x": self.last})

    def observe(self, trial: Trial) -> None:
        self.calls.append(("observe", trial.id))
        self.last = trial.fom

    def exhausted(self) -> bool:
        return self.count == 0


def finished(trial_id: int, candidate: Candidate, fom: float) -> Trial:
    return Trial(trial_id, candidate.params, fom, status=Status.OK, candidate=candidate)


def test_ask_and_tell_call_the_public_hooks_in_order() -> None:
    strategy = Countdown(SPACE, seed=1)
    first = strategy.ask(1)
    assert first is not None
    assert not strategy.finished
    strategy.tell(finished(1, first, 0.25))
    second = strategy.ask(2)
    assert second is not None
    assert second.params == {"--x": 0.25}
    assert strategy.ask(3) is None
    assert not strategy.finished  # trial 2 is outstanding
    strategy.tell(finished(2, second, 0.75))
    assert strategy.finished
    assert strategy.calls == [
        ("propose", 1), ("observe", 1), ("propose", 2), ("propose", 3), ("observe", 2),
    ]  # fmt: skip


def test_observe_is_optional() -> None:
    class Once(Strategy):
        def propose(self, trial_id: int) -> Candidate | None:
            return None if self.exhausted() else Candidate({"--x": 0.1})

        def exhausted(self) -> bool:
            return self.outstanding > 0

    strategy = Once(SPACE, seed=1)
    candidate = strategy.ask(1)
    assert candidate is not None
    strategy.tell(finished(1, candidate, 1.0))
    assert strategy.outstanding == 0


def test_propose_and_exhausted_are_required() -> None:
    class Nothing(Strategy):
        pass

    with pytest.raises(TypeError, match="exhausted, propose"):
        Nothing(SPACE)  # type: ignore[abstract]


def test_a_proposal_that_is_not_a_candidate_is_a_usage_error() -> None:
    class Sloppy(Countdown):
        def propose(self, trial_id: int) -> Any:
            return {"--x": 0.5}

    strategy = Sloppy(SPACE, seed=1)
    with pytest.raises(UsageError, match=r"Sloppy.propose\(1\) returned a dict; return a hyper"):
        strategy.ask(1)
    assert strategy.outstanding == 0


def test_a_plug_in_is_described_by_its_qualified_name_and_config() -> None:
    @dataclass(frozen=True)
    class Settings:
        count: int = 3

    class Configured(Countdown):
        def __init__(self, space: Params, *, seed: int | None = None) -> None:
            super().__init__(space, seed=seed)
            self.config = Settings()

    assert Countdown(SPACE, seed=1).describe() == {
        "type": f"{__name__}.Countdown",
        "settings": {},
    }
    assert Configured(SPACE, seed=1).describe() == {
        "type": f"{__name__}.{Configured.__qualname__}",
        "settings": {"count": 3},
    }


def test_hyperdemes_own_strategies_keep_their_short_names() -> None:
    """Journals written before plug-ins record ``RandomSearch``: resuming them still works."""
    assert hyperdeme.RandomSearch(SPACE, seed=1).describe()["type"] == "RandomSearch"
    limited = hyperdeme.strategies.ConcurrencyLimiter(hyperdeme.GridSearch(SPACE), max_concurrent=2)
    assert limited.describe()["type"] == "GridSearch"
