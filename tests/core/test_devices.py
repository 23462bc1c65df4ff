"""The device pool's checks, and ``gpus="auto"`` against stand-in ``nvidia-smi``/``rocm-smi``.

The stand-ins (``tests/standins/gpu/``) print text copied from the tools' documented
output: ``nvidia-smi -L`` as NVIDIA's MIG user guide shows it (GPU lines, MIG
devices indented under their GPU), ``rocm-smi --showid`` as AMD's ROCm SMI prints
it (a banner, ``GPU[i] : <field>: <value>`` lines, an end line). No machine here
has a GPU.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from hyperdeme import ConfigError, ConfigTypeError
from hyperdeme._core._devices import (
    check_gpus,
    detect_gpus,
    device_environment,
    nvidia_ids,
    rocm_ids,
)

STANDINS = Path(__file__).parents[1] / "standins" / "gpu"


@pytest.mark.parametrize(
    ("value", "ids"),
    [
        ([0, 1, 2, 3], ("0", "1", "2", "3")),
        (["GPU-5d5ba0d6-d33d", "MIG-c6d4f1ef"], ("GPU-5d5ba0d6-d33d", "MIG-c6d4f1ef")),
        ((3, "1"), ("3", "1")),
        ("auto", "auto"),
        (None, None),
    ],
)
def test_good_pools_are_kept_as_text(value: Any, ids: Any) -> None:
    assert check_gpus("gpus", value) == ids


@pytest.mark.parametrize(
    ("value", "error", "words"),
    [
        ([0, 1, 0], ConfigError, "repeated: 0"),
        ([0, "0"], ConfigError, "repeated: 0"),
        ([], ConfigError, "at least one"),
        ([-1], ConfigError, "indices >= 0"),
        ([1.0], ConfigTypeError, "got 1.0"),
        ([True], ConfigTypeError, "got True"),
        (["0,1"], ConfigError, "without commas"),
        ([""], ConfigError, "got ''"),
        ("0,1", ConfigTypeError, "a list of device ids"),
        (4, ConfigTypeError, "a list of device ids"),
    ],
)
def test_bad_pools_are_refused_naming_the_value(value: Any, error: type, words: str) -> None:
    with pytest.raises(error, match=words) as caught:
        check_gpus("gpus", value)
    assert caught.value.name == "gpus"


def test_each_evaluation_sees_its_ids_in_every_vendors_variable() -> None:
    assert device_environment(["2", "3"]) == {
        "CUDA_VISIBLE_DEVICES": "2,3",
        "HIP_VISIBLE_DEVICES": "2,3",
        "ROCR_VISIBLE_DEVICES": "2,3",
        "HYPERDEME_GPUS": "2,3",
    }


def test_nvidia_smi_lists_gpus_and_a_gpus_mig_devices_in_its_place() -> None:
    text = (STANDINS / "nvidia-smi").read_text().split("<<'OUT'\n")[1].split("OUT\n")[0]
    assert nvidia_ids(text) == [
        "0",
        "MIG-c6d4f1ef-42e4-5de3-91c7-45d71c87eb3f",
        "MIG-cba663e8-9bed-5b7d-97c2-1e9a5a8b6a2e",
    ]


def test_rocm_smi_lists_each_gpu_once() -> None:
    text = (STANDINS / "rocm-smi").read_text().split("<<'OUT'\n")[1].split("OUT\n")[0]
    assert rocm_ids(text) == ["0", "1"]


def path_with(tmp_path: Path, *tools: str) -> dict[str, str]:
    """An environment whose PATH holds only the named stand-ins (and /bin for sh, cat)."""
    for tool in tools:
        (tmp_path / tool).symlink_to(STANDINS / tool)
    return {"PATH": f"{tmp_path}:/bin:/usr/bin"}


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """detect_gpus looks tools up on os.environ's PATH: tests set it there."""
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    return {}


def detect(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> tuple[str, ...]:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return detect_gpus(dict(os.environ))


def test_auto_reads_nvidia_smi(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, environ: dict[str, str]
) -> None:
    ids = detect(monkeypatch, path_with(tmp_path, "nvidia-smi", "rocm-smi"))
    assert ids[0] == "0"
    assert ids[1].startswith("MIG-")
    assert len(ids) == 3


def test_auto_falls_back_to_rocm_smi_when_nvidia_smi_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, environ: dict[str, str]
) -> None:
    env = path_with(tmp_path, "nvidia-smi", "rocm-smi") | {"NVIDIA_SMI_FAILS": "1"}
    assert detect(monkeypatch, env) == ("0", "1")


def test_auto_reads_rocm_smi_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, environ: dict[str, str]
) -> None:
    assert detect(monkeypatch, path_with(tmp_path, "rocm-smi")) == ("0", "1")


def test_auto_prefers_the_devices_the_driver_was_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, environ: dict[str, str]
) -> None:
    env = path_with(tmp_path, "nvidia-smi") | {"CUDA_VISIBLE_DEVICES": "2, 3"}
    assert detect(monkeypatch, env) == ("2", "3")


def test_auto_refuses_an_empty_cuda_visible_devices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, environ: dict[str, str]
) -> None:
    env = path_with(tmp_path, "nvidia-smi") | {"CUDA_VISIBLE_DEVICES": ""}
    with pytest.raises(ConfigError, match="set but empty") as caught:
        detect(monkeypatch, env)
    assert (caught.value.name, caught.value.value) == ("gpus", "auto")


def test_auto_without_any_tool_says_what_it_tried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, environ: dict[str, str]
) -> None:
    with pytest.raises(ConfigError, match=r"nvidia-smi -L.*rocm-smi --showid"):
        detect(monkeypatch, path_with(tmp_path))
