"""``Evaluator``: crayai's keyword arguments, checked at construction."""

from __future__ import annotations

import math
from typing import Any

import pytest

import hyperdeme
from hyperdeme import ConfigError, ConfigTypeError, Evaluator


def test_defaults_are_crayais() -> None:
    settings = Evaluator("python3 train.py").settings
    assert settings.metric == "FoM: "
    assert settings.run_path == "run"
    assert settings.num_retries == 0
    assert settings.timeout == 0
    assert settings.eval_timeout == 0
    assert settings.slots() == 1


def test_unknown_keyword_names_it_and_lists_the_allowed_ones() -> None:
    with pytest.raises(ConfigTypeError, match=r"unknown keyword argument\(s\) num_parralel_evals"):
        Evaluator("prog", num_parralel_evals=4)
    with pytest.raises(TypeError, match=r"allowed: .*num_parallel_evals"):
        Evaluator("prog", bogus=1)


@pytest.mark.parametrize(
    "name",
    ["nodes", "nodes_per_eval", "num_parallel_evals", "num_retries", "alloc_jobid"],
)
def test_negative_counts_are_refused(name: str) -> None:
    with pytest.raises(ConfigError, match=f"{name} must be >= 0, got -1"):
        Evaluator("prog", **{name: -1})


@pytest.mark.parametrize("value", [1.5, "2", True, None])
def test_counts_must_be_integers(value: Any) -> None:
    with pytest.raises(ConfigError, match="num_parallel_evals must be an integer"):
        Evaluator("prog", num_parallel_evals=value)


@pytest.mark.parametrize("name", ["timeout", "eval_timeout"])
@pytest.mark.parametrize("value", [-1, math.nan, "5"])
def test_timeouts_must_be_non_negative_numbers(name: str, value: Any) -> None:
    with pytest.raises(ConfigError, match=name):
        Evaluator("prog", **{name: value})


@pytest.mark.parametrize("value", [-1, "soon", None])
def test_retry_delay_must_be_a_non_negative_number(value: Any) -> None:
    with pytest.raises(ConfigError, match="retry_delay"):
        Evaluator("prog", retry_delay=value)


def test_unknown_workload_manager() -> None:
    with pytest.raises(ConfigError, match=r"workload_manager must be one of .*got 'slurmm'"):
        Evaluator("prog", workload_manager="slurmm")


def test_unknown_launcher() -> None:
    with pytest.raises(ConfigError, match=r"launcher must be one of .*got 'mpirun'"):
        Evaluator("prog", launcher="mpirun")


def test_flag_keys_other_than_nodes_per_evaluation_are_refused() -> None:
    with pytest.raises(ConfigError, match="flag key 'gpus' is not supported"):
        Evaluator("prog", flag={"gpus": "--G"})
    with pytest.raises(ConfigError, match="must be a non-empty string"):
        Evaluator("prog", flag={"nodes_per_evaluation": ""})
    with pytest.raises(ConfigError, match="flag must be a dict"):
        Evaluator("prog", flag="--N")


def test_several_nodes_need_a_workload_manager() -> None:
    with pytest.raises(ConfigError, match="nodes=4 needs a workload manager"):
        Evaluator("prog", nodes=4, workload_manager="local")
    assert Evaluator("prog", nodes=1, workload_manager="local").settings.nodes == 1


@pytest.mark.parametrize(
    ("metric", "message"),
    [
        ("", "non-empty prefix"),
        ({}, "at least one metric"),
        ({"loss": "high"}, "metric weight for 'loss' must be a finite number"),
        ({"loss": math.inf}, "finite number"),
        ({"loss": True}, "finite number"),
        ({"": 1.0}, "non-empty strings"),
        (3, "prefix string or a dict"),
    ],
)
def test_bad_metric(metric: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Evaluator("prog", metric=metric)


@pytest.mark.parametrize("cmd", ["", "   ", None, 3])
def test_cmd_must_be_a_command_or_a_function(cmd: Any) -> None:
    with pytest.raises(ConfigError, match="cmd must be a shell command"):
        Evaluator(cmd)


@pytest.mark.parametrize(
    ("keyword", "value", "message"),
    [
        ("launch_args", ["-c", "2"], "launch_args must be a string, got \\['-c', '2'\\]"),
        ("alloc_args", None, "alloc_args must be a string, got None"),
        ("run_path", None, "run_path must be a string"),
        ("src_path", 3, "src_path must be a string, got 3"),
        ("checkpoint", b"ck", "checkpoint must be a string"),
        ("workload_image", 1, "workload_image must be a string"),
        ("verbose", "no", "verbose must be True or False, got 'no'"),
        ("launcher_options", "team-a", "launcher_options must be a dict"),
    ],
)
def test_wrong_types_are_refused_at_construction(keyword: str, value: Any, message: str) -> None:
    """Not later, inside a running evaluation (shlex.split of a list, Path(None) ...)."""
    with pytest.raises(ConfigError, match=message):
        Evaluator("prog", **{keyword: value})


@pytest.mark.parametrize("keyword", ["workload_manager", "launcher"])
def test_kubernetes_needs_an_image_at_construction(keyword: str) -> None:
    with pytest.raises(ConfigError, match="needs an image: pass workload_image="):
        Evaluator("prog", **{keyword: "k8s"})
    assert Evaluator("prog", workload_image="img:1", **{keyword: "k8s"}).settings.launcher


def test_env_must_map_strings_to_strings() -> None:
    with pytest.raises(ConfigError, match="env must be a dict"):
        Evaluator("prog", env={"OMP_NUM_THREADS": 4})


def test_config_errors_are_value_errors_for_crayai_code() -> None:
    with pytest.raises(ValueError, match="nodes_per_eval"):
        Evaluator("prog", nodes_per_eval=-2)
    assert issubclass(ConfigError, hyperdeme.HyperdemeError)


def test_a_callable_is_recognised() -> None:
    async def coroutine(params: dict[str, Any]) -> float:
        return 0.0

    def plain(params: dict[str, Any]) -> float:
        return 0.0

    assert Evaluator(coroutine).is_async_callable
    assert Evaluator(plain).is_callable
    assert not Evaluator(plain).is_async_callable
    assert not Evaluator("prog").is_callable


def test_slots_come_from_num_parallel_evals_or_nodes() -> None:
    assert Evaluator("prog", num_parallel_evals=8).settings.slots() == 8
    settings = Evaluator("prog", nodes=8, nodes_per_eval=2, workload_manager="slurm").settings
    assert settings.slots() == 4
    assert settings.slots(total_nodes=16) == 8


def test_nodes_for_reads_the_nodes_parameter() -> None:
    ev = Evaluator("prog", flag={"nodes_per_evaluation": "--N"}, nodes_per_eval=2)
    assert ev.nodes_for({"--N": 4}) == 4
    assert ev.nodes_for({"--x": 1}) == 2
    with pytest.raises(ConfigError, match="must take integers >= 1"):
        ev.nodes_for({"--N": 0})


def test_command_for_appends_the_nodes_flag() -> None:
    ev = Evaluator("python3 train.py", flag={"nodes_per_evaluation": "--N"})
    assert ev.command_for({"--x": 0.5}, nodes=2) == "python3 train.py --x=0.5 --N=2"


def test_run_path_without_src_path_warns_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import structlog

    from hyperdeme import _evaluator

    monkeypatch.setattr(_evaluator, "_warned", set())
    with structlog.testing.capture_logs() as logs:
        hyperdeme.Evaluator("python3 train.py", run_path="runs")
        hyperdeme.Evaluator("python3 train.py", run_path="other")
        hyperdeme.Evaluator("python3 train.py", run_path="x", src_path="src")
    warnings = [e for e in logs if e["event"] == "evaluator.run_path_without_src_path"]
    assert len(warnings) == 1
    assert warnings[0]["log_level"] == "warning"
    assert warnings[0]["run_path"] == "runs"
