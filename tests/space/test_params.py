"""Params: the crayai spec, defaults, sampling, and the container protocol."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hyperdeme import ConfigError, Params
from hyperdeme._space import Choice, Range
from spaces import spaces, spec_lists

CRAYAI_SPEC: list[Any] = [
    ["--learning_rate", 1e-4, (1e-6, 1)],
    ["--dropout_rate", (0.1, 1)],
    ["--optimizer", "sgd", ["sgd", "gd", "adam"]],
    ["--layers", [1, 2, 3, 4]],
]


@pytest.fixture
def space() -> Params:
    return Params(CRAYAI_SPEC)


def test_crayai_spec(space: Params) -> None:
    assert space.flags == ("--learning_rate", "--dropout_rate", "--optimizer", "--layers")
    assert len(space) == 4
    assert list(space) == list(space.parameters)
    assert isinstance(space["--learning_rate"], Range)
    assert isinstance(space["--layers"], Choice)
    assert "--optimizer" in space
    assert "--nope" not in space
    assert not space.has_all_defaults
    assert space.conditions == ()


def test_repr_names_the_parameters(space: Params) -> None:
    text = repr(space)
    assert text.startswith("Params([Range(flag='--learning_rate'")
    assert "conditions=[]" in text


def test_unknown_flag_lookup(space: Params) -> None:
    with pytest.raises(KeyError, match="unknown parameter '--x'; known: --learning_rate"):
        space["--x"]


def test_tuple_spec_and_entries_accepted() -> None:
    space = Params([("--a", (0, 1)), ("--b", 2, [1, 2])])
    assert space.flags == ("--a", "--b")


@pytest.mark.parametrize(
    ("spec", "error", "match"),
    [
        ([], ConfigError, "the parameter spec is empty"),
        ("--lr", TypeError, "the parameter spec must be a list"),
        ({"--lr": (0, 1)}, TypeError, "the parameter spec must be a list"),
        (None, TypeError, "the parameter spec must be a list"),
        ([["--a", (0, 1)], ["--a", [1, 2]]], ConfigError, r"duplicate flag '--a' \(parameter 1\)"),
        ([["--a", (0, 1)], ["--b", (1, 0)]], ConfigError, "--b: the lower bound"),
        ([["--a", (0, 1)], "--b"], TypeError, "parameter 1 must be a list"),
    ],
)
def test_bad_specs(spec: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        Params(spec)


def test_log_form_in_params() -> None:
    space = Params(
        [["--lr", 1e-3, (1e-6, 1.0), {"log": True}], ["--wd", (1e-6, 1.0), {"log": True}]]
    )
    assert all(isinstance(p, Range) and p.log for p in space)


# -- defaults ---------------------------------------------------------------------------------


def test_get_params_uses_defaults_and_seeded_draws(space: Params) -> None:
    values = space.get_params()
    assert values["--learning_rate"] == 1e-4
    assert values["--optimizer"] == "sgd"
    assert 0.1 <= values["--dropout_rate"] <= 1
    assert values["--layers"] in (1, 2, 3, 4)
    assert space.get_params() == values  # no seed: seed 0, reproducible
    assert space.get_params(seed=5) == space.get_params(seed=5)
    assert list(values) == list(space.flags)


def test_get_params_all_defaults() -> None:
    space = Params([["--a", 3, (1, 5)], ["--b", "x", ["x", "y"]]])
    assert space.has_all_defaults
    assert space.get_params() == {"--a": 3, "--b": "x"}
    assert space.defaults() == {"--a": 3, "--b": "x"}


def test_defaults_with_rng(space: Params) -> None:
    a = space.defaults(np.random.default_rng(7))
    b = space.defaults(np.random.default_rng(7))
    assert a == b
    assert a["--learning_rate"] == 1e-4


def test_seeds_differ(space: Params) -> None:
    draws = {space.get_params(seed=s)["--dropout_rate"] for s in range(10)}
    assert len(draws) > 1


def test_default_none_is_a_default() -> None:
    space = Params([["--act", None, [None, "relu"]]])
    assert space.has_all_defaults
    assert space.get_params() == {"--act": None}


# -- sampling ---------------------------------------------------------------------------------


def test_sample_is_full_and_plain(space: Params) -> None:
    values = space.sample(np.random.default_rng(0))
    assert list(values) == list(space.flags)
    json.dumps(values)
    assert type(values["--layers"]) is int
    assert type(values["--dropout_rate"]) is float


def test_active_without_conditions_keeps_everything(space: Params) -> None:
    values = space.sample(np.random.default_rng(0))
    assert space.active(values) == values
    assert space.allowed(values)
    assert space.is_active("--layers", values)
    assert not space.is_active("--layers", {"--optimizer": "sgd"})


def test_active_rejects_unknown_flags(space: Params) -> None:
    with pytest.raises(ConfigError, match=r"unknown parameter.* '--nope'; known: --learning_rate"):
        space.active({"--nope": 1})
    with pytest.raises(KeyError, match="--nope"):
        space.is_active("--nope", {})


def _inside(space: Params, values: dict[str, Any]) -> bool:
    return all(space[flag].contains(value) for flag, value in values.items())


@given(spaces(), st.integers(0, 2**32))
def test_sampled_points_inside_and_plain(space: Params, seed: int) -> None:
    values = space.sample(np.random.default_rng(seed))
    assert list(values) == list(space.flags)
    assert _inside(space, values)
    for parameter in space:
        value = values[parameter.flag]
        assert not isinstance(value, np.generic)
        if isinstance(parameter, Range):
            assert type(value) is (int if parameter.integer else float)
    json.dumps(values)


@given(spaces(), st.integers(0, 2**32))
def test_defaults_inside(space: Params, seed: int) -> None:
    values = space.defaults(np.random.default_rng(seed))
    assert _inside(space, values)
    for parameter in space:
        if parameter.has_default:
            assert values[parameter.flag] == parameter.default


@given(spec_lists(), st.integers(0, 2**32))
def test_seeded_runs_reproducible(spec: list[Any], seed: int) -> None:
    first, second = Params(spec), Params(spec)
    assert first.sample(np.random.default_rng(seed)) == second.sample(np.random.default_rng(seed))
    assert first.get_params(seed=seed) == second.get_params(seed=seed)


@given(spaces(conditions=True), st.integers(0, 2**32))
def test_sampled_points_respect_rules(space: Params, seed: int) -> None:
    values = space.sample(np.random.default_rng(seed))
    assert _inside(space, values)
    assert space.allowed(values)
