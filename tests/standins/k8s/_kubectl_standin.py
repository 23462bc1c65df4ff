"""A stand-in ``kubectl`` with a spool directory as its API server.

No Kubernetes API server runs in the test environment. This script accepts
the ``kubectl`` calls hyperdeme makes, checks what it is given the way the
API server would for a ``batch/v1`` Job, and runs the Job's container
command locally in the background (the image is not pulled; an image whose
name contains ``does-not-exist`` stays in ``ImagePullBackOff``). State lives
in ``$KUBECTL_STANDIN_SPOOL``.

Supported: ``[-n NS] create|apply -f FILE [--validate=strict|warn|ignore]``
(JSON manifests), ``get job NAME -o json``, ``get pods -l job-name=NAME -o
json``, ``logs job/NAME`` and ``logs -l job-name=NAME [--tail=N]`` (stdout and
stderr merged, as in a container log), ``logs --follow job/NAME`` (the first
pod's log as it is written, until its container ends or the Job is deleted; a
pod not started yet is an error, as for kubectl), ``delete job NAME
[--ignore-not-found] [--wait=false] [--cascade=background]
[--grace-period=S]``. The Job gets ``Complete`` or ``Failed``
(``BackoffLimitExceeded``, ``DeadlineExceeded`` past ``activeDeadlineSeconds``)
conditions.

Faithful to Kubernetes, and strict by default:

* **validation**: ``--validate=strict`` (kubectl's default) refuses a field the
  batch/v1 Job schema does not have (:data:`JOB` lists the fields the stand-in
  knows, down to containers, env, volumes and mounts; maps such as labels,
  resources or affinity are not looked into) with kubectl's ``strict decoding
  error: unknown field "spec..."``; ``warn`` prints it, ``ignore`` accepts it.
  Required fields, formats, and mounts naming a declared volume are checked.
* **delete** returns at once (the Job object is gone); each pod then gets
  SIGTERM to its PID 1 only and, after the grace period (the pod's
  ``terminationGracePeriodSeconds``, else ``--grace-period``, else
  ``$KUBECTL_STANDIN_GRACE``, default 30 like Kubernetes), SIGKILL to every
  process left in it, from a background process, like the kubelet.
* **flaky API server**: ``$KUBECTL_STANDIN_FAIL_GETS=N`` makes the next N
  ``kubectl get`` calls (job or pods) fail with an ``InternalError``; the count
  left is in ``<spool>/KUBECTL_STANDIN_FAIL_GETS`` and each failure is logged in
  ``<spool>/KUBECTL_STANDIN_FAIL_GETS.log``.
* **pods do not share the host's files**: a pod starts in a fresh empty
  directory (``workingDir`` if given), with only PATH, HOME, LANG and its
  ``env``. Where the host allows a mount namespace (``unshare --mount``, as root
  or with user namespaces), the directories only the driver's host has
  (``$KUBECTL_STANDIN_HOST_ONLY``, ``os.pathsep``-separated, default the
  working directory of ``kubectl create`` unless it holds this stand-in, whose
  tree plays the image) are empty in the pod, and host paths
  appear only through the pod's volumes: ``hostPath`` (the node's directory,
  created if missing), ``persistentVolumeClaim`` (bound to ``<spool>/pvcs/<claim>``
  or to the directory ``$KUBECTL_STANDIN_PVCS=claim=/dir`` names), others as
  empty directories; ``subPath`` and ``readOnly`` are honoured.
* the "cluster" processes (the Job runner, the kubelet's terminator) run with
  the stand-in's settings only, not the client's environment.

Not faithful: the image is the host's file system (its Python, the tests'
scripts: only the host-only directories are hidden); where no mount namespace
can be made the pods see every host file (the fresh working directory stays);
no scheduling, node resources, restarts, or pod events.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _standin import (
    group_alive,
    injected_failure,
    kill_group,
    leave_client_cgroup,
    locked,
    server_environment,
)

LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
#: ``$KUBECTL_STANDIN_FAIL_GETS=N``: the next N ``kubectl get`` fail like a flaky API server
FAIL_GETS = "KUBECTL_STANDIN_FAIL_GETS"
TRANSIENT = ("Error from server (InternalError): an error on the server (\"\") has prevented "
             "the request from succeeding (get jobs.batch)")  # fmt: skip


def fail(message: str, code: int = 1) -> None:
    print(message, file=sys.stderr)
    sys.exit(code)


def spool() -> Path:
    path = os.environ.get("KUBECTL_STANDIN_SPOOL")
    if not path:
        fail("The connection to the server localhost:8080 was refused - did you specify the "
             "right host or port?")  # fmt: skip
    directory = Path(str(path))
    (directory / "jobs").mkdir(parents=True, exist_ok=True)
    (directory / "logs").mkdir(parents=True, exist_ok=True)
    return directory


def job_file(directory: Path, namespace: str, name: str) -> Path:
    return directory / "jobs" / f"{namespace}__{name}.json"


def load(directory: Path, namespace: str, name: str) -> dict[str, Any] | None:
    path = job_file(directory, namespace, name)
    return json.loads(path.read_text()) if path.exists() else None


def save(directory: Path, job: dict[str, Any]) -> None:
    path = job_file(directory, job["metadata"]["namespace"], job["metadata"]["name"])
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(job))
    tmp.replace(path)


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- validation, as the API server does it --------------------------------------------


def validate(manifest: Any) -> list[str]:
    """Errors of a batch/v1 Job manifest (required fields and their formats)."""
    errors: list[str] = []
    if not isinstance(manifest, dict):
        return ["the object is not a JSON object"]
    if manifest.get("apiVersion") != "batch/v1":
        errors.append(f"apiVersion: Unsupported value: {manifest.get('apiVersion')!r}")
    if manifest.get("kind") != "Job":
        errors.append(f"kind: Unsupported value: {manifest.get('kind')!r}")
    metadata = manifest.get("metadata") or {}
    name = metadata.get("name", "")
    if not isinstance(name, str) or len(name) > 63 or not LABEL.fullmatch(name):
        errors.append(f"metadata.name: Invalid value: {name!r}: a lowercase RFC 1123 label "
                      "must consist of lower case alphanumeric characters or '-', and must "
                      "start and end with an alphanumeric character (at most 63)")  # fmt: skip
    for key, value in (metadata.get("labels") or {}).items():
        if (
            not isinstance(value, str)
            or len(value) > 63
            or not re.fullmatch(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?", value)
        ):
            errors.append(f"metadata.labels: Invalid value: {value!r} for {key!r}")
    spec = manifest.get("spec") or {}
    for field in ("backoffLimit", "parallelism", "completions", "activeDeadlineSeconds",
                  "ttlSecondsAfterFinished"):  # fmt: skip
        if field in spec and (not isinstance(spec[field], int) or spec[field] < 0):
            errors.append(f"spec.{field}: Invalid value: {spec[field]!r}: must be >= 0")
    if "activeDeadlineSeconds" in spec and spec["activeDeadlineSeconds"] == 0:
        errors.append("spec.activeDeadlineSeconds: Invalid value: 0: must be greater than 0")
    if spec.get("completionMode") not in (None, "NonIndexed", "Indexed"):
        errors.append(f"spec.completionMode: Unsupported value: {spec['completionMode']!r}")
    pod = (spec.get("template") or {}).get("spec") or {}
    if pod.get("restartPolicy") not in ("Never", "OnFailure"):
        errors.append(f"spec.template.spec.restartPolicy: Required value: valid values: "
                      f"\"OnFailure\", \"Never\" (got {pod.get('restartPolicy')!r})")  # fmt: skip
    containers = pod.get("containers")
    if not isinstance(containers, list) or not containers:
        errors.append("spec.template.spec.containers: Required value")
        containers = []
    for i, container in enumerate(containers):
        where = f"spec.template.spec.containers[{i}]"
        if not LABEL.fullmatch(str(container.get("name", ""))):
            errors.append(f"{where}.name: Required value")
        if not container.get("image"):
            errors.append(f"{where}.image: Required value")
        command = container.get("command", [])
        if not isinstance(command, list) or not all(isinstance(w, str) for w in command):
            errors.append(f"{where}.command: Invalid value: must be a list of strings")
        for var in container.get("env", []):
            if not isinstance(var.get("name"), str) or not isinstance(var.get("value", ""), str):
                errors.append(f"{where}.env: Invalid value: {var!r}")
    return errors + volume_errors(pod)


# -- strict decoding: the batch/v1 Job fields the stand-in knows -----------------------

ANY: dict[str, Any] | None = None  # a field whose content is not checked (maps, deep types)
META = dict.fromkeys([
    "name", "generateName", "namespace", "labels", "annotations", "uid", "resourceVersion",
    "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
    "ownerReferences", "finalizers", "managedFields", "selfLink",
])  # fmt: skip
ENV_VAR = dict.fromkeys(["name", "value", "valueFrom"])
VOLUME_MOUNT = dict.fromkeys(["name", "mountPath", "readOnly", "recursiveReadOnly", "subPath",
                              "subPathExpr", "mountPropagation"])  # fmt: skip
CONTAINER: dict[str, Any] = {
    **dict.fromkeys([
        "name", "image", "command", "args", "workingDir", "ports", "envFrom", "resizePolicy",
        "restartPolicy", "volumeDevices", "livenessProbe", "readinessProbe", "startupProbe",
        "lifecycle", "terminationMessagePath", "terminationMessagePolicy", "imagePullPolicy",
        "securityContext", "stdin", "stdinOnce", "tty",
    ]),
    "env": [ENV_VAR],
    "resources": dict.fromkeys(["limits", "requests", "claims"]),
    "volumeMounts": [VOLUME_MOUNT],
}  # fmt: skip
VOLUME: dict[str, Any] = {
    **dict.fromkeys([
        "name", "emptyDir", "configMap", "secret", "nfs", "projected", "csi", "ephemeral",
        "downwardAPI", "iscsi", "cephfs", "fc", "image", "local",
    ]),
    "hostPath": dict.fromkeys(["path", "type"]),
    "persistentVolumeClaim": dict.fromkeys(["claimName", "readOnly"]),
}  # fmt: skip
POD_SPEC: dict[str, Any] = {
    **dict.fromkeys([
        "restartPolicy", "terminationGracePeriodSeconds", "activeDeadlineSeconds", "dnsPolicy",
        "nodeSelector", "serviceAccountName", "serviceAccount", "automountServiceAccountToken",
        "nodeName", "hostNetwork", "hostPID", "hostIPC", "shareProcessNamespace",
        "securityContext", "imagePullSecrets", "hostname", "subdomain", "affinity",
        "schedulerName", "tolerations", "hostAliases", "priorityClassName", "priority",
        "dnsConfig", "readinessGates", "runtimeClassName", "enableServiceLinks",
        "preemptionPolicy", "overhead", "topologySpreadConstraints", "setHostnameAsFQDN", "os",
        "hostUsers", "schedulingGates", "resourceClaims", "resources", "ephemeralContainers",
    ]),
    "volumes": [VOLUME],
    "containers": [CONTAINER],
    "initContainers": [CONTAINER],
}  # fmt: skip
JOB_SPEC: dict[str, Any] = {
    **dict.fromkeys([
        "parallelism", "completions", "activeDeadlineSeconds", "podFailurePolicy",
        "successPolicy", "backoffLimit", "backoffLimitPerIndex", "maxFailedIndexes", "selector",
        "manualSelector", "ttlSecondsAfterFinished", "completionMode", "suspend",
        "podReplacementPolicy", "managedBy",
    ]),
    "template": {"metadata": META, "spec": POD_SPEC},
}  # fmt: skip
JOB: dict[str, Any] = {"apiVersion": ANY, "kind": ANY, "metadata": META, "spec": JOB_SPEC,
                       "status": ANY}  # fmt: skip


def unknown_fields(value: Any, schema: Any, where: str = "") -> list[str]:
    """The fields of ``value`` that ``schema`` does not know, as kubectl names them."""
    if schema is None:
        return []
    if isinstance(schema, list):
        items = value if isinstance(value, list) else []
        return [found for i, item in enumerate(items)
                for found in unknown_fields(item, schema[0], f"{where}[{i}]")]  # fmt: skip
    if not isinstance(value, dict):
        return []
    found: list[str] = []
    for key, item in value.items():
        path = f"{where}.{key}" if where else key
        if key not in schema:
            found.append(path)
        else:
            found += unknown_fields(item, schema[key], path)
    return found


def volume_errors(pod: dict[str, Any]) -> list[str]:
    """What the API server checks of volumes: mounts name a volume, paths are given."""
    errors: list[str] = []
    volumes = {}
    for i, volume in enumerate(pod.get("volumes") or []):
        volumes[volume.get("name")] = volume
        host = volume.get("hostPath")
        if host is not None and not str(host.get("path", "")).startswith("/"):
            errors.append(f"spec.template.spec.volumes[{i}].hostPath.path: Required value: "
                          "an absolute path")  # fmt: skip
        claim = volume.get("persistentVolumeClaim")
        if claim is not None and not claim.get("claimName"):
            errors.append(f"spec.template.spec.volumes[{i}].persistentVolumeClaim.claimName: "
                          "Required value")  # fmt: skip
    for c, container in enumerate(pod.get("containers") or []):
        for m, mount in enumerate(container.get("volumeMounts") or []):
            where = f"spec.template.spec.containers[{c}].volumeMounts[{m}]"
            if mount.get("name") not in volumes:
                errors.append(f"{where}.name: Not found: {mount.get('name')!r}")
            if not str(mount.get("mountPath", "")).startswith("/"):
                errors.append(f"{where}.mountPath: Required value: an absolute path")
    return errors


# -- commands ---------------------------------------------------------------------


def create(directory: Path, namespace: str | None, path: str, verb: str, mode: str) -> int:
    try:
        manifest = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        fail(f"error: error parsing {path}: {error} (the stand-in reads JSON manifests)")
    unknown = unknown_fields(manifest, JOB) if isinstance(manifest, dict) else []
    if unknown and mode in ("strict", "true"):
        fail(f'Error from server (BadRequest): error when creating "{path}": Job in version '
             '"v1" cannot be handled as a Job: strict decoding error: '
             + ", ".join(f'unknown field "{field}"' for field in unknown))  # fmt: skip
    if unknown and mode == "warn":
        for field in unknown:
            print(f'Warning: unknown field "{field}"', file=sys.stderr)
    errors = validate(manifest)
    name = (manifest.get("metadata") or {}).get("name", "")
    if errors:
        fail(f'The Job "{name}" is invalid: \n* ' + "\n* ".join(errors), 1)
    declared = manifest["metadata"].get("namespace")
    if namespace and declared and declared != namespace:
        fail(f'error: the namespace from the provided object "{declared}" does not match the '
             f'namespace "{namespace}". You must pass \'--namespace={declared}\' to perform '
             "this operation.")  # fmt: skip
    namespace = declared or namespace or "default"
    with locked(directory):
        if load(directory, namespace, name) is not None:
            if verb == "create":
                fail(f'Error from server (AlreadyExists): error when creating "{path}": '
                     f'jobs.batch "{name}" already exists')  # fmt: skip
            print(f"job.batch/{name} unchanged")
            return 0
        manifest["metadata"].update(namespace=namespace, uid=secrets.token_hex(8),
                                    creationTimestamp=now())  # fmt: skip
        manifest["status"] = {"active": 0, "startTime": now()}
        manifest["pods"] = []
        manifest["hostOnly"] = host_only()
        save(directory, manifest)
    server = subprocess.Popen(
        [sys.executable, __file__, "run-job", str(directory), namespace, name],
        start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, env=server_environment("KUBECTL_STANDIN_"),
    )  # fmt: skip
    leave_client_cgroup(server.pid)
    print(f"job.batch/{name} created")
    return 0


def public(job: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in job.items() if key not in ("pods", "hostOnly")}


def pod_objects(job: dict[str, Any]) -> list[dict[str, Any]]:
    items = []
    for pod in job["pods"]:
        state: dict[str, Any]
        if pod["phase"] == "Pending":
            state = {"waiting": {"reason": pod.get("reason", "ContainerCreating"),
                                 "message": pod.get("message", "")}}  # fmt: skip
        elif pod["phase"] == "Running":
            state = {"running": {"startedAt": pod["started"]}}
        else:
            state = {
                "terminated": {
                    "exitCode": pod["exitCode"],
                    "reason": "Completed" if pod["exitCode"] == 0 else "Error",
                }
            }
        items.append({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": pod["name"], "namespace": job["metadata"]["namespace"],
                         "labels": {"job-name": job["metadata"]["name"],
                                    "batch.kubernetes.io/job-name": job["metadata"]["name"]}},
            "status": {"phase": pod["phase"], "containerStatuses": [
                {"name": job["spec"]["template"]["spec"]["containers"][0]["name"],
                 "state": state, "ready": pod["phase"] == "Running"}]},
        })  # fmt: skip
    return items


def get(directory: Path, namespace: str, words: list[str], output: str | None) -> int:
    injected_failure(directory, FAIL_GETS, TRANSIENT, 1)
    if output != "json":
        fail("error: the stand-in supports only -o json")
    kind = words[0] if words else ""
    if kind in ("job", "jobs", "job.batch") and len(words) == 2:
        job = load(directory, namespace, words[1])
        if job is None:
            fail(f'Error from server (NotFound): jobs.batch "{words[1]}" not found')
        assert job is not None
        print(json.dumps(public(job), indent=2))
        return 0
    if kind in ("pod", "pods") and len(words) == 1:
        fail("error: the stand-in lists pods only with -l job-name=NAME")
    fail(f"error: the stand-in cannot get {' '.join(words)!r}")
    return 1


def get_pods(directory: Path, namespace: str, selector: str, output: str | None) -> int:
    injected_failure(directory, FAIL_GETS, TRANSIENT, 1)
    if output != "json":
        fail("error: the stand-in supports only -o json")
    key, _, name = selector.partition("=")
    if key not in ("job-name", "batch.kubernetes.io/job-name"):
        fail(f"error: the stand-in selects pods only by job-name, got {selector!r}")
    job = load(directory, namespace, name)
    items = pod_objects(job) if job else []
    print(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, indent=2))
    return 0


def follow_log(directory: Path, namespace: str, name: str) -> int:
    offset = 0
    while True:
        job = load(directory, namespace, name)
        pods = job["pods"][:1] if job else []
        if job is not None and (not pods or pods[0]["phase"] == "Pending"):
            fail(f'Error from server (BadRequest): container "evaluation" in pod "{name}-0" is '
                 "waiting to start: ContainerCreating")  # fmt: skip
        ended = job is None or pods[0]["phase"] != "Running"  # before the read: nothing lost
        if pods:
            with open(directory / "logs" / f"{pods[0]['name']}.log", "rb") as log:
                log.seek(offset)
                data = log.read()
            offset += len(data)
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        if ended:
            return 0
        time.sleep(0.02)


def logs(directory: Path, namespace: str, target: str | None, selector: str | None,
         tail: int | None, follow: bool = False) -> int:  # fmt: skip
    if target is not None and follow:
        return follow_log(directory, namespace, target.removeprefix("job/").removeprefix("jobs/"))
    if target is not None:
        name = target.removeprefix("job/").removeprefix("jobs/")
        job = load(directory, namespace, name)
        if job is None:
            fail(f'Error from server (NotFound): jobs.batch "{name}" not found')
        assert job is not None
        pods = job["pods"][:1]
        tail = -1 if tail is None else tail
    else:
        assert selector is not None
        job = load(directory, namespace, selector.partition("=")[2])
        pods = job["pods"] if job else []
        tail = 10 if tail is None else tail  # kubectl's default with a selector
    for pod in pods:
        if pod["phase"] == "Pending":
            fail(f'Error from server (BadRequest): container "evaluation" in pod "{pod["name"]}"'
                 " is waiting to start: trying and failing to pull image")  # fmt: skip
        data = (directory / "logs" / f"{pod['name']}.log").read_bytes()
        if tail >= 0:
            data = b"".join(data.splitlines(keepends=True)[-tail:]) if tail else b""
        sys.stdout.buffer.write(data)
    sys.stdout.flush()
    return 0


def delete(directory: Path, namespace: str, name: str, ignore_not_found: bool,
           grace: float | None) -> int:  # fmt: skip
    """Remove the Job at once; its pods terminate in the background, with their grace."""
    with locked(directory):
        job = load(directory, namespace, name)
        if job is None:
            if ignore_not_found:
                return 0
            fail(f'Error from server (NotFound): jobs.batch "{name}" not found')
        assert job is not None
        job_file(directory, namespace, name).unlink()
    if grace is None or grace < 0:
        pod_spec = job["spec"]["template"]["spec"]
        grace = pod_spec.get("terminationGracePeriodSeconds", default_grace())
    for pod in job["pods"]:
        if pod.get("pid"):
            server = subprocess.Popen(
                [sys.executable, __file__, "terminate", str(pod["pid"]), str(grace)],
                start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, env=server_environment("KUBECTL_STANDIN_"),
            )  # fmt: skip
            leave_client_cgroup(server.pid)
    print(f'job.batch "{name}" deleted')
    return 0


def default_grace() -> float:
    """The pods' termination grace when neither the manifest nor --grace-period sets it."""
    return float(os.environ.get("KUBECTL_STANDIN_GRACE", "30"))


def terminate(pid: int, grace: float) -> int:
    """The kubelet stopping a container: SIGTERM to its PID 1 only, then after ``grace``
    seconds SIGKILL to every process left in it (its process group)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and group_alive(pid):
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    return 0


# -- the "cluster": runs a Job's pods -------------------------------------------------


def update(directory: Path, namespace: str, name: str, change: Any) -> dict[str, Any] | None:
    with locked(directory):
        job = load(directory, namespace, name)
        if job is not None:
            change(job)
            save(directory, job)
        return job


def run_job(directory: Path, namespace: str, name: str) -> int:
    job = load(directory, namespace, name)
    if job is None:
        return 0
    spec = job["spec"]
    count = spec.get("parallelism", 1)
    container = spec["template"]["spec"]["containers"][0]
    pods = [{"name": f"{name}-{i}-{secrets.token_hex(3)[:5]}", "phase": "Pending", "index": i}
            for i in range(count)]  # fmt: skip
    if "does-not-exist" in container["image"]:
        for pod in pods:
            pod.update(reason="ImagePullBackOff",
                       message=f'Back-off pulling image "{container["image"]}"')  # fmt: skip
        update(directory, namespace, name, lambda j: j.update(pods=pods))
        return 0
    processes = []
    for pod in pods:
        env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
        env.update({var["name"]: var.get("value", "") for var in container.get("env", [])})
        env["HOSTNAME"] = pod["name"]
        if spec.get("completionMode") == "Indexed":
            env["JOB_COMPLETION_INDEX"] = str(pod["index"])
        workdir = directory / "pods" / pod["name"] / "workdir"  # the image's fresh directory
        workdir.mkdir(parents=True)
        cwd = container.get("workingDir") or str(workdir)
        log = open(directory / "logs" / f"{pod['name']}.log", "wb")  # noqa: SIM115
        command = container.get("command", []) + container.get("args", [])
        plan = {
            "hide": job["hostOnly"], "mounts": mounts(directory, job, container), "cwd": cwd,
            "argv": command,
        }  # fmt: skip
        plan_path = directory / "pods" / pod["name"] / "plan.json"
        plan_path.write_text(json.dumps(plan))
        isolation = isolating_argv()
        pod["isolated"] = bool(isolation)
        argv = [*isolation, sys.executable, __file__, "pod-init", str(plan_path)]
        process = subprocess.Popen(argv, cwd=str(workdir), env=env, stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=log, start_new_session=True)  # fmt: skip
        processes.append(process)
        pod.update(phase="Running", pid=process.pid, started=now())

    def started(j: dict[str, Any]) -> None:
        j["pods"] = pods
        j["status"]["active"] = len(pods)

    if update(directory, namespace, name, started) is None:  # deleted meanwhile
        for process in processes:
            kill_group(process.pid)
        return 0
    deadline = spec.get("activeDeadlineSeconds")
    end = time.monotonic() + deadline if deadline else None
    outcome: tuple[str, str] | None = None
    while outcome is None:
        codes = [process.poll() for process in processes]
        if any(code not in (None, 0) for code in codes):
            outcome = ("Failed", "BackoffLimitExceeded")
        elif all(code == 0 for code in codes):
            outcome = ("Complete", "")
        elif end is not None and time.monotonic() > end:
            outcome = ("Failed", "DeadlineExceeded")
        else:
            time.sleep(0.01)
    if outcome[0] == "Failed":
        for process in processes:
            if process.poll() is None:
                kill_group(process.pid)
                process.wait()
    for pod, process in zip(pods, processes, strict=True):
        code = process.wait()
        pod.update(phase="Succeeded" if code == 0 else "Failed", pid=None,
                   exitCode=code if code >= 0 else 128 - code)  # fmt: skip

    def finished(j: dict[str, Any]) -> None:
        j["pods"] = pods
        status = j["status"]
        status.update(active=0, completionTime=now(),
                      succeeded=sum(p["exitCode"] == 0 for p in pods),
                      failed=sum(p["exitCode"] != 0 for p in pods))  # fmt: skip
        condition = {"type": outcome[0], "status": "True", "lastTransitionTime": now()}
        if outcome[1]:
            condition.update(reason=outcome[1], message=f"Job has reached {outcome[1]}")
        status["conditions"] = [condition]

    update(directory, namespace, name, finished)
    return 0


# -- the pods' file system: fresh, with hostPath and claimed volumes only --------------


def host_only() -> list[str]:
    """Directories the cluster's nodes do not have: ``$KUBECTL_STANDIN_HOST_ONLY``
    (``os.pathsep``-separated), else the working directory ``kubectl create`` runs in,
    unless that holds the stand-in itself (the test tree is the "image")."""
    paths = os.environ.get("KUBECTL_STANDIN_HOST_ONLY")
    if paths is None:
        here = Path(__file__).resolve()
        return [] if here.is_relative_to(Path.cwd().resolve()) else [os.getcwd()]
    return [path for path in paths.split(os.pathsep) if path]


def mounts(directory: Path, job: dict[str, Any], container: dict[str, Any]) -> list[Any]:
    """(host directory, mount path, read-only) of each volume the container mounts:
    a hostPath is the node's (here the host's) directory; a persistentVolumeClaim is
    bound to ``<spool>/pvcs/<claim>``, or to the directory ``$KUBECTL_STANDIN_PVCS``
    (``claim=/dir`` items, ``os.pathsep``-separated) gives it, like a shared file system
    the driver's host also mounts. Other volume kinds are an empty directory."""
    claims = dict(item.partition("=")[::2] for item in
                  os.environ.get("KUBECTL_STANDIN_PVCS", "").split(os.pathsep) if item)  # fmt: skip
    pod_spec = job["spec"]["template"]["spec"]
    volumes = {volume["name"]: volume for volume in pod_spec.get("volumes", [])}
    found = []
    for mount in container.get("volumeMounts", []):
        volume = volumes[mount["name"]]
        if "hostPath" in volume:
            source = volume["hostPath"]["path"]
        elif "persistentVolumeClaim" in volume:
            claim = volume["persistentVolumeClaim"]["claimName"]
            source = claims.get(claim) or str(directory / "pvcs" / claim)
        else:
            source = str(directory / "volumes" / secrets.token_hex(4))
        Path(source).mkdir(parents=True, exist_ok=True)  # hostPath type DirectoryOrCreate
        if mount.get("subPath"):
            source = str(Path(source) / mount["subPath"])
            Path(source).mkdir(parents=True, exist_ok=True)
        found.append([source, mount["mountPath"], bool(mount.get("readOnly"))])
    return found


def isolating_argv() -> list[str]:
    """``unshare`` arguments giving a pod its own mount namespace, or [] where this host
    allows none (then the pod sees the host's files: the one fidelity lost)."""
    unshare = ["unshare", "--mount", "--propagation", "private"]
    for argv in (unshare, [*unshare, "--map-root-user"]):
        try:
            probe = subprocess.run([*argv, "true"], capture_output=True, check=False)
        except OSError:
            return []
        if probe.returncode == 0:
            return argv
    return []


def pod_init(plan_path: str) -> int:
    """Inside the pod's mount namespace (if any): hide the host-only directories under
    empty tmpfs, bind the volumes at their mount paths, cd, exec the command as PID 1
    of the "container" (this process's pid)."""
    plan = json.loads(Path(plan_path).read_text())
    if isolated():
        staged = []
        for source, _target, _read_only in plan["mounts"]:  # before hiding: sources may be hidden
            stage = tempfile.mkdtemp(prefix="kubectl-standin-")
            subprocess.run(["mount", "--bind", source, stage], check=True)
            staged.append(stage)
        for hidden in plan["hide"]:
            if os.path.isdir(hidden):
                subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", hidden],
                               check=True)  # fmt: skip
        for stage, (_source, target, read_only) in zip(staged, plan["mounts"], strict=True):
            os.makedirs(target, exist_ok=True)
            subprocess.run(["mount", "--bind", stage, target], check=True)
            if read_only:
                subprocess.run(["mount", "-o", "remount,bind,ro", target], check=True)
            subprocess.run(["umount", "-l", stage], check=True)
            os.rmdir(stage)
    os.makedirs(plan["cwd"], exist_ok=True)  # like the kubelet for workingDir
    os.chdir(plan["cwd"])
    argv = plan["argv"]
    try:
        os.execvp(argv[0], argv)
    except OSError as error:
        print(f"exec {argv[0]!r}: {error}", file=sys.stderr)
        return 127
    return 0


def isolated() -> bool:
    """Whether this process has a mount namespace of its own (unshare worked)."""
    try:
        return os.readlink("/proc/self/ns/mnt") != os.readlink(f"/proc/{os.getppid()}/ns/mnt")
    except OSError:
        return False


def main() -> int:
    argv = sys.argv[1:]
    if argv[:1] == ["run-job"]:
        return run_job(Path(argv[1]), argv[2], argv[3])
    if argv[:1] == ["pod-init"]:
        return pod_init(argv[1])
    if argv[:1] == ["terminate"]:
        return terminate(int(argv[1]), float(argv[2]))
    namespace: str | None = None
    output = selector = None
    files: list[str] = []
    ignore_not_found = False
    tail: int | None = None
    grace: float | None = None
    mode = "strict"  # kubectl's default --validate since 1.27 (server-side field validation)
    follow = False
    words: list[str] = []
    i = 0
    while i < len(argv):
        word = argv[i]
        if word in ("-n", "--namespace", "-o", "--output", "-l", "--selector", "-f",
                    "--filename"):  # fmt: skip
            i += 1
            if i >= len(argv):
                fail(f"error: flag needs an argument: {word}")
            value = argv[i]
            if word in ("-n", "--namespace"):
                namespace = value
            elif word in ("-o", "--output"):
                output = value
            elif word in ("-l", "--selector"):
                selector = value
            else:
                files.append(value)
        elif word.startswith("--namespace="):
            namespace = word.partition("=")[2]
        elif word.startswith("--tail="):
            tail = int(word.partition("=")[2])
        elif word == "--follow":
            follow = True
        elif word == "--ignore-not-found" or word == "--ignore-not-found=true":
            ignore_not_found = True
        elif word.startswith("--grace-period="):
            grace = float(word.partition("=")[2])
        elif word.startswith("--validate="):
            mode = word.partition("=")[2]
            if mode not in ("strict", "true", "warn", "ignore", "false"):
                fail(f'error: invalid - validate option "{mode}"; must be one of: strict (or '
                     "true), warn, ignore (or false)")  # fmt: skip
        elif word.startswith(("--wait=", "--cascade=", "--max-log-requests=", "--prefix")):
            pass
        elif word.startswith("-"):
            fail(f"error: unknown flag: {word}")
        else:
            words.append(word)
        i += 1
    if not words:
        fail("error: the stand-in needs a verb: create, apply, get, logs, delete")
    verb, rest = words[0], words[1:]
    directory = spool()
    if verb in ("create", "apply"):
        if len(files) != 1 or files[0] == "-":
            fail("error: the stand-in needs exactly one -f FILE")
        return create(directory, namespace, files[0], verb, mode)
    ns = namespace or "default"
    if verb == "get":
        if selector is not None and rest in (["pods"], ["pod"]):
            return get_pods(directory, ns, selector, output)
        return get(directory, ns, rest, output)
    if verb == "logs":
        return logs(directory, ns, rest[0] if rest else None, selector, tail, follow)
    if verb == "delete" and len(rest) == 2 and rest[0] in ("job", "jobs", "job.batch"):
        return delete(directory, ns, rest[1], ignore_not_found, grace)
    fail(f"error: the stand-in does not support: kubectl {' '.join(argv)}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
