"""``Result``: the best trial and the counts by outcome."""

from __future__ import annotations

import math

from hyperdeme import Result, Status, Trial


def trial(trial_id: int, status: Status, fom: float = math.inf) -> Trial:
    return Trial(id=trial_id, params={"--x": trial_id}, fom=fom, status=status)


def test_the_best_trial_ran_to_its_end_as_optunas_best_ignores_pruned_trials() -> None:
    """A trial stopped early holds the FoM of a shorter training: never the best, even
    when lower (curves that rise again, a dict metric)."""
    result = Result(
        trials=[
            trial(1, Status.OK, 0.5),
            trial(2, Status.STOPPED, 0.25),
            trial(3, Status.FAILED),
            trial(4, Status.OK, 0.75),
            trial(5, Status.CANCELLED),
            trial(6, Status.STOPPED, 0.125),
        ]
    )
    assert result.best_trial is not None
    assert result.best_trial.id == 1
    assert (result.best_fom, result.best_params) == (0.5, {"--x": 1})
    assert (result.n_failed, result.n_stopped, result.n_cancelled) == (1, 2, 1)
    assert "n_stopped=2" in repr(result)


def test_only_stopped_trials_give_no_best() -> None:
    result = Result(trials=[trial(1, Status.STOPPED, 0.5)])
    assert result.best_trial is None
    assert result.best_fom == math.inf
    assert result.best_params == {}
    assert result.n_failed == 0
