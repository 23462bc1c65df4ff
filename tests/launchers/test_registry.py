"""Launchers by name: one name per launcher, and the launcher_options each one accepts."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

import hyperdeme
from fakes import FakeLauncher, fom_handler
from hyperdeme import ConfigError, ConfigTypeError, Evaluator
from hyperdeme.launchers import Job, Launcher, LauncherOptions, create, register
from hyperdeme.launchers._registry import _FACTORIES, BUILT_IN, _factory

IMAGE = "registry.example.com/train:1.0"


@pytest.mark.parametrize("name", BUILT_IN)
def test_a_built_in_launcher_is_named_once_by_its_registration(name: str) -> None:
    factory = _factory(name)
    assert isinstance(factory, type)
    assert issubclass(factory, Launcher)
    assert factory.name == name


def test_registering_names_the_class_and_an_unregistered_class_has_its_own_name() -> None:
    class Mine(FakeLauncher):
        pass

    class Other(Mine):
        pass

    try:
        assert Mine.name == "Mine"
        register("registry_mine")(Mine)
        assert Mine.name == "registry_mine"
        assert Other.name == "Other"
    finally:
        _FACTORIES.pop("registry_mine", None)


def test_a_job_environment_is_the_base_with_the_job_variables_on_top() -> None:
    job = Job(
        trial_id=1, attempt=1, command="true", cwd=Path(), env={"A": "job", "B": "b"}, nodes=1,
        stdout=bytearray(), stderr=bytearray(),
    )  # fmt: skip
    assert job.environ({"A": "base", "C": "c"}) == {"A": "job", "B": "b", "C": "c"}
    assert job.environ() == {**os.environ, "A": "job", "B": "b"}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"workload_manager": "k8s", "workload_image": IMAGE,
             "launcher_options": {"namespce": "team-a"}},
            "launcher 'k8s' got unknown launcher_options key(s) 'namespce' (did you mean "
            "'namespace'?); allowed: checkpoint_volume, container_overrides, gpu_resource, "
            "job_overrides, namespace, pod_overrides, poll_interval.",
        ),
        (
            {"launcher": "pbs", "launcher_options": {"pbs_flavor": "torque", "poll": 1}},
            "launcher 'pbs' got unknown launcher_options key(s) 'pbs_flavor' (did you mean "
            "'pbs_flavour'?), 'poll'; allowed: alloc_wait, pbs_flavour, "
            "poll_interval.",
        ),
        (
            {"launcher": "local", "launcher_options": {"graec": 1}},
            "launcher 'local' got unknown launcher_options key(s) 'graec'; it takes none.",
        ),
        (
            {"workload_manager": "slurm", "launcher_options": {"partition": "gpu"}},
            "launcher 'slurm' got unknown launcher_options key(s) 'partition'; allowed: "
            "alloc_wait, poll_interval, renewals, single_task, tasks_per_node.",
        ),
        (
            {"launcher": "urika", "launcher_options": {"x": 1}},
            "launcher 'urika' got unknown launcher_options key(s) 'x'; it takes none.",
        ),
    ],
)  # fmt: skip
def test_an_unknown_launcher_options_key_is_refused_with_a_suggestion(
    settings: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigTypeError) as caught:
        Evaluator("prog", **settings)  # type: ignore[arg-type]
    assert str(caught.value) == message


def test_known_launcher_options_are_checked_and_labelled() -> None:
    with pytest.raises(ConfigError, match=r"launcher_options\['namespace'\] must be a Kub"):
        Evaluator("p", launcher="k8s", workload_image=IMAGE, launcher_options={"namespace": "A_b"})
    with pytest.raises(ConfigTypeError, match=r"launcher_options\['pod_overrides'\] must be a"):
        Evaluator("p", launcher="k8s", workload_image=IMAGE, launcher_options={"pod_overrides": 1})
    with pytest.raises(ConfigError, match=r"launcher_options\['pbs_flavour'\] must be one of"):
        Evaluator("p", launcher="pbs", launcher_options={"pbs_flavour": "sge"})
    Evaluator("p", launcher="pbs", launcher_options={"pbs_flavour": "torque", "poll_interval": 1})


def test_a_detected_launcher_checks_them_when_it_is_built() -> None:
    Evaluator("prog", launcher_options={"graec": 1})  # "auto": not known until the run
    with pytest.raises(ConfigTypeError, match=re.escape("launcher 'local' got unknown")):
        create("local", LauncherOptions(extra={"graec": 1}))


async def test_a_run_with_a_detected_launcher_refuses_them_before_any_trial(
    tmp_path: Path,
) -> None:
    evaluator = Evaluator(
        "true", launcher_options={"graec": 1}, workload_manager="auto",
        run_path=str(tmp_path / "run"), src_path=str(tmp_path),
    )  # fmt: skip
    optimizer = hyperdeme.RandomOptimizer(evaluator, num_iters=2, seed=1, name="detected")
    with pytest.raises(ConfigTypeError, match="'graec'; it takes none"):
        await hyperdeme.optimize(optimizer, hyperdeme.Params([["--x", 0.5, (0.0, 1.0)]]))
    assert hyperdeme.read_journal(tmp_path / "run" / "detected") == []
    assert psutil.Process().children(recursive=True) == []  # no watchdog left behind


def test_a_factory_function_s_launcher_checks_them_when_it_is_built() -> None:
    register("registry_function")(lambda options: FakeLauncher(fom_handler()))
    try:
        Evaluator("prog", launcher="registry_function", launcher_options={"x": 1})
        with pytest.raises(ConfigTypeError, match="launcher 'fake' got unknown"):
            create("registry_function", LauncherOptions(extra={"x": 1}))
    finally:
        _FACTORIES.pop("registry_function", None)


@dataclass(frozen=True)
class NeedsLevel:
    level: int

    def __post_init__(self) -> None:
        if self.level < 0:
            raise ValueError(f"level must be >= 0, got {self.level}")


class Levelled(FakeLauncher):
    launcher_options = NeedsLevel


class NotADataclass(FakeLauncher):
    launcher_options = dict


def test_what_a_launcher_s_own_dataclass_raises_is_a_config_error() -> None:
    with pytest.raises(ConfigTypeError, match=r"launcher 'Levelled' cannot use launcher_opt"):
        Levelled.read_extra(LauncherOptions())  # level is required
    with pytest.raises(ConfigError, match="level must be >= 0, got -1") as caught:
        Levelled.read_extra(LauncherOptions(extra={"level": -1}))
    assert not isinstance(caught.value, TypeError)
    assert Levelled.read_extra(LauncherOptions(extra={"level": 2})) == NeedsLevel(2)


def test_launcher_options_must_be_declared_as_a_dataclass() -> None:
    with pytest.raises(ConfigTypeError, match="declares launcher_options = <class 'dict'>"):
        NotADataclass.read_extra(LauncherOptions())
