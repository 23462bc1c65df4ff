"""Kubernetes ``batch/v1`` Job manifests and kubectl command lines, as pure functions.

One Job per evaluation attempt: ``backoffLimit: 0`` (hyperdeme does its own
retries), ``restartPolicy: Never``, ``activeDeadlineSeconds`` from
``eval_timeout``, ``ttlSecondsAfterFinished`` so the cluster cleans up even if
hyperdeme cannot, and ``job.nodes`` pods (``parallelism``/``completions``,
indexed: each pod sees ``JOB_COMPLETION_INDEX``) for multi-node evaluations.

Site specifics pass through ``launcher_options``, deep-merged (dicts merge
key by key, anything else, lists included, replaces):

* ``job_overrides`` into the whole Job (``metadata.annotations``, ``spec`` ...),
* ``pod_overrides`` into the pod spec (``volumes``, ``nodeSelector``,
  ``tolerations``, ``serviceAccountName``, ``imagePullSecrets`` ...),
* ``container_overrides`` into the container (``resources``,
  ``volumeMounts``, ``workingDir``, ``imagePullPolicy`` ...).

Pods do not share the driver's files. An evaluation that reads or writes a
checkpoint (PBT) needs the checkpoint directory mounted in its pods at the path
the driver uses: ``launcher_options["checkpoint_volume"]`` declares it, as
``{"hostPath": "/nfs/ckpt"}`` (the nodes' directory, mounted at the same path;
add ``"mountPath"`` when the driver sees it elsewhere) or
``{"persistentVolumeClaim": "hpo-ckpt", "mountPath": "/nfs/ckpt"}`` (a claim on
storage the driver mounts at ``mountPath``). It is added to the pod's volumes
and the container's mounts after the overrides (which cannot drop it). A
checkpoint outside it fails the attempt before its Job is created
(:func:`checkpoint_problem`).

GPUs come from the cluster, not from device ids of the driver's machine: with
``Evaluator(gpus_per_eval=N)`` (and no ``gpus=``) each pod's container asks for
``N`` of the extended resource ``launcher_options["gpu_resource"]``
(``nvidia.com/gpu`` by default; ``amd.com/gpu``, ``gpu.intel.com/i915`` ...) in
``resources.limits``; the scheduler puts the pod on a node with that many free
and the device plugin gives the container them (and sets its
``NVIDIA_VISIBLE_DEVICES``). ``container_overrides`` may still change it.
"""

from __future__ import annotations

import copy
import hashlib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from .._core._checks import optional
from .._core._errors import ConfigError, ConfigTypeError
from .._core._settings import Config
from ._base import Job
from ._extra import option
from ._options import LauncherOptions
from ._poll import DEFAULT_POLL_INTERVAL, poll_seconds

__all__ = [
    "CHECKPOINT_VOLUME",
    "CONTAINER_NAME",
    "MANAGED_BY",
    "K8sOptions",
    "check_options",
    "checkpoint_problem",
    "deep_merge",
    "delete_argv",
    "get_job_argv",
    "get_pods_argv",
    "job_manifest",
    "job_name",
    "label_value",
    "logs_argv",
    "submit_argv",
]

CONTAINER_NAME = "evaluation"
MANAGED_BY = "hyperdeme"
TTL_AFTER_FINISHED = 600
_LABEL_MAX = 63
_NOT_LABEL = re.compile(r"[^a-z0-9-]+")
_NOT_LABEL_VALUE = re.compile(r"[^A-Za-z0-9_.-]+")
_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")
#: ``<domain>/<name>``: a DNS subdomain, then a qualified name
_EXTENDED_RESOURCE = re.compile(
    r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"
)
#: the name of the checkpoint volume in the pod spec
CHECKPOINT_VOLUME = "hyperdeme-checkpoints"


def job_name(job: Job) -> str:
    """An RFC 1123 label for this attempt: ``<name>-<trial id>-<attempt>``.

    Lowercase alphanumerics and ``-``, starting and ending with one, at most 63
    characters; a too long name keeps its start and gets a hash of the whole.
    """
    base = job.name or "hyperdeme"
    if not base.endswith(f"-{job.trial_id}"):
        base = f"{base}-{job.trial_id}"
    raw = f"{base}-{job.attempt}"
    name = _NOT_LABEL.sub("-", raw.lower()).strip("-")
    if not name or not name[0].isalpha():
        name = f"hd-{name}".rstrip("-")
    if len(name) > _LABEL_MAX:
        digest = hashlib.sha256(raw.encode()).hexdigest()[:10]
        tail = f"-{job.trial_id}-{job.attempt}-{digest}"
        name = name[: _LABEL_MAX - len(tail)].rstrip("-") + tail
    return name


def label_value(text: str) -> str:
    """``text`` as a label value: ``[A-Za-z0-9_.-]``, alphanumeric ends, <= 63 characters."""
    value = _NOT_LABEL_VALUE.sub("-", text)[:_LABEL_MAX]
    return value.strip("-_.")


def job_manifest(job: Job, launch: LauncherOptions) -> dict[str, Any]:
    """The ``batch/v1`` Job that runs ``job`` in ``launch.workload_image``."""
    options = K8sOptions(**launch.extra)
    name = job_name(job)
    experiment = job.experiment
    labels = {
        "app.kubernetes.io/managed-by": MANAGED_BY,
        "hyperdeme/experiment": label_value(experiment) or "hyperdeme",
        "hyperdeme/trial": str(job.trial_id),
        "hyperdeme/attempt": str(job.attempt),
    }
    container: dict[str, Any] = {
        "name": CONTAINER_NAME,
        "image": launch.workload_image,
        "command": ["sh", "-c", job.command],
    }
    if job.env:
        container["env"] = [{"name": key, "value": value} for key, value in job.env.items()]
    if job.gpus_per_eval and not job.device_pool:  # asked of the cluster's device plugin
        container["resources"] = {"limits": {options.gpu_resource: job.gpus_per_eval}}
    spec: dict[str, Any] = {
        "backoffLimit": 0,
        "ttlSecondsAfterFinished": TTL_AFTER_FINISHED,
        "template": {
            "metadata": {"labels": dict(labels)},
            "spec": {"restartPolicy": "Never", "containers": [container]},
        },
    }
    if launch.time_limit is not None:
        spec["activeDeadlineSeconds"] = max(1, math.ceil(launch.time_limit))
    if job.nodes > 1:
        spec.update(parallelism=job.nodes, completions=job.nodes, completionMode="Indexed")
    metadata: dict[str, Any] = {"name": name, "labels": labels}
    if options.namespace:
        metadata["namespace"] = options.namespace
    manifest: dict[str, Any] = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
        "spec": spec,
    }
    pod = manifest["spec"]["template"]["spec"]
    pod["containers"][0] = deep_merge(container, options.container_overrides)
    manifest["spec"]["template"]["spec"] = deep_merge(pod, options.pod_overrides)
    manifest = deep_merge(manifest, options.job_overrides)
    if options.checkpoint_volume is not None:
        _mount(manifest["spec"]["template"]["spec"], options.checkpoint_volume)
    return manifest


def _mount(pod: dict[str, Any], volume: Mapping[str, str]) -> None:
    """Add the checkpoint volume to ``pod`` and mount it in its first container."""
    if "hostPath" in volume:
        source: dict[str, Any] = {"hostPath": {"path": volume["hostPath"],
                                               "type": "DirectoryOrCreate"}}  # fmt: skip
    else:
        source = {"persistentVolumeClaim": {"claimName": volume["persistentVolumeClaim"]}}
    pod["volumes"] = [*pod.get("volumes", []), {"name": CHECKPOINT_VOLUME, **source}]
    container = pod["containers"][0]
    mount = {"name": CHECKPOINT_VOLUME, "mountPath": volume["mountPath"]}
    container["volumeMounts"] = [*container.get("volumeMounts", []), mount]


def checkpoint_problem(job: Job, launch: LauncherOptions) -> str | None:
    """Why the pods of ``job`` would not see its checkpoint directory, or None."""
    if job.checkpoint is None:
        return None
    volume = K8sOptions(**launch.extra).checkpoint_volume
    if volume is not None and PurePosixPath(job.checkpoint).is_relative_to(volume["mountPath"]):
        return None
    where = "" if volume is None else f" (checkpoint_volume is mounted at {volume['mountPath']})"
    return (
        f"the checkpoint directory {job.checkpoint} is on no volume of the pods{where}: "
        "pods do not share the driver's files, so declare the directory holding the "
        "checkpoints with launcher_options={'checkpoint_volume': {'hostPath': '<dir>'}} or "
        "{'persistentVolumeClaim': '<claim>', 'mountPath': '<dir>'}."
    )


def deep_merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``overrides``: nested dicts merge, other values replace."""
    merged = copy.deepcopy(dict(base))
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def check_options(launch: LauncherOptions) -> None:
    """Raise ConfigError for common options the Kubernetes launcher cannot use (its own
    keys are checked by :class:`K8sOptions`)."""
    if not launch.workload_image:
        raise ConfigError(
            "launcher 'k8s' runs each evaluation in a container and needs an image: pass "
            "workload_image='registry.example.com/train:1.0' to the Evaluator.",
            name="workload_image",
            value=launch.workload_image,
        )


def _matching(pattern: re.Pattern[str], what: str) -> Callable[[str, Any], str]:
    """A check that the value is a string ``pattern`` matches whole; else the error says
    it must be ``what``."""

    def check(name: str, value: Any) -> str:
        if not isinstance(value, str) or not pattern.fullmatch(value):
            error = ConfigError if isinstance(value, str) else ConfigTypeError
            raise error(f"{name} must be {what}, got {value!r}.", value=value)
        return value

    return check


_namespace = _matching(
    _NAMESPACE, "a Kubernetes namespace name (lowercase letters, digits and '-')"
)
#: ``<domain>/<name>``, as device plugins advertise them
_extended_resource = _matching(
    _EXTENDED_RESOURCE,
    "an extended resource name as a device plugin advertises it, <domain>/<name> "
    "('nvidia.com/gpu', 'amd.com/gpu')",
)


def _checkpoint_volume(name: str, value: Any) -> dict[str, str] | None:
    """``{"hostPath": dir[, "mountPath": dir]}`` or ``{"persistentVolumeClaim": claim,
    "mountPath": dir}``, with ``mountPath`` filled in."""
    if value is None:
        return None
    allowed = (
        "{'hostPath': '/dir'} (optionally with 'mountPath') or "
        "{'persistentVolumeClaim': 'claim', 'mountPath': '/dir'}"
    )
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigTypeError(f"{name} must be {allowed}, got {value!r}.", value=value)
    volume = dict(value)
    if "hostPath" in volume:
        volume.setdefault("mountPath", volume["hostPath"])
    keys = set(volume)
    paths = [volume.get("hostPath", "/"), volume.get("mountPath", "")]
    if keys not in ({"hostPath", "mountPath"}, {"persistentVolumeClaim", "mountPath"}) or not all(
        path.startswith("/") for path in paths
    ):
        raise ConfigError(f"{name} must be {allowed} with absolute paths, got {value!r}.",
                          value=value)  # fmt: skip
    claim = volume.get("persistentVolumeClaim")
    if claim is not None and not _SUBDOMAIN.fullmatch(claim):
        raise ConfigError(
            f"{name} names the claim {claim!r}, which is no Kubernetes object name (lowercase "
            "letters, digits, '-' and '.').",
            value=value,
        )
    return volume


def _overrides(name: str, value: Any) -> dict[str, Any]:
    value = value or {}
    if not isinstance(value, Mapping):
        raise ConfigTypeError(
            f"{name} must be a dict merged into the manifest, got {value!r}.", value=value
        )
    return dict(value)


@dataclass(frozen=True, kw_only=True)
class K8sOptions(Config):
    """The keys of ``launcher_options`` the Kubernetes launcher reads."""

    #: the namespace of the Jobs (None: kubectl's current one)
    namespace: str | None = option(None, optional(_namespace))
    #: seconds between ``kubectl get job`` polls
    poll_interval: float = option(DEFAULT_POLL_INTERVAL, poll_seconds)
    #: deep-merged into the whole Job (``metadata.annotations``, ``spec`` ...)
    job_overrides: Mapping[str, Any] = option({}, _overrides, factory=dict)
    #: deep-merged into the pod spec (``volumes``, ``nodeSelector``, ``tolerations`` ...)
    pod_overrides: Mapping[str, Any] = option({}, _overrides, factory=dict)
    #: deep-merged into the container (``resources``, ``volumeMounts`` ...)
    container_overrides: Mapping[str, Any] = option({}, _overrides, factory=dict)
    #: the volume holding the checkpoints (PBT), mounted in the pods at the driver's path
    checkpoint_volume: Mapping[str, str] | None = option(None, _checkpoint_volume)
    #: the extended resource a pod asks ``gpus_per_eval`` of (``amd.com/gpu`` ...)
    gpu_resource: str = option("nvidia.com/gpu", _extended_resource)


def _namespaced(namespace: str | None) -> list[str]:
    return ["kubectl", "-n", namespace] if namespace else ["kubectl"]


def submit_argv(path: str, namespace: str | None = None) -> list[str]:
    """Create the Job from its manifest file.

    ``create``, not ``apply``: a Job of the same name left by another run must
    fail loudly, not be silently adopted (and its old result read).
    """
    return [*_namespaced(namespace), "create", "-f", path]


def get_job_argv(name: str, namespace: str | None = None) -> list[str]:
    return [*_namespaced(namespace), "get", "job", name, "-o", "json"]


def get_pods_argv(name: str, namespace: str | None = None) -> list[str]:
    return [*_namespaced(namespace), "get", "pods", "-l", f"job-name={name}", "-o", "json"]


def logs_argv(
    name: str, pods: int, namespace: str | None = None, *, follow: bool = False
) -> list[str]:
    """All output of the Job's pods (one pod: ``job/<name>``; more: by label, untruncated).

    ``follow``: one pod's output as it is written, until its container ends.
    """
    if pods <= 1:
        return [*_namespaced(namespace), "logs", *(["--follow"] if follow else []), f"job/{name}"]
    return [
        *_namespaced(namespace), "logs", "-l", f"job-name={name}", "--tail=-1",
        f"--max-log-requests={pods}",
    ]  # fmt: skip


def delete_argv(name: str, namespace: str | None = None) -> list[str]:
    return [
        *_namespaced(namespace), "delete", "job", name, "--ignore-not-found", "--wait=false",
        "--cascade=background",
    ]  # fmt: skip
