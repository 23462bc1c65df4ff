"""``hyperdeme.Optimizer(evaluator, strategy=...)``: a strategy of one's own, no subclassing,
with optimize, stream, the blocking call and resume."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import hyperdeme
from hyperdeme import Candidate, Params, Strategy, Trial

SPACE = Params([["--x", 0.9, (0.0, 1.0)], ["--n", 1, (1, 10)], ["--act", "relu", ["relu", "tanh"]]])
evaluated: list[dict[str, Any]] = []


def quadratic(params: dict[str, Any]) -> float:
    evaluated.append(dict(params))
    return float((params["--x"] - 0.3) ** 2 + 0.1 * (params["--n"] - 5) ** 2)


@dataclass(frozen=True)
class WalkSettings:
    steps: int = 12
    width: float = 0.3


class Walk(Strategy):
    """The defaults, then random steps around the best point seen so far, one at a time."""

    def __init__(self, space: Params, *, seed: int | None = None, steps: int = 12) -> None:
        super().__init__(space, seed=seed)
        self.config = WalkSettings(steps=steps)
        self.asked = 0
        self.best: tuple[float, dict[str, Any]] | None = None

    @property
    def budget(self) -> int:
        return self.config.steps

    def propose(self, trial_id: int) -> Candidate | None:
        if self.exhausted() or self.outstanding:
            return None
        self.asked += 1
        if self.best is None:
            return Candidate(self.space.defaults(self.rng), {"strategy": "walk"})
        point = dict(self.best[1])
        for parameter in self.space.parameters:
            if isinstance(parameter, hyperdeme.Range) and self.rng.random() < 0.5:
                width = (parameter.high - parameter.low) * self.config.width
                point[parameter.flag] = parameter.clip(
                    point[parameter.flag] + self.rng.uniform(-width, width)
                )
            elif isinstance(parameter, hyperdeme.Choice) and self.rng.random() < 0.2:
                point[parameter.flag] = parameter.sample(self.rng)
        return Candidate(self.space.fix(point, self.rng), {"strategy": "walk"})

    def observe(self, trial: Trial) -> None:
        assert trial.candidate is not None
        if trial.ok and (self.best is None or trial.fom < self.best[0]):
            self.best = (trial.fom, trial.candidate.params)

    def exhausted(self) -> bool:
        return self.asked >= self.config.steps


def evaluator(tmp_path: Path) -> hyperdeme.Evaluator:
    return hyperdeme.Evaluator(quadratic, run_path=str(tmp_path / "run"))


def walker(tmp_path: Path, **settings: Any) -> hyperdeme.Optimizer:
    return hyperdeme.Optimizer(evaluator(tmp_path), strategy=Walk, **{"seed": 5, **settings})


async def test_a_strategy_class_runs_without_subclassing_the_optimizer(tmp_path: Path) -> None:
    evaluated.clear()
    opt = walker(tmp_path, name="walk")
    result = await hyperdeme.optimize(opt, SPACE)
    assert [t.id for t in result.trials] == list(range(1, 13))
    assert len(evaluated) == 12
    assert result.best_fom < quadratic({"--x": 0.9, "--n": 1})  # it walked somewhere better
    assert opt.result is result
    assert opt.best_fom == result.best_fom
    assert repr(opt) == "Optimizer(strategy=Walk, seed=5, name='walk')"


async def test_it_streams(tmp_path: Path) -> None:
    seen = []
    async with hyperdeme.stream(walker(tmp_path), SPACE) as trials:
        async for trial in trials:
            seen.append(trial.id)
    assert sorted(seen) == list(range(1, 13))


def test_it_runs_blocking_on_either_backend(tmp_path: Path) -> None:
    for backend in ("asyncio", "trio"):
        opt = walker(tmp_path, backend=backend, name=backend)
        assert len(opt.optimize(SPACE).trials) == 12


async def test_a_partial_or_a_function_gives_the_strategy_settings(tmp_path: Path) -> None:
    short = hyperdeme.Optimizer(evaluator(tmp_path), strategy=functools.partial(Walk, steps=3))
    assert len((await hyperdeme.optimize(short, SPACE)).trials) == 3

    def four(space: Params, *, seed: int | None) -> Strategy:
        return Walk(space, seed=seed, steps=4)

    opt = hyperdeme.Optimizer(evaluator(tmp_path), strategy=four, seed=2)
    assert len((await hyperdeme.optimize(opt, SPACE)).trials) == 4
    assert opt.make_strategy(SPACE).seed == 2


async def test_a_stopped_run_resumes_to_what_an_uninterrupted_run_does(tmp_path: Path) -> None:
    whole = await hyperdeme.optimize(walker(tmp_path / "whole", name="w"), SPACE)
    expected = [(t.id, t.params, t.fom) for t in whole.trials]
    async with hyperdeme.stream(walker(tmp_path / "parts", name="w"), SPACE) as trials:
        async for trial in trials:
            if trial.id == 4:
                break
    evaluated.clear()
    resumed = await hyperdeme.optimize(walker(tmp_path / "parts", name="w"), SPACE, resume=True)
    assert [(t.id, t.params, t.fom) for t in resumed.trials] == expected
    assert len(evaluated) == 8  # trials 5 to 12 only


async def test_resuming_with_other_settings_or_another_strategy_is_refused(
    tmp_path: Path,
) -> None:
    await hyperdeme.optimize(walker(tmp_path, name="w"), SPACE)
    longer = hyperdeme.Optimizer(
        evaluator(tmp_path), strategy=functools.partial(Walk, steps=20), seed=5, name="w"
    )
    with pytest.raises(hyperdeme.ConfigError, match=r"strategy.settings.steps: 12 -> 20"):
        await hyperdeme.optimize(longer, SPACE, resume=True)

    class Walk2(Walk):
        pass

    other = hyperdeme.Optimizer(evaluator(tmp_path), strategy=Walk2, seed=5, name="w")
    with pytest.raises(hyperdeme.ConfigError, match=r"strategy.type: '[\w.]+\.Walk' -> '.*Walk2'"):
        await hyperdeme.optimize(other, SPACE, resume=True)


@pytest.mark.parametrize(
    ("strategy", "problem"),
    [
        (42, r"got 42 of type int\.$"),
        ("random", r"got 'random' of type str\.$"),
        (lambda space: Walk(space), r"<function .*> cannot be called so: .*keyword .*'seed'\.$"),
        (Walk(SPACE), r"got <.*Walk object .*> of type Walk\.$"),
    ],
)
def test_a_strategy_that_cannot_build_one_is_refused_at_once(strategy: Any, problem: str) -> None:
    with pytest.raises(
        hyperdeme.ConfigTypeError,
        match=r"^strategy must be a Strategy subclass, or a factory called as "
        r"strategy\(params, seed=seed\) that returns a hyperdeme.Strategy; " + problem,
    ):
        hyperdeme.Optimizer(strategy=strategy)


def test_the_strategy_is_required() -> None:
    with pytest.raises(hyperdeme.ConfigTypeError, match="strategy"):
        hyperdeme.Optimizer(hyperdeme.Evaluator(quadratic))  # type: ignore[call-arg]


async def test_a_factory_returning_no_strategy_fails_before_anything_runs(tmp_path: Path) -> None:
    evaluated.clear()

    def no_strategy(space: Params, *, seed: int | None) -> Any:
        return {"--x": 0.5}

    opt = hyperdeme.Optimizer(evaluator(tmp_path), strategy=no_strategy)
    with pytest.raises(
        hyperdeme.ConfigTypeError,
        match=r"strategy must build a hyperdeme.Strategy, but <function .*no_strategy .*> returned "
        r"\{'--x': 0.5\} of type dict; return an instance of a Strategy subclass\.",
    ):
        await hyperdeme.optimize(opt, SPACE)
    assert evaluated == []
    assert not (tmp_path / "run").exists()
