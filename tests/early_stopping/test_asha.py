"""ASHA as a pure rule: rungs, who goes on at a rung, ties, retries, determinism, resume."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

import hyperdeme
from hyperdeme import ASHA, ConfigError, ConfigTypeError, EarlyStopping, Status, Trial
from hyperdeme.early_stopping import ASHAState, EarlyStoppingState

# ------------------------------------------------------------------ the configuration


@pytest.mark.parametrize(
    ("settings", "rungs"),
    [
        ({"max_steps": 27}, (1, 3, 9)),
        ({"max_steps": 27, "reduction_factor": 3, "min_steps": 1}, (1, 3, 9)),
        ({"max_steps": 28, "reduction_factor": 3}, (1, 3, 9, 27)),
        ({"max_steps": 100, "reduction_factor": 4, "min_steps": 2}, (2, 8, 32)),
        ({"max_steps": 10, "reduction_factor": 5, "min_steps": 3}, (3,)),
        ({"max_steps": 2}, (1,)),
    ],
)
def test_rungs_are_min_steps_times_powers_of_the_factor_below_max_steps(
    settings: dict[str, Any], rungs: tuple[int, ...]
) -> None:
    rule = ASHA(**settings)
    assert rule.rungs == rungs
    state = rule.start()
    assert [step for step in range(1, rule.max_steps + 5) if state.keeps(step)] == list(rungs)


@pytest.mark.parametrize(
    ("settings", "error", "message"),
    [
        (
            {},
            ConfigTypeError,
            "ASHA needs the keyword argument(s) max_steps, e.g. ASHA(max_steps=...).",
        ),
        ({"max_steps": 1}, ConfigError, "max_steps must be an integer >= 2, got 1."),
        ({"max_steps": 27.0}, ConfigTypeError, "max_steps must be an integer >= 2, got 27.0."),
        ({"max_steps": True}, ConfigTypeError, "max_steps must be an integer >= 2, got True."),
        (
            {"max_steps": 27, "reduction_factor": 1},
            ConfigError,
            "reduction_factor must be an integer >= 2, got 1.",
        ),
        (
            {"max_steps": 27, "min_steps": 0},
            ConfigError,
            "min_steps must be an integer >= 1, got 0.",
        ),
        (
            {"max_steps": 9, "min_steps": 9},
            ConfigError,
            "min_steps must be below max_steps (the first rung comes before the last step), "
            "got min_steps=9, max_steps=9.",
        ),
        (
            {"max_step": 27},
            ConfigTypeError,
            "ASHA got unknown keyword argument(s) 'max_step' (did you mean 'max_steps'?)",
        ),
    ],
)
def test_bad_settings_name_the_value_and_what_is_allowed(
    settings: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as raised:
        ASHA(**settings)
    assert str(raised.value).startswith(message)


def test_a_frozen_public_config() -> None:
    rule = ASHA(max_steps=27)
    assert repr(rule) == "ASHA(max_steps=27, reduction_factor=3, min_steps=1)"
    assert rule == ASHA(max_steps=27, reduction_factor=3)
    with pytest.raises(AttributeError):
        rule.max_steps = 9  # type: ignore[misc]
    assert isinstance(rule, EarlyStopping)
    assert isinstance(rule.start(), EarlyStoppingState)
    assert ASHA.__module__ == "hyperdeme"


# ------------------------------------------------------------------ decisions


def decide(state: EarlyStoppingState, reports: list[tuple[int, int, float]]) -> list[bool]:
    return [state.report(trial_id, step, fom) for trial_id, step, fom in reports]


def test_the_top_third_of_a_rung_goes_on() -> None:
    state = ASHA(max_steps=27, reduction_factor=3).start()
    # trial: FoM at rung 1, arriving in this order
    foms = [0.5, 0.4, 0.6, 0.3, 0.45, 0.7, 0.35, 0.2, 0.8]
    stops = decide(state, [(i, 1, fom) for i, fom in enumerate(foms, start=1)])
    # n at the rung: 1 2 3 4 5 6 7 8 9; kept: max(1, n // 3) best
    # 0.5 first; 0.4 best; 0.6 not best of 3; 0.3 best of 4; 0.45 not best of 5;
    # 0.7 not in the 2 best of 6 (0.3, 0.4); 0.35 in the 2 best of 7 (0.3, 0.35);
    # 0.2 best; 0.8 not in the 3 best of 9 (0.2, 0.3, 0.35)
    assert stops == [False, False, True, False, True, True, False, False, True]
    assert state.recorded(1) == dict(enumerate(foms, start=1))  # stopped ones stay


def test_steps_between_rungs_and_past_the_last_one_never_stop() -> None:
    state = ASHA(max_steps=27).start()
    assert decide(state, [(1, 1, 0.1), (2, 1, 0.05)]) == [False, False]
    # trial 3 is worse than both everywhere, but only rungs 1, 3 and 9 decide
    assert decide(state, [(3, s, 9.0) for s in (2, 4, 5, 8, 10, 26, 27, 40)]) == [False] * 8
    assert state.recorded(2) == {}
    assert state.report(3, 1, 9.0)


def test_each_rung_compares_only_the_trials_that_reached_it() -> None:
    state = ASHA(max_steps=27, reduction_factor=3).start()
    for trial_id, fom in enumerate([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], start=1):
        state.report(trial_id, 1, fom)
    # rung 3 is empty: its first trial goes on whatever its FoM
    assert not state.report(6, 3, 5.0)
    assert state.report(2, 3, 6.0)  # second at rung 3, worse than the first
    assert not state.report(1, 3, 0.05)
    assert state.recorded(3) == {6: 5.0, 2: 6.0, 1: 0.05}


def test_ties_go_on() -> None:
    state = ASHA(max_steps=27, reduction_factor=3).start()
    assert decide(state, [(1, 1, 0.5), (2, 1, 0.5), (3, 1, 0.5), (4, 1, 0.5)]) == [False] * 4
    assert state.report(5, 1, 0.5000001)


def test_nan_is_the_worst_fom_and_infinity_too() -> None:
    state = ASHA(max_steps=27).start()
    assert not state.report(1, 1, math.nan)  # alone at its rung: goes on
    assert not state.report(2, 1, 10.0)
    assert state.report(3, 1, math.nan)
    assert state.report(4, 1, math.inf)
    assert state.recorded(1)[1] == math.inf


def test_a_retry_replaces_its_earlier_value_at_the_rung() -> None:
    state = ASHA(max_steps=27, reduction_factor=2).start()
    assert decide(state, [(1, 1, 0.2), (2, 1, 0.9)]) == [False, True]
    # trial 2's second attempt does better: its value replaces the first one
    assert not state.report(2, 1, 0.1)
    assert state.recorded(1) == {1: 0.2, 2: 0.1}
    assert state.report(3, 1, 0.15)  # 3 at the rung: only the best (0.1) goes on


def test_the_same_reports_give_the_same_decisions() -> None:
    rng = random.Random(7)
    reports = [
        (trial_id, step, rng.random() / step)
        for trial_id in range(1, 200)
        for step in range(1, 1 + rng.choice([1, 3, 9, 27]))
    ]
    rng.shuffle(reports)
    reports.sort(key=lambda r: r[1])  # a trial's steps in order (the shuffle mixes trials)
    rule = ASHA(max_steps=27)
    assert decide(rule.start(), reports) == decide(rule.start(), reports)
    assert sum(decide(rule.start(), reports)) > 0


def test_stopping_keeps_about_one_in_the_factor_per_rung() -> None:
    """Trials in random order, each continued while not stopped: about 1/3 of those reaching
    a rung pass it (more early on, when few reached it yet)."""
    rng = random.Random(3)
    state = ASHA(max_steps=27, reduction_factor=3).start()
    reached = {1: 0, 3: 0, 9: 0, 27: 0}
    for trial_id in range(1, 2001):
        quality = rng.random()
        for step in range(1, 28):
            if step in reached:
                reached[step] += 1
            if state.report(trial_id, step, quality + 1 / step):
                break
    assert reached[1] == 2000
    for rung, following in ((1, 3), (3, 9), (9, 27)):
        assert reached[following] / reached[rung] == pytest.approx(1 / 3, abs=0.05)


# ------------------------------------------------------------------ resume


def finished(trial_id: int, status: Status, steps: int, intermediate: dict[int, float]) -> Trial:
    fom = intermediate[max(intermediate)] if intermediate else math.inf
    return Trial(
        id=trial_id, params={}, fom=fom, status=status, steps=steps, intermediate=intermediate
    )


def test_the_state_of_a_resumed_run_is_rebuilt_from_the_journalled_trials() -> None:
    rule = ASHA(max_steps=27, reduction_factor=3)
    original = rule.start()
    rng = random.Random(11)
    trials = []
    for trial_id in range(1, 60):
        kept: dict[int, float] = {}
        status, steps = Status.OK, 27
        for step in range(1, 28):
            fom = rng.random() + 1 / step
            if original.keeps(step):
                kept[step] = fom
            if original.report(trial_id, step, fom):
                status, steps = Status.STOPPED, step
                break
        trials.append(finished(trial_id, status, steps, kept))
    # through the journal's JSON form, in journal order
    journalled = [Trial.from_json(t.to_json()) for t in trials]
    resumed = rule.resume(journalled)
    assert isinstance(resumed, ASHAState)
    for step in rule.rungs:
        assert resumed.recorded(step) == original.recorded(step)
    later = [(100 + i, step, rng.random() + 1 / step) for i in range(30) for step in (1, 3, 9)]
    assert decide(resumed, later) == decide(original, later)


def test_old_records_without_intermediate_foms_are_skipped_on_resume() -> None:
    old = Trial(id=1, params={}, fom=0.3, status=Status.OK)  # read from a journal before ASHA
    cancelled = finished(2, Status.CANCELLED, 4, {1: 0.7, 3: 0.6})  # the run stopped it
    state = ASHA(max_steps=27).resume([old, cancelled])
    assert state.recorded(1) == {2: 0.7}
    assert state.recorded(3) == {2: 0.6}


# ------------------------------------------------------------------ the extension point


class _Threshold(EarlyStopping):
    """A user's rule: stop a trial whose FoM is above ``limit`` at any step >= 2."""

    def __init__(self, limit: float) -> None:
        self.limit = limit

    def start(self) -> EarlyStoppingState:
        limit = self.limit

        class State(EarlyStoppingState):
            def report(self, trial_id: int, step: int, fom: float) -> bool:
                return step >= 2 and not fom <= limit

        return State()


def test_a_rule_of_ones_own_needs_start_and_report() -> None:
    rule = _Threshold(1.0)
    state = rule.start()
    assert state.keeps(5)  # by default every step is journalled
    assert decide(state, [(1, 1, 5.0), (1, 2, 0.5), (1, 3, 2.0), (2, 2, math.nan)]) == [
        False, False, True, True,
    ]  # fmt: skip
    assert isinstance(
        rule.resume([finished(1, Status.OK, 2, {1: 0.5, 2: 0.4})]), EarlyStoppingState
    )
    evaluator = hyperdeme.Evaluator("prog", early_stopping=rule)
    assert evaluator.config.early_stopping is rule
