"""``Evaluator(objectives=...)``: checked before anything runs, read like metrics."""

from __future__ import annotations

import math
from typing import Any

import pytest

import hyperdeme
from hyperdeme import ConfigError, ConfigTypeError
from hyperdeme._engine._metrics import MetricSpec


def noop(params: dict[str, Any]) -> float:
    return 0.0


@pytest.mark.parametrize(
    ("objectives", "error", "named", "says"),
    [
        ({"loss": "min"}, ConfigError, "objectives.loss", "'minimize' or 'maximize', got 'min'"),
        ({"loss": "Maximize"}, ConfigError, "objectives.loss", "got 'Maximize'"),
        ({}, ConfigError, "objectives", "got an empty dict"),
        ({1: "minimize"}, ConfigError, "objectives", "non-empty one-line strings"),
        ({"": "minimize"}, ConfigError, "objectives", "got ''"),
        ({"a\nb": "minimize"}, ConfigError, "objectives", "one-line"),
        (["loss"], ConfigTypeError, "objectives", "must be a dict of metric name"),
    ],
)
def test_bad_objectives_are_refused_naming_the_value_and_what_is_allowed(
    objectives: Any, error: type[Exception], named: str, says: str
) -> None:
    with pytest.raises(error, match=None) as caught:
        hyperdeme.Evaluator(noop, objectives=objectives)
    assert says in str(caught.value)
    assert getattr(caught.value, "name", None) == named


@pytest.mark.parametrize(
    "together", [{"metric": "FoM: "}, {"direction": "minimize"}, {"metric": {"a": 1.0}}]
)
def test_objectives_with_metric_or_direction_are_refused(together: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="cannot be combined with") as caught:
        hyperdeme.Evaluator(noop, objectives={"loss": "minimize"}, **together)
    assert caught.value.name == "objectives"
    assert next(iter(together)) + "=" in str(caught.value)


def test_the_evaluator_says_its_objectives_and_directions() -> None:
    evaluator = hyperdeme.Evaluator(noop, objectives={"loss": "minimize", "acc": "maximize"})
    assert evaluator.objectives == {"loss": "minimize", "acc": "maximize"}
    assert evaluator.directions == ("minimize", "maximize")
    assert evaluator.config.direction == "minimize"  # the FoM is the first objective
    first_max = hyperdeme.Evaluator(noop, objectives={"acc": "maximize", "loss": "minimize"})
    assert first_max.config.direction == "maximize"
    plain = hyperdeme.Evaluator(noop, direction="maximize")
    assert plain.objectives == {}
    assert plain.directions == ("maximize",)
    assert hyperdeme.Evaluator(noop).config.metric == "FoM: "  # defaults unchanged


def test_objectives_are_read_from_output_lines_like_metrics() -> None:
    spec = MetricSpec("FoM: ", objectives={"val_loss": "minimize", "latency_ms": "minimize"})
    scanner = spec.scanner()
    scanner.feed(b"epoch 1 val_loss: 0.9 latency_ms=12\nval_loss: 0.3\n")
    scanner.feed(b"latency_ms: 11.5\nmy_val_loss: 7\n")  # not the whole word: ignored
    metrics = scanner.close()
    assert spec.objective_values(metrics) == {"val_loss": 0.3, "latency_ms": 11.5}
    assert spec.fom(metrics) == 0.3  # the first objective
    assert spec.fom({"val_loss": 0.3}) is None  # an objective missing: no result
    assert spec.fom({"val_loss": 0.3, "latency_ms": math.nan}) is None


def test_objectives_come_from_a_callables_dict() -> None:
    spec = MetricSpec("FoM: ", objectives={"loss": "minimize", "acc": "maximize"})
    metrics = spec.from_result({"acc": 0.9, "loss": 0.2, "other": 1})
    assert spec.objective_values(metrics) == {"loss": 0.2, "acc": 0.9}  # the evaluator's order
    assert spec.fom(spec.from_result(0.5)) is None  # one number cannot be two objectives
    single = MetricSpec("FoM: ", objectives={"loss": "minimize"})
    assert single.fom(single.from_result(0.5)) == 0.5


def test_steps_complete_when_every_objective_has_a_new_value() -> None:
    steps: list[float] = []
    spec = MetricSpec("FoM: ", objectives={"a": "minimize", "b": "minimize"})
    scanner = spec.scanner(steps.append)
    scanner.feed(b"a: 3\nb: 1\na: 2\na: 1.5\nb: 0\n")
    assert steps == [3.0, 1.5]


async def test_a_program_missing_an_objective_is_a_no_metric_trial(tmp_path: Any) -> None:
    evaluator = hyperdeme.Evaluator(
        lambda params: {"loss": 0.5},
        run_path=str(tmp_path),
        objectives={"loss": "minimize", "acc": "maximize"},
    )
    optimizer = hyperdeme.RandomOptimizer(evaluator, num_iters=3, seed=1)
    with pytest.raises(hyperdeme.HyperdemeError):  # every trial failed: fail fast
        await hyperdeme.optimize(optimizer, hyperdeme.Params([["--x", 0.5, (0.0, 1.0)]]))
    trials = hyperdeme.read_journal(tmp_path / optimizer.experiment)
    assert trials
    assert all(t.status is hyperdeme.Status.NO_METRIC for t in trials)
    assert "acc" in trials[0].error
