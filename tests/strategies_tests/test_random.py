from __future__ import annotations

import math
import statistics

import pytest

from hyperdeme._errors import ConfigError
from hyperdeme._space import Params
from hyperdeme.strategies import RandomSearch

from ._drive import drive


def _fom(trial_id: int, params: dict[str, object]) -> float:
    return 0.0


def test_the_baseline_is_first_and_counts_in_the_budget() -> None:
    space = Params([["--x", 0.5, (0.0, 1.0)], ["--opt", "sgd", ["sgd", "adam"]]])
    asked = drive(RandomSearch(space, num_iters=10, seed=3), _fom)
    assert len(asked) == 10
    assert asked[0].params == {"--x": 0.5, "--opt": "sgd"}
    assert asked[0].info == {"strategy": "random", "baseline": True}
    assert all(c.info == {"strategy": "random"} for c in asked[1:])


def test_no_baseline_when_a_default_is_missing() -> None:
    space = Params([["--x", 0.5, (0.0, 1.0)], ["--opt", ["sgd", "adam"]]])
    asked = drive(RandomSearch(space, num_iters=5, seed=3), _fom)
    assert all(c.info == {"strategy": "random"} for c in asked)


def test_points_are_uniform_and_log_uniform_on_log_ranges() -> None:
    space = Params([["--x", (0.0, 1.0)], ["--lr", (1e-6, 1.0), {"log": True}]])
    asked = drive(RandomSearch(space, num_iters=2000, seed=11), _fom)
    xs = [c.params["--x"] for c in asked]
    logs = [math.log10(c.params["--lr"]) for c in asked]
    assert statistics.median(xs) == pytest.approx(0.5, abs=0.05)
    assert statistics.median(logs) == pytest.approx(-3.0, abs=0.3)
    assert min(logs) < -5.5
    assert max(logs) > -0.5


def test_a_fixed_seed_is_kept() -> None:
    space = Params([["--x", (0.0, 1.0)]])
    assert RandomSearch(space, num_iters=1, seed=42).seed == 42


@pytest.mark.parametrize("num_iters", [0, -1, 1.5, True, "10", None])
def test_bad_num_iters(num_iters: object) -> None:
    space = Params([["--x", (0.0, 1.0)]])
    with pytest.raises(ConfigError, match=r"num_iters must be an int >= 1, got "):
        RandomSearch(space, num_iters=num_iters)  # type: ignore[arg-type]
