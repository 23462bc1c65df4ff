"""``Evaluator``: crayai's keyword arguments, typed, checked at construction."""

from __future__ import annotations

import math
import warnings
from typing import Any

import pytest

import hyperdeme
from hyperdeme import ConfigError, ConfigTypeError, Evaluator, HyperdemeWarning


def test_defaults_are_crayais() -> None:
    config = Evaluator("python3 train.py").config
    assert config.metric == "FoM: "
    assert config.run_root == "run"
    assert config.num_retries == 0
    assert config.timeout == 0
    assert config.launch.eval_timeout == 0
    assert config.launch.alloc_timeout == 30
    assert config.slots() == 1


def test_unknown_keyword_names_it_suggests_the_closest_and_lists_the_allowed() -> None:
    with pytest.raises(
        ConfigTypeError,
        match=r"unknown keyword argument\(s\) 'num_parralel_evals' "
        r"\(did you mean 'num_parallel_evals'\?\)",
    ):
        Evaluator("prog", num_parralel_evals=4)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"allowed: .*num_parallel_evals"):
        Evaluator("prog", bogus=1)  # type: ignore[call-arg]
    with pytest.raises(hyperdeme.HyperdemeError, match="pass the others by keyword"):
        Evaluator("prog", "src")  # type: ignore[misc]


@pytest.mark.parametrize(
    "name",
    ["nodes", "nodes_per_eval", "num_parallel_evals", "num_retries", "alloc_jobid"],
)
def test_negative_counts_are_refused(name: str) -> None:
    with pytest.raises(ConfigError, match=f"{name} must be an integer >= 0, got -1"):
        Evaluator("prog", **{name: -1})


@pytest.mark.parametrize("value", [1.5, "2", True, None])
def test_counts_must_be_integers(value: Any) -> None:
    with pytest.raises(ConfigTypeError, match="num_parallel_evals must be an integer"):
        Evaluator("prog", num_parallel_evals=value)


@pytest.mark.parametrize("value", [None, 0])
def test_alloc_jobid_none_or_zero_means_no_existing_allocation(value: Any) -> None:
    """crayai scripts pass argparse's default None."""
    assert Evaluator("prog", alloc_jobid=value).config.launch.alloc_jobid is None
    assert Evaluator("prog", alloc_jobid=42).config.launch.alloc_jobid == 42


@pytest.mark.parametrize("name", ["timeout", "eval_timeout"])
@pytest.mark.parametrize("value", [-1, math.nan, "5"])
def test_timeouts_must_be_non_negative_numbers(name: str, value: Any) -> None:
    with pytest.raises(ConfigError, match=name):
        Evaluator("prog", **{name: value})


def test_an_infinite_eval_timeout_means_no_limit() -> None:
    launch = Evaluator("prog", eval_timeout=math.inf).config.launch
    assert launch.time_limit is None
    assert Evaluator("prog", eval_timeout=2.5).config.launch.time_limit == 2.5


@pytest.mark.parametrize("value", [-1, "soon", None])
def test_retry_delay_must_be_a_non_negative_number(value: Any) -> None:
    with pytest.raises(ConfigError, match="retry_delay"):
        Evaluator("prog", retry_delay=value)


@pytest.mark.parametrize(
    ("value", "error"), [("no", ConfigError), (0, ConfigTypeError), (None, ConfigTypeError)]
)
def test_fsync_is_a_durability_or_a_bool(value: Any, error: type[Exception]) -> None:
    """``fsync="no"`` must not silently mean True."""
    message = f"fsync must be 'batch', 'always' or 'never' \\(or True/False\\), got {value!r}"
    with pytest.raises(error, match=message):
        Evaluator("prog", fsync=value)
    assert Evaluator("prog").config.fsync == "batch"
    assert Evaluator("prog", fsync=True).config.fsync == "always"
    assert Evaluator("prog", fsync=False).config.fsync == "never"


def test_unknown_workload_manager() -> None:
    with pytest.raises(ConfigError, match=r"workload_manager must be one of .*got 'slurmm'"):
        Evaluator("prog", workload_manager="slurmm")


def test_unknown_launcher() -> None:
    with pytest.raises(ConfigError, match=r"launcher must be one of .*got 'mpirun'"):
        Evaluator("prog", launcher="mpirun")


def test_flag_keys_other_than_nodes_per_evaluation_are_refused() -> None:
    with pytest.raises(ConfigError, match="flag key 'gpus' is not supported"):
        Evaluator("prog", flag={"gpus": "--G"})
    with pytest.raises(ConfigError, match="must be a flag such as '--N'"):
        Evaluator("prog", flag={"nodes_per_evaluation": ""})
    with pytest.raises(ConfigError, match="flag must be a dict"):
        Evaluator("prog", flag="--N")  # type: ignore[arg-type]


def test_several_nodes_need_a_workload_manager() -> None:
    with pytest.raises(ConfigError, match="nodes=4 needs a workload manager"):
        Evaluator("prog", nodes=4, workload_manager="local")
    assert Evaluator("prog", nodes=1, workload_manager="local").config.launch.nodes == 1


@pytest.mark.parametrize(
    ("metric", "message"),
    [
        ("", "non-empty one-line prefix"),
        ({}, "at least one metric"),
        ({"loss": "high"}, r"metric\['loss'\] \(its weight\) must be a number"),
        ({"loss": math.inf}, "must be a number"),
        ({"loss": True}, "must be a number"),
        ({"": 1.0}, "non-empty one-line strings"),
        (3, "prefix string or a dict"),
    ],
)
def test_bad_metric(metric: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Evaluator("prog", metric=metric)


@pytest.mark.parametrize("cmd", ["", "   ", None, 3, "prog\0x"])
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
    with pytest.raises(ConfigTypeError, match=message):
        Evaluator("prog", **{keyword: value})


@pytest.mark.parametrize("keyword", ["launch_args", "alloc_args", "urika_args"])
def test_argument_strings_are_parsed_at_construction(keyword: str) -> None:
    with pytest.raises(ConfigError, match=f"{keyword} must split into arguments.*No closing"):
        Evaluator("prog", **{keyword: "--constraint='gpu"})


@pytest.mark.parametrize("env", [{"A=B": "1"}, {"": "1"}, {"A": "x\0y"}, {"OMP": 4}])
def test_env_must_map_valid_names_to_strings(env: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="env"):
        Evaluator("prog", env=env)


@pytest.mark.parametrize("key", ["A;B", "A B", "1A", "A-B", "A\nB", "$(id)", "LANG.x", "é"])
def test_env_keys_must_be_shell_names(key: str) -> None:
    """A job script exports env through a shell: ``export A;touch x=1`` would run code."""
    with pytest.raises(ConfigError) as caught:
        Evaluator("prog", env={key: "1"})
    assert str(caught.value) == (
        f"env key {key!r} is not a portable environment variable name: use letters, digits "
        "and '_', not starting with a digit (POSIX names; job scripts export them through "
        "a shell)."
    )


def test_env_values_may_be_anything_but_nul() -> None:
    env = {"_A1": 'it\'s "x" $(id) `id`; a b\nc', "B": ""}
    assert Evaluator("prog", env=env).config.env == env


@pytest.mark.parametrize("keyword", ["workload_manager", "launcher"])
def test_kubernetes_needs_an_image_at_construction(keyword: str) -> None:
    with pytest.raises(ConfigError, match="needs an image: pass workload_image="):
        Evaluator("prog", **{keyword: "k8s"})
    assert Evaluator("prog", workload_image="img:1", **{keyword: "k8s"}).config.named_launcher


def test_backend_options_are_checked_by_the_backend_at_construction() -> None:
    with pytest.raises(ConfigError, match=r"launcher_options\['pbs_flavour'\]"):
        Evaluator("prog", workload_manager="pbs", launcher_options={"pbs_flavour": "sge"})
    with pytest.raises(ConfigError, match=r"launcher_options\['poll_interval'\]"):
        Evaluator("prog", workload_manager="pbs", launcher_options={"poll_interval": 0})


def test_config_errors_are_value_errors_for_crayai_code() -> None:
    with pytest.raises(ValueError, match="nodes_per_eval"):
        Evaluator("prog", nodes_per_eval=-2)
    assert issubclass(ConfigError, hyperdeme.HyperdemeError)
    assert issubclass(ConfigTypeError, ConfigError)
    assert issubclass(ConfigTypeError, TypeError)


def test_a_callable_is_recognised_and_its_command_is_the_call() -> None:
    async def coroutine(params: dict[str, Any]) -> float:
        return 0.0

    def plain(params: dict[str, Any]) -> float:
        return 0.0

    assert Evaluator(coroutine).is_async_callable
    assert Evaluator(plain).is_callable
    assert not Evaluator(plain).is_async_callable
    assert not Evaluator("prog").is_callable
    command = Evaluator(plain).command_for({"--x": 0.5, "--opt": "adam"}, nodes=1)
    assert command == (
        "test_a_callable_is_recognised_and_its_command_is_the_call.<locals>.plain"
        "({'--x': 0.5, '--opt': 'adam'})"
    )


def test_slots_come_from_num_parallel_evals_or_nodes() -> None:
    assert Evaluator("prog", num_parallel_evals=8).config.slots() == 8
    config = Evaluator("prog", nodes=8, nodes_per_eval=2, workload_manager="slurm").config
    assert config.slots() == 4
    assert config.slots(total_nodes=16) == 8


def test_nodes_for_reads_the_nodes_parameter() -> None:
    ev = Evaluator("prog", flag={"nodes_per_evaluation": "--N"}, nodes_per_eval=2)
    assert ev.nodes_for({"--N": 4}) == 4
    assert ev.nodes_for({"--x": 1}) == 2
    with pytest.raises(ConfigError, match="must take integers >= 1"):
        ev.nodes_for({"--N": 0})


def test_command_for_appends_the_nodes_flag() -> None:
    ev = Evaluator("python3 train.py", flag={"nodes_per_evaluation": "--N"})
    assert ev.command_for({"--x": 0.5}, nodes=2) == "python3 train.py --x=0.5 --N=2"


def test_run_path_without_src_path_is_a_warning_users_can_filter() -> None:
    with pytest.warns(HyperdemeWarning, match="run_path is set but src_path is not") as caught:
        Evaluator("python3 train.py", run_path="runs")
    assert caught[0].filename == __file__  # points at the caller's line
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Evaluator("python3 train.py", run_path="x", src_path="src")
        Evaluator("python3 train.py")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(HyperdemeWarning):
            Evaluator("python3 train.py", run_path="runs")


def test_repr_shows_the_command_and_what_differs_from_the_defaults() -> None:
    ev = Evaluator("python3 t.py", num_parallel_evals=4, nodes=2, workload_manager="slurm")
    assert repr(ev) == (
        "Evaluator('python3 t.py', num_parallel_evals=4, workload_manager='slurm', nodes=2)"
    )


def test_early_stopping_takes_a_rule() -> None:
    rule = hyperdeme.ASHA(max_steps=27)
    evaluator = Evaluator("prog", early_stopping=rule)
    assert evaluator.config.early_stopping is rule
    assert "early_stopping=ASHA(max_steps=27, reduction_factor=3, min_steps=1)" in repr(evaluator)
    assert Evaluator("prog").config.early_stopping is None


@pytest.mark.parametrize("value", [{"max_steps": 27}, "asha", hyperdeme.ASHA])
def test_early_stopping_refuses_what_is_not_a_rule(value: Any) -> None:
    with pytest.raises(
        ConfigTypeError,
        match=r"early_stopping must be an early-stopping rule such as "
        r"hyperdeme.ASHA\(max_steps=27\) \(a hyperdeme.EarlyStopping\), or None; got ",
    ):
        Evaluator("prog", early_stopping=value)


def test_early_stopping_of_an_evaluation_function_warns() -> None:
    with pytest.warns(HyperdemeWarning, match="early_stopping has no effect on an evaluation"):
        Evaluator(lambda params: 1.0, early_stopping=hyperdeme.ASHA(max_steps=9))
