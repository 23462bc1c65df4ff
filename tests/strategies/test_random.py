from __future__ import annotations

import math
import statistics

import pytest

from hyperdeme import ConfigError, ConfigTypeError, Params
from hyperdeme.strategies import RandomConfig, RandomSearch

from ._drive import drive


def _fom(trial_id: int, params: dict[str, object]) -> float:
    return 0.0


def _random(space: Params, num_iters: int, seed: int | None = None) -> RandomSearch:
    return RandomSearch(space, RandomConfig(num_iters=num_iters), seed=seed)


def test_the_baseline_is_first_and_counts_in_the_budget() -> None:
    space = Params([["--x", 0.5, (0.0, 1.0)], ["--opt", "sgd", ["sgd", "adam"]]])
    search = _random(space, 10, seed=3)
    assert search.budget == 10
    asked = drive(search, _fom)
    assert len(asked) == 10
    assert asked[0].params == {"--x": 0.5, "--opt": "sgd"}
    assert asked[0].info == {"strategy": "random", "baseline": True}
    assert all(c.info == {"strategy": "random"} for c in asked[1:])


def test_no_baseline_when_a_default_is_missing() -> None:
    space = Params([["--x", 0.5, (0.0, 1.0)], ["--opt", ["sgd", "adam"]]])
    asked = drive(_random(space, 5, seed=3), _fom)
    assert all(c.info == {"strategy": "random"} for c in asked)


def test_points_are_uniform_and_log_uniform_on_log_ranges() -> None:
    space = Params([["--x", (0.0, 1.0)], ["--lr", (1e-6, 1.0), {"log": True}]])
    asked = drive(_random(space, 2000, seed=11), _fom)
    xs = [c.params["--x"] for c in asked]
    logs = [math.log10(c.params["--lr"]) for c in asked]
    assert statistics.median(xs) == pytest.approx(0.5, abs=0.05)
    assert statistics.median(logs) == pytest.approx(-3.0, abs=0.3)
    assert min(logs) < -5.5
    assert max(logs) > -0.5


def test_a_fixed_seed_is_kept() -> None:
    space = Params([["--x", (0.0, 1.0)]])
    assert _random(space, 1, seed=42).seed == 42


def test_crayai_defaults() -> None:
    search = RandomSearch(Params([["--x", (0.0, 1.0)]]))
    assert search.config == RandomConfig(num_iters=10)
    assert search.budget == 10


@pytest.mark.parametrize(
    ("num_iters", "error"),
    [
        (0, ConfigError),
        (-1, ConfigError),
        (1.5, ConfigTypeError),
        (True, ConfigTypeError),
        ("10", ConfigTypeError),
        (None, ConfigTypeError),
    ],
)
def test_bad_num_iters(num_iters: object, error: type[ConfigError]) -> None:
    # checked by the config, before there is a search space
    with pytest.raises(error) as caught:
        RandomConfig(num_iters=num_iters)  # type: ignore[arg-type]
    assert type(caught.value) is error
    assert str(caught.value) == f"num_iters must be an integer >= 1, got {num_iters!r}."
