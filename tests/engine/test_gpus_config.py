"""``Evaluator(gpus=, gpus_per_eval=)``: what is refused before anything runs, and how."""

from __future__ import annotations

from typing import Any

import pytest

from hyperdeme import ConfigError, ConfigTypeError, Evaluator


@pytest.mark.parametrize(
    ("settings", "name", "words"),
    [
        ({"gpus_per_eval": 1}, "gpus_per_eval", "needs gpus"),
        ({"gpus": [0, 1], "gpus_per_eval": 3}, "gpus_per_eval", "between 1 and 2"),
        ({"gpus": [0, 1], "gpus_per_eval": 0}, "gpus_per_eval", "integer >= 1, got 0"),
        ({"gpus": [0, 1], "gpus_per_eval": -2}, "gpus_per_eval", "integer >= 1, got -2"),
        ({"gpus": [0, 2, 2]}, "gpus", "repeated: 2"),
        ({"gpus": [0], "env": {"CUDA_VISIBLE_DEVICES": "3"}}, "env.CUDA_VISIBLE_DEVICES", "env"),
        ({"gpus": "all"}, "gpus", "'auto'"),
        ({"gpus": [0, 1], "nodes_per_eval": 2}, "gpus", "srun --gpus-per-task"),
        ({"gpus": [0, 1], "launcher": "k8s", "workload_image": "t:1"}, "gpus", "from the cluster"),
        (
            {"gpus": "auto", "workload_manager": "k8s", "workload_image": "t:1"},
            "gpus",
            "gpus_per_eval=N",
        ),
    ],
)
def test_bad_device_settings_are_refused_naming_the_value(
    settings: dict[str, Any], name: str, words: str
) -> None:
    with pytest.raises((ConfigError, ConfigTypeError), match=words) as caught:
        Evaluator("prog", **settings)
    assert caught.value.name == name


def test_gpus_per_eval_is_one_by_default_and_auto_is_checked_when_the_run_starts() -> None:
    assert Evaluator("prog", gpus=[0, 1]).config.gpus_per_eval_count == 1
    # "auto" is not looked up here (an Evaluator is built on a login node too)
    assert Evaluator("prog", gpus="auto", gpus_per_eval=8).config.gpus == "auto"
    assert "gpus=('0', '1')" in repr(Evaluator("prog", gpus=[0, 1]))


def test_on_kubernetes_gpus_per_eval_alone_is_what_each_pod_asks_for() -> None:
    """Launcher 'k8s' takes gpus_per_eval without gpus= (the cluster's devices, asked per
    pod); elsewhere it still needs the pool of ids."""
    config = Evaluator("prog", launcher="k8s", workload_image="t:1", gpus_per_eval=2).config
    assert config.cluster_gpus == 2
    assert Evaluator("prog", launcher="k8s", workload_image="t:1").config.cluster_gpus == 0
    assert Evaluator("prog", gpus=[0, 1], gpus_per_eval=2).config.cluster_gpus == 0
    with pytest.raises(ConfigError, match="on launcher 'k8s'"):
        Evaluator("prog", launcher="slurm", gpus_per_eval=2)
