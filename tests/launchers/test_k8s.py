"""The Kubernetes launcher: Job manifests, kubectl command lines, and runs through a stand-in.

No Kubernetes API server runs in the test environment: manifests are checked
against the ``batch/v1`` Job schema's rules by :func:`schema_errors` below, and
the flow tests use the stand-in ``kubectl`` of ``tests/standins/k8s`` (it
validates manifests like the API server and runs the container command
locally with ``sh -c``).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st
from structlog.testing import capture_logs

import hyperdeme
from hyperdeme import ConfigError, ConfigTypeError, LauncherError, LauncherOptions
from hyperdeme.launchers import Job, create
from hyperdeme.launchers._k8s import K8sLauncher, job_outcome, pod_exit_code, pod_problem
from hyperdeme.launchers._k8s_manifest import (
    checkpoint_problem,
    delete_argv,
    get_job_argv,
    get_pods_argv,
    job_manifest,
    job_name,
    label_value,
    logs_argv,
    submit_argv,
)
from hyperdeme.launchers._poll import POLL_FAILURES

from .conftest import (
    STANDINS,
    Evaluation,
    Watch,
    curve_command,
    early_stopping_through,
    gone,
    kernel_command,
    pbt_through,
    put_on_path,
    running,
    search_through,
    survivors,
    wait_for_file,
)

IMAGE = "registry.example.com/train:1.0"
FAST = {"poll_interval": 0.05}
LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")


def schema_errors(manifest: dict[str, Any]) -> list[str]:
    """What the API server would reject in a batch/v1 Job (the rules hyperdeme relies on)."""
    errors = []
    if manifest.get("apiVersion") != "batch/v1" or manifest.get("kind") != "Job":
        errors.append("apiVersion/kind must be batch/v1 Job")
    metadata = manifest.get("metadata", {})
    name = metadata.get("name", "")
    if not (isinstance(name, str) and len(name) <= 63 and LABEL.fullmatch(name)):
        errors.append(f"metadata.name {name!r} is not an RFC 1123 label")
    namespace = metadata.get("namespace")
    if namespace is not None and not LABEL.fullmatch(namespace):
        errors.append(f"metadata.namespace {namespace!r} is not a label")
    for key, value in metadata.get("labels", {}).items():
        if not (isinstance(value, str) and len(value) <= 63 and LABEL_VALUE.fullmatch(value)):
            errors.append(f"label {key}={value!r} is not a valid label value")
    spec = manifest.get("spec", {})
    for field in ("backoffLimit", "parallelism", "completions", "ttlSecondsAfterFinished"):
        if field in spec and not (isinstance(spec[field], int) and spec[field] >= 0):
            errors.append(f"spec.{field} must be an integer >= 0")
    if "activeDeadlineSeconds" in spec and not (
        isinstance(spec["activeDeadlineSeconds"], int) and spec["activeDeadlineSeconds"] > 0
    ):
        errors.append("spec.activeDeadlineSeconds must be an integer > 0")
    if spec.get("completionMode", "NonIndexed") not in ("NonIndexed", "Indexed"):
        errors.append("spec.completionMode must be NonIndexed or Indexed")
    pod = spec.get("template", {}).get("spec", {})
    if pod.get("restartPolicy") not in ("Never", "OnFailure"):
        errors.append("spec.template.spec.restartPolicy must be Never or OnFailure")
    containers = pod.get("containers") or []
    if not containers:
        errors.append("spec.template.spec.containers is required")
    for container in containers:
        if not LABEL.fullmatch(container.get("name", "")):
            errors.append("container name is required and must be a label")
        if not container.get("image"):
            errors.append("container image is required")
        if not all(isinstance(word, str) for word in container.get("command", [])):
            errors.append("container command must be strings")
        for var in container.get("env", []):
            if set(var) - {"name", "value", "valueFrom"} or not isinstance(var.get("value"), str):
                errors.append(f"env entry {var!r} is malformed")
    return errors


def make_job(**fields: Any) -> Job:
    class Null:
        def write(self, data: bytes) -> None:
            pass

    defaults: dict[str, Any] = {
        "trial_id": 7, "attempt": 1, "command": "python3 train.py --lr 0.1", "cwd": Path("/w"),
        "env": {}, "nodes": 1, "stdout": Null(), "stderr": Null(), "name": "exp-7",
        "experiment": "exp",
    }  # fmt: skip
    return Job(**{**defaults, **fields})


# -- manifests ------------------------------------------------------------------


def test_manifest_of_a_simple_evaluation() -> None:
    manifest = job_manifest(make_job(), LauncherOptions(workload_image=IMAGE))
    labels = {
        "app.kubernetes.io/managed-by": "hyperdeme",
        "hyperdeme/experiment": "exp",
        "hyperdeme/trial": "7",
        "hyperdeme/attempt": "1",
    }
    assert manifest == {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "exp-7-1", "labels": labels},
        "spec": {
            "backoffLimit": 0,
            "ttlSecondsAfterFinished": 600,
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{
                        "name": "evaluation",
                        "image": IMAGE,
                        "command": ["sh", "-c", "python3 train.py --lr 0.1"],
                    }],
                },
            },
        },
    }  # fmt: skip
    assert schema_errors(manifest) == []


def test_manifest_with_deadline_pods_env_and_namespace() -> None:
    settings = LauncherOptions(
        workload_image=IMAGE, eval_timeout=90.5, extra={"namespace": "team-a"}
    )
    manifest = job_manifest(make_job(nodes=3, env={"SEED": "1", "MODE": "a b"}), settings)
    assert manifest["metadata"]["namespace"] == "team-a"
    spec = manifest["spec"]
    assert spec["activeDeadlineSeconds"] == 91
    assert (spec["parallelism"], spec["completions"], spec["completionMode"]) == (3, 3, "Indexed")
    assert spec["template"]["spec"]["containers"][0]["env"] == [
        {"name": "SEED", "value": "1"},
        {"name": "MODE", "value": "a b"},
    ]
    assert schema_errors(manifest) == []


def test_overrides_are_deep_merged_at_their_level() -> None:
    options = {
        "job_overrides": {"metadata": {"annotations": {"team": "ml"}}, "spec": {"backoffLimit": 0}},
        "pod_overrides": {
            "volumes": [{"name": "ckpt", "persistentVolumeClaim": {"claimName": "ckpt"}}],
            "nodeSelector": {"gpu": "a100"},
        },
        "container_overrides": {
            "resources": {"limits": {"nvidia.com/gpu": 1}},
            "volumeMounts": [{"name": "ckpt", "mountPath": "/ckpt"}],
        },
    }
    manifest = job_manifest(make_job(), LauncherOptions(workload_image=IMAGE, extra=options))
    assert manifest["metadata"]["annotations"] == {"team": "ml"}
    assert manifest["metadata"]["name"] == "exp-7-1"  # merged, not replaced
    pod = manifest["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["nodeSelector"] == {"gpu": "a100"}
    assert pod["volumes"][0]["name"] == "ckpt"
    [container] = pod["containers"]
    assert container["image"] == IMAGE
    assert container["resources"] == {"limits": {"nvidia.com/gpu": 1}}
    assert container["volumeMounts"] == [{"name": "ckpt", "mountPath": "/ckpt"}]
    assert schema_errors(manifest) == []


def kubectl_standin() -> Any:
    """The stand-in kubectl as a module, for its schema of the fields it knows."""
    path = STANDINS / "k8s" / "_kubectl_standin.py"
    spec = importlib.util.spec_from_file_location("_kubectl_standin", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"namespace": "team-a", "checkpoint_volume": {"hostPath": "/nfs/ckpt"}},
        {"checkpoint_volume": {"persistentVolumeClaim": "ckpt", "mountPath": "/ckpt"}},
        {"pod_overrides": {"volumes": [{"name": "data", "hostPath": {"path": "/data"}}]},
         "container_overrides": {"volumeMounts": [{"name": "data", "mountPath": "/data"}]},
         "checkpoint_volume": {"hostPath": "/nfs/ckpt", "mountPath": "/home/me/ckpt"}},
    ],
)  # fmt: skip
def test_every_manifest_we_build_passes_strict_field_validation(extra: dict[str, Any]) -> None:
    """kubectl's default --validate=strict refuses unknown fields: every field we write
    is one of the batch/v1 Job schema's (as the stand-in knows it)."""
    standin = kubectl_standin()
    settings = LauncherOptions(workload_image=IMAGE, eval_timeout=60, extra=extra)
    for job in (make_job(), make_job(nodes=3, env={"A": "1"}, checkpoint=Path("/ckpt/x"))):
        manifest = job_manifest(job, settings)
        assert standin.unknown_fields(manifest, standin.JOB) == []
        assert standin.validate(manifest) == []
    assert standin.unknown_fields({"spec": {"templat": {}}}, standin.JOB) == ["spec.templat"]


def test_gpus_per_eval_is_asked_of_the_cluster_in_resource_limits() -> None:
    """``gpus_per_eval`` without ``gpus=`` (the runner passes it as the job's count with
    no device pool): the container asks for that many of the extended resource, the
    device plugin's to give; ``gpu_resource`` names another plug-in's; overrides win."""
    standin = kubectl_standin()
    plain = LauncherOptions(workload_image=IMAGE)
    [container] = job_manifest(make_job(gpus_per_eval=2), plain)["spec"]["template"]["spec"][
        "containers"
    ]
    assert container["resources"] == {"limits": {"nvidia.com/gpu": 2}}
    assert (
        "resources"
        not in job_manifest(make_job(), plain)["spec"]["template"]["spec"]["containers"][0]
    )
    amd = LauncherOptions(workload_image=IMAGE, extra={"gpu_resource": "amd.com/gpu"})
    manifest = job_manifest(make_job(gpus_per_eval=1, nodes=2), amd)
    assert standin.validate(manifest) == []
    assert standin.unknown_fields(manifest, standin.JOB) == []
    assert manifest["spec"]["template"]["spec"]["containers"][0]["resources"] == {
        "limits": {"amd.com/gpu": 1}
    }
    mine = {"container_overrides": {"resources": {"limits": {"nvidia.com/gpu": 4, "cpu": "8"}}}}
    manifest = job_manifest(make_job(gpus_per_eval=2), LauncherOptions(workload_image=IMAGE,
                                                                      extra=mine))  # fmt: skip
    assert manifest["spec"]["template"]["spec"]["containers"][0]["resources"] == {
        "limits": {"nvidia.com/gpu": 4, "cpu": "8"}
    }
    # a packing launcher's device pool is no request of the cluster's
    packed = make_job(gpus_per_eval=1, device_pool=("0", "1"))
    assert (
        "resources" not in job_manifest(packed, plain)["spec"]["template"]["spec"]["containers"][0]
    )


@pytest.mark.parametrize("resource", ["gpu", "nvidia.com/", "/gpu", "NVIDIA.com/gpu", 3])
def test_a_bad_gpu_resource_is_refused_naming_it(resource: Any) -> None:
    with pytest.raises((ConfigError, ConfigTypeError), match="extended resource") as caught:
        create("k8s", LauncherOptions(workload_image=IMAGE, extra={"gpu_resource": resource}))
    assert repr(resource) in str(caught.value)


async def test_a_search_on_kubernetes_asks_each_pod_for_its_gpus(
    cluster: Path, tmp_path: Path
) -> None:
    """Evaluator(launcher='k8s', gpus_per_eval=2): every Job submitted to the (stand-in)
    cluster asks for two GPUs; no device ids of the driver's machine are exported."""
    await search_through(
        tmp_path, workload_manager="k8s", workload_image=IMAGE, launcher_options=FAST,
        gpus_per_eval=2,
    )  # fmt: skip
    manifests = [path async for path in anyio.Path(tmp_path).rglob("*.json")
                 if path.parent.name == "k8s"]  # fmt: skip
    assert len(manifests) == 4
    for path in manifests:
        [container] = json.loads(await path.read_text())["spec"]["template"]["spec"]["containers"]
        assert container["resources"] == {"limits": {"nvidia.com/gpu": 2}}
        names = {variable["name"] for variable in container.get("env", [])}
        assert not names & {"CUDA_VISIBLE_DEVICES", "HYPERDEME_GPUS"}


def test_the_checkpoint_volume_is_added_after_the_overrides() -> None:
    options = {
        "pod_overrides": {"volumes": [{"name": "data", "emptyDir": {}}]},
        "checkpoint_volume": {"persistentVolumeClaim": "hpo-ckpt", "mountPath": "/shared/c"},
    }
    manifest = job_manifest(make_job(), LauncherOptions(workload_image=IMAGE, extra=options))
    pod = manifest["spec"]["template"]["spec"]
    assert pod["volumes"] == [
        {"name": "data", "emptyDir": {}},
        {"name": "hyperdeme-checkpoints", "persistentVolumeClaim": {"claimName": "hpo-ckpt"}},
    ]
    assert pod["containers"][0]["volumeMounts"] == [
        {"name": "hyperdeme-checkpoints", "mountPath": "/shared/c"}
    ]


def test_a_checkpoint_outside_the_checkpoint_volume_is_a_problem() -> None:
    inside = make_job(checkpoint=Path("/nfs/ckpt/pbt/00001.1.1"))
    outside = make_job(checkpoint=Path("/home/me/ckpt/00001.1.1"))
    mounted = LauncherOptions(
        workload_image=IMAGE, extra={"checkpoint_volume": {"hostPath": "/nfs/ckpt"}}
    )
    plain = LauncherOptions(workload_image=IMAGE)
    assert checkpoint_problem(make_job(), plain) is None  # no checkpoint, no volume needed
    assert checkpoint_problem(inside, mounted) is None
    assert "is on no volume of the pods" in str(checkpoint_problem(inside, plain))
    problem = str(checkpoint_problem(outside, mounted))
    assert "/home/me/ckpt/00001.1.1" in problem
    assert "(checkpoint_volume is mounted at /nfs/ckpt)" in problem


@pytest.mark.parametrize(
    ("volume", "error"),
    [
        ({"hostPath": "relative/dir"}, ConfigError),
        ({"persistentVolumeClaim": "ckpt"}, ConfigError),  # where the driver sees it?
        ({"persistentVolumeClaim": "Bad_Claim", "mountPath": "/c"}, ConfigError),
        ({"hostPath": "/a", "persistentVolumeClaim": "c", "mountPath": "/a"}, ConfigError),
        ({"nfs": "/a"}, ConfigError),
        ("/nfs/ckpt", ConfigTypeError),
        ({"hostPath": 3}, ConfigTypeError),
    ],
)
def test_bad_checkpoint_volumes_are_config_errors(volume: Any, error: type[Exception]) -> None:
    message = r"launcher_options\['checkpoint_volume'\] (must be|names)"
    with pytest.raises(error, match=message) as info:
        K8sLauncher(LauncherOptions(workload_image=IMAGE, extra={"checkpoint_volume": volume}))
    assert getattr(info.value, "name", None) == "launcher_options.checkpoint_volume"
    assert getattr(info.value, "value", None) == volume


@given(
    name=st.text(max_size=120),
    trial_id=st.integers(1, 10**9),
    attempt=st.integers(1, 1000),
)
def test_job_names_are_valid_labels(name: str, trial_id: int, attempt: int) -> None:
    job = make_job(name=name, trial_id=trial_id, attempt=attempt)
    result = job_name(job)
    assert len(result) <= 63
    assert LABEL.fullmatch(result), result
    assert result != job_name(make_job(name=name, trial_id=trial_id, attempt=attempt + 1))
    manifest = job_manifest(job, LauncherOptions(workload_image=IMAGE))
    assert schema_errors(manifest) == []


def test_long_and_uppercase_names() -> None:
    long = job_name(make_job(name="My_Experiment " * 10 + "-7"))
    assert len(long) == 63
    assert long.startswith("my-experiment-my-experiment")
    assert re.search(r"-7-1-[0-9a-f]{10}$", long)
    assert job_name(make_job(name="42-Runs", trial_id=42)) == "hd-42-runs-42-1"
    assert job_name(make_job(name="")) == "hyperdeme-7-1"


@given(st.text(max_size=100))
def test_label_values_are_valid(text: str) -> None:
    value = label_value(text)
    assert len(value) <= 63
    assert LABEL_VALUE.fullmatch(value)


def test_missing_image_and_bad_options_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="workload_image="):
        K8sLauncher(LauncherOptions())
    with pytest.raises(ConfigError, match="namespace"):
        K8sLauncher(LauncherOptions(workload_image=IMAGE, extra={"namespace": "Team A"}))
    with pytest.raises(ConfigError, match="pod_overrides"):
        K8sLauncher(LauncherOptions(workload_image=IMAGE, extra={"pod_overrides": [1]}))
    with pytest.raises(ConfigError, match="workload_image="):
        create("k8s", LauncherOptions())


def test_kubectl_command_lines() -> None:
    assert submit_argv("/w/j.json") == ["kubectl", "create", "-f", "/w/j.json"]
    assert submit_argv("/w/j.json", "ns") == ["kubectl", "-n", "ns", "create", "-f", "/w/j.json"]
    assert get_job_argv("j") == ["kubectl", "get", "job", "j", "-o", "json"]
    assert get_pods_argv("j", "ns") == [
        "kubectl", "-n", "ns", "get", "pods", "-l", "job-name=j", "-o", "json",
    ]  # fmt: skip
    assert logs_argv("j", 1) == ["kubectl", "logs", "job/j"]
    assert logs_argv("j", 1, "ns", follow=True) == [
        "kubectl",
        "-n",
        "ns",
        "logs",
        "--follow",
        "job/j",
    ]
    assert logs_argv("j", 3) == [
        "kubectl", "logs", "-l", "job-name=j", "--tail=-1", "--max-log-requests=3",
    ]  # fmt: skip
    assert delete_argv("j") == [
        "kubectl", "delete", "job", "j", "--ignore-not-found", "--wait=false",
        "--cascade=background",
    ]  # fmt: skip


def test_status_parsers() -> None:
    assert job_outcome({"status": {"active": 1}}) is None
    failed = {"status": {"conditions": [
        {"type": "FailureTarget", "status": "True", "reason": "DeadlineExceeded"},
        {"type": "Failed", "status": "True", "reason": "DeadlineExceeded"},
    ]}}  # fmt: skip
    assert job_outcome(failed) == ("Failed", "DeadlineExceeded")
    assert job_outcome({"status": {"conditions": [{"type": "Complete", "status": "True"}]}}) == (
        "Complete", "",
    )  # fmt: skip

    def pod(state: dict[str, Any]) -> dict[str, Any]:
        return {"status": {"containerStatuses": [{"state": state}]}}

    pods = {"items": [pod({"terminated": {"exitCode": 0}}), pod({"terminated": {"exitCode": 137}})]}
    assert pod_exit_code(pods) == 137
    assert pod_exit_code({"items": []}) is None
    stuck = {"items": [pod({"waiting": {"reason": "ImagePullBackOff", "message": "no such"}})]}
    assert pod_problem(stuck) == "ImagePullBackOff: no such"
    assert pod_problem({"items": [pod({"waiting": {"reason": "ContainerCreating"}})]}) is None


# -- runs through the stand-in kubectl ------------------------------------------------


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The stand-in kubectl on PATH with an empty spool directory as its "cluster"."""
    put_on_path(monkeypatch, "k8s")
    spool = tmp_path / "cluster"
    monkeypatch.setenv("KUBECTL_STANDIN_SPOOL", str(spool))
    monkeypatch.setenv("KUBECTL_STANDIN_GRACE", "1")  # Kubernetes' 30 s is long for tests
    # what only the driver's host has: the run directories (checkpoints, src copies)
    host_only = [str(tmp_path / "run"), str(tmp_path / "ckpt")]
    monkeypatch.setenv("KUBECTL_STANDIN_HOST_ONLY", os.pathsep.join(host_only))
    return spool


def jobs_in(cluster: Path) -> list[str]:
    return sorted(path.stem for path in (cluster / "jobs").glob("*.json"))


async def test_job_runs_and_its_metric_is_scanned(
    cluster: Path, evaluation: Callable[..., Evaluation]
) -> None:
    """Against the stand-in kubectl (no API server here): create, poll, logs, delete."""
    ev = evaluation(kernel_command("--show", "SEED", "--stderr", "to stderr"), env={"SEED": "3"})
    launcher = K8sLauncher(LauncherOptions(workload_image=IMAGE, extra=FAST))
    async with launcher:
        exit_ = await launcher.run(ev.job)
    assert exit_.returncode == 0
    assert ev.metrics() == {"FoM": 1.25}
    assert "SEED=3\n" in ev.output
    assert "to stderr\n" in ev.output  # a container log merges stderr
    assert ev.output.count("FoM: 1.25\n") == 1  # followed, then read again: each byte once
    manifest = json.loads((ev.job.cwd / ".hyperdeme" / "k8s" / "exp-1-1.json").read_text())
    assert schema_errors(manifest) == []
    assert jobs_in(cluster) == []  # deleted after reading


async def test_failed_job_takes_the_container_exit_code(
    cluster: Path, evaluation: Callable[..., Evaluation]
) -> None:
    """Against the stand-in kubectl: a Failed Job's exit code comes from its pod."""
    ev = evaluation(kernel_command("--exit", "3"))
    launcher = K8sLauncher(LauncherOptions(workload_image=IMAGE, extra=FAST))
    assert (await launcher.run(ev.job)).returncode == 3
    assert ev.metrics() == {"FoM": 1.25}
    assert jobs_in(cluster) == []


async def test_deadline_exceeded_is_a_kill(
    cluster: Path, evaluation: Callable[..., Evaluation]
) -> None:
    """Against the stand-in kubectl, which enforces activeDeadlineSeconds like the Job
    controller: DeadlineExceeded becomes returncode -9."""
    ev = evaluation(kernel_command("--hold", "30"))
    settings = LauncherOptions(workload_image=IMAGE, eval_timeout=1, extra=FAST)
    assert (await K8sLauncher(settings).run(ev.job)).returncode == -9


async def test_cancelled_job_is_deleted(
    cluster: Path, evaluation: Callable[..., Evaluation], tmp_path: Path
) -> None:
    """Against the stand-in kubectl: cancelling run() deletes the Job, whose pod process
    is then gone."""
    pidfile = tmp_path / "kernel.pid"
    ev = evaluation(kernel_command("--pidfile", str(pidfile), "--hold", "60"))
    launcher = K8sLauncher(LauncherOptions(workload_image=IMAGE, extra=FAST))
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:
            tg.start_soon(launcher.run, ev.job)
            pid = int(await wait_for_file(pidfile))
            assert jobs_in(cluster) == ["default__exp-1-1"]
            scope.cancel()
    assert await gone(pid)
    assert jobs_in(cluster) == []


async def test_output_reaches_the_engine_while_the_job_runs(
    cluster: Path, evaluation: Callable[..., Evaluation], marker: str
) -> None:
    """Against the stand-in kubectl: the pod's log is followed (kubectl logs --follow), so
    the first epoch arrives while the Job runs; cancelling then deletes it."""
    ev = evaluation(curve_command("--epochs=3", "--hang", f"--marker={marker}"))
    watch = Watch(ev.job.stdout, b"epoch 1: FoM: 1.04\n")
    launcher = K8sLauncher(LauncherOptions(workload_image=IMAGE, extra=FAST))
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:
            tg.start_soon(launcher.run, dataclasses.replace(ev.job, stdout=watch))
            with anyio.fail_after(20):
                await watch.seen.wait()
            assert jobs_in(cluster) == ["default__exp-1-1"]
            scope.cancel()
    assert jobs_in(cluster) == []
    assert ev.output == "epoch 1: FoM: 1.04\n"
    assert survivors(marker) == []


async def test_namespace_and_multi_pod_jobs(
    cluster: Path, evaluation: Callable[..., Evaluation]
) -> None:
    """Against the stand-in kubectl (it refuses a -n that contradicts the manifest): two
    indexed pods, both logs read."""
    ev = evaluation(kernel_command("--show", "JOB_COMPLETION_INDEX"), nodes=2)
    settings = LauncherOptions(workload_image=IMAGE, extra={**FAST, "namespace": "team-a"})
    assert (await K8sLauncher(settings).run(ev.job)).returncode == 0
    assert sorted(re.findall(r"JOB_COMPLETION_INDEX=(\d)", ev.output)) == ["0", "1"]
    assert ev.output.count("FoM: 1.25") == 2


async def test_a_pod_that_cannot_start_fails_the_attempt(
    cluster: Path, evaluation: Callable[..., Evaluation]
) -> None:
    """Against the stand-in kubectl, whose image "pull" of *does-not-exist* backs off."""
    ev = evaluation("true")
    settings = LauncherOptions(workload_image="does-not-exist:1", extra=FAST)
    with pytest.raises(LauncherError, match="ImagePullBackOff"):
        await K8sLauncher(settings).run(ev.job)
    assert jobs_in(cluster) == []


def mount_namespaces() -> bool:
    """Whether this host lets the stand-in give a pod its own mount namespace."""
    unshare = ["unshare", "--mount", "--propagation", "private"]
    for argv in (unshare, [*unshare, "--map-root-user"]):
        try:
            if subprocess.run([*argv, "true"], capture_output=True, check=False).returncode == 0:
                return True
        except OSError:
            return False
    return False


async def test_pods_see_the_host_files_only_through_their_volumes(
    cluster: Path, evaluation: Callable[..., Evaluation], tmp_path: Path
) -> None:
    """Against the stand-in kubectl: a pod starts in a fresh directory, and a directory
    only the driver's host has (here the run directory) is empty in the pod unless a
    hostPath volume mounts it."""
    if not mount_namespaces():
        pytest.skip("no mount namespace on this host: the stand-in cannot hide host files")
    shared = tmp_path / "run" / "shared"
    shared.mkdir(parents=True)
    (shared / "note").write_text("from the host\n")
    (tmp_path / "run" / "secret").write_text("host only\n")
    command = f"pwd; ls -A; cat {shared}/note; cat {tmp_path}/run/secret"
    ev = evaluation(command)
    launcher = K8sLauncher(LauncherOptions(workload_image=IMAGE, extra=FAST))
    assert (await launcher.run(ev.job)).returncode == 1  # cat failed
    lines = ev.output.splitlines()
    assert lines[0].startswith(str(cluster / "pods"))  # a fresh directory, not the job's
    assert lines[1].startswith("cat: ")  # and an empty one
    assert "from the host" not in ev.output
    assert "host only" not in ev.output
    volumes = {
        "pod_overrides": {"volumes": [{"name": "s", "hostPath": {"path": str(shared)}}]},
        "container_overrides": {"volumeMounts": [{"name": "s", "mountPath": str(shared)}]},
    }
    ev = evaluation(command, trial_id=2)
    launcher = K8sLauncher(LauncherOptions(workload_image=IMAGE, extra={**FAST, **volumes}))
    assert (await launcher.run(ev.job)).returncode == 1
    assert "from the host\n" in ev.output
    assert "host only" not in ev.output


async def test_by_default_pods_do_not_see_the_clients_working_directory(
    cluster: Path,
    evaluation: Callable[..., Evaluation],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without KUBECTL_STANDIN_HOST_ONLY the stand-in hides the directory kubectl runs
    in (the driver's working directory)."""
    if not mount_namespaces():
        pytest.skip("no mount namespace on this host: the stand-in cannot hide host files")
    monkeypatch.delenv("KUBECTL_STANDIN_HOST_ONLY")
    client = tmp_path / "client"
    client.mkdir()
    (client / "note").write_text("client file\n")
    monkeypatch.chdir(client)
    ev = evaluation(f"cat {client}/note")
    launcher = K8sLauncher(LauncherOptions(workload_image=IMAGE, extra=FAST))
    assert (await launcher.run(ev.job)).returncode == 1
    assert "client file" not in ev.output


async def test_an_unknown_manifest_field_is_refused_like_kubectl_strict_validation(
    cluster: Path, evaluation: Callable[..., Evaluation]
) -> None:
    """Against the stand-in kubectl, strict by default like kubectl: a misspelt override
    is refused at create, naming the field."""
    ev = evaluation("true")
    extra = {**FAST, "container_overrides": {"imagePulPolicy": "Always"}}
    launcher = K8sLauncher(LauncherOptions(workload_image=IMAGE, extra=extra))
    message = (
        'strict decoding error: unknown field "spec.template.spec.containers\\[0\\].imagePulPolicy"'
    )
    with pytest.raises(LauncherError, match=message):
        await launcher.run(ev.job)
    assert jobs_in(cluster) == []


@pytest.mark.parametrize(("failures", "succeeds"), [(0, True), (3, True), (9, False)])
async def test_failing_status_queries_are_retried_a_few_times(
    cluster: Path,
    evaluation: Callable[..., Evaluation],
    monkeypatch: pytest.MonkeyPatch,
    failures: int,
    succeeds: bool,
) -> None:
    """Against the stand-in kubectl failing its next N `get` calls: a few are retried,
    too many end the attempt with the API server's error; the failures happened."""
    monkeypatch.setenv("KUBECTL_STANDIN_FAIL_GETS", str(failures))
    ev = evaluation(kernel_command())
    launcher = K8sLauncher(LauncherOptions(workload_image=IMAGE, extra=FAST))
    if succeeds:
        assert (await launcher.run(ev.job)).returncode == 0
        assert ev.metrics() == {"FoM": 1.25}
    else:
        with pytest.raises(LauncherError, match="InternalError"):
            await launcher.run(ev.job)
    log = cluster / "KUBECTL_STANDIN_FAIL_GETS.log"
    failed = log.read_text().splitlines() if failures else []
    assert len(failed) == min(failures, POLL_FAILURES)
    assert all(line.startswith("get job exp-1-1") for line in failed)


async def test_delete_returns_at_once_and_the_pod_gets_its_grace(
    cluster: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stand-in like Kubernetes: `kubectl delete` returns before the pod ends; its
    PID 1 gets SIGTERM (which this one traps), the rest SIGKILL after the grace."""
    monkeypatch.setenv("KUBECTL_STANDIN_GRACE", "3")
    trapped, pidfile = tmp_path / "trapped", tmp_path / "pid"
    script = (
        f"trap 'echo TERM >> {trapped}' TERM; echo $$ > {pidfile}; while :; do sleep 0.05; done"
    )
    manifest = job_manifest(make_job(command=script), LauncherOptions(workload_image=IMAGE))
    path = tmp_path / "job.json"
    path.write_text(json.dumps(manifest))
    await anyio.run_process(["kubectl", "create", "-f", str(path)])
    pid = int(await wait_for_file(pidfile))
    await anyio.run_process(["kubectl", "delete", "job", "exp-7-1", "--wait=false"])
    assert jobs_in(cluster) == []  # the Job is gone at once
    assert running(pid)  # its pod is terminating: 3 s of grace
    assert (await wait_for_file(trapped)) == "TERM\n"  # PID 1 got SIGTERM, and kept going
    assert running(pid)
    assert await gone(pid)  # SIGKILL after the grace


async def test_random_search_on_kubernetes(cluster: Path, tmp_path: Path) -> None:
    """hyperdeme.optimize with workload_manager='k8s', against the stand-in kubectl (no API
    server here): one Job per trial, all cleaned up."""
    await search_through(
        tmp_path, workload_manager="k8s", workload_image=IMAGE, launcher_options=FAST
    )
    assert jobs_in(cluster) == []
    assert len(list((cluster / "logs").glob("*.log"))) == 4


async def test_pbt_on_kubernetes(cluster: Path, tmp_path: Path) -> None:
    """Population-based training, every slice a (stand-in) Kubernetes Job; the checkpoint
    directory is declared as a hostPath volume, mounted at the same path in the pods (the
    stand-in's pods see nothing of the run's directories otherwise)."""
    volume = {"hostPath": str(tmp_path / "ckpt")}
    await pbt_through(
        tmp_path, workload_manager="k8s", workload_image=IMAGE,
        launcher_options={**FAST, "checkpoint_volume": volume},
    )  # fmt: skip
    manifests = [path async for path in anyio.Path(tmp_path).rglob("*.json")
                 if path.parent.name == "k8s"]  # fmt: skip
    assert len(manifests) == 6
    for path in manifests:
        pod = json.loads(await path.read_text())["spec"]["template"]["spec"]
        assert pod["volumes"] == [{"name": "hyperdeme-checkpoints", "hostPath": {
            "path": str(tmp_path / "ckpt"), "type": "DirectoryOrCreate"}}]  # fmt: skip
        assert pod["containers"][0]["volumeMounts"] == [
            {"name": "hyperdeme-checkpoints", "mountPath": str(tmp_path / "ckpt")}
        ]


async def test_pbt_on_kubernetes_through_a_claimed_volume(
    cluster: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checkpoints on a PersistentVolumeClaim the driver also mounts (the stand-in
    binds claim "hpo-ckpt" to the driver's checkpoint directory, like shared storage)."""
    monkeypatch.setenv("KUBECTL_STANDIN_PVCS", f"hpo-ckpt={tmp_path / 'ckpt'}")
    volume = {"persistentVolumeClaim": "hpo-ckpt", "mountPath": str(tmp_path / "ckpt")}
    await pbt_through(
        tmp_path, workload_manager="k8s", workload_image=IMAGE,
        launcher_options={**FAST, "checkpoint_volume": volume},
    )  # fmt: skip


async def test_pbt_on_kubernetes_without_a_checkpoint_volume_says_what_to_declare(
    cluster: Path, tmp_path: Path
) -> None:
    """No volume for the checkpoints: each attempt fails before its Job is created, with
    a message naming checkpoint_volume (pods do not share the driver's files)."""
    with pytest.raises(hyperdeme.EvaluationError, match="checkpoint_volume"):
        await pbt_through(
            tmp_path, workload_manager="k8s", workload_image=IMAGE, launcher_options=FAST
        )
    assert not (cluster / "jobs").exists() or jobs_in(cluster) == []


async def test_early_stopping_deletes_the_hopeless_jobs(
    cluster: Path, tmp_path: Path, marker: str
) -> None:
    """hyperdeme.optimize with ASHA against the stand-in kubectl: the stopped trials' Jobs
    are deleted while they run (only the first one finishes)."""
    with capture_logs() as logs:
        await early_stopping_through(
            tmp_path, marker, workload_manager="k8s", workload_image=IMAGE, launcher_options=FAST
        )
    finished = [event["job"] for event in logs if event["event"] == "k8s.finished"]
    deleted = [event["job"] for event in logs if event["event"] == "k8s.deleted"]
    assert finished == ["es-1-1"]
    assert deleted == ["es-1-1", "es-2-1", "es-3-1"]
    assert jobs_in(cluster) == []


@pytest.mark.parametrize(("failures", "expected"), [(0, 3), (POLL_FAILURES - 1, 3), (99, 1)])
async def test_the_exit_code_query_is_retried_like_the_status_polls(
    monkeypatch: pytest.MonkeyPatch, failures: int, expected: int
) -> None:
    """A failed Job's exit code comes from `kubectl get pods`: a query failing a few
    times is asked again (the code is the program's), too often gives 1 and a warning.
    A fake `capture` (not the stand-in), to aim the failures at this one query."""
    pods = {"items": [{"status": {"containerStatuses": [{"state": {"terminated": {
        "exitCode": 3}}}]}}]}  # fmt: skip
    calls: list[list[str]] = []

    async def capture(argv: list[str]) -> tuple[int, str, str]:
        calls.append(argv)
        if len(calls) <= failures:
            return 1, "", "Error from server (InternalError): try again"
        return 0, json.dumps(pods), ""

    monkeypatch.setattr("hyperdeme.launchers._k8s.capture", capture)
    launcher = K8sLauncher(LauncherOptions(workload_image=IMAGE, extra=FAST))
    with capture_logs() as logs:
        code = await launcher._returncode("exp-1-1", "Failed", "BackoffLimitExceeded")
    assert code == expected
    assert len(calls) == min(failures + 1, POLL_FAILURES)
    assert any(e["event"] == "k8s.exit_code_unknown" for e in logs) == (expected == 1)
