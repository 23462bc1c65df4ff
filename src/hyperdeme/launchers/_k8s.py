"""Kubernetes: each evaluation attempt is a ``batch/v1`` Job, driven with ``kubectl``.

The manifest (built by :func:`~._k8s_manifest.job_manifest`) is written to
``<cwd>/.hyperdeme/k8s/<job name>.json``, where it can be read and re-applied
by hand, and created with ``kubectl create -f``. The Job is polled every
``poll_interval`` seconds (``launcher_options``, default 2) with
``kubectl get job -o json`` until its ``Complete`` or ``Failed`` condition
appears (``kubectl wait`` is not used: waiting for ``Complete`` never returns
for a failed Job). Meanwhile the pod's log is followed (``kubectl logs
--follow``, started again after each poll until the pod runs or when the
stream breaks) into the trial's stdout log, so FoMs printed while it trains
reach the engine (early stopping); when the Job ends ``kubectl logs`` is read
once more and what was not yet copied is added. A Job of several pods is
read only at its end (``kubectl logs -l job-name=<name>``, every pod).
Kubernetes merges a container's stderr into its log, so the stderr log stays
empty. Return code: ``Complete`` is 0; ``Failed`` because of
``activeDeadlineSeconds`` (``DeadlineExceeded``) is -9, like an evaluation
killed for its timeout; other failures take the container's exit code
(``kubectl get pods -l job-name=<name>``), else 1. A pod that cannot start
(image not found, bad config) fails the attempt with a :class:`LauncherError`
instead of waiting forever.

Stopping it, and cleaning up after reading: ``kubectl delete job <name>
--ignore-not-found --wait=false --cascade=background``, shielded and bounded. It
returns at once; the kubelet then SIGTERMs each pod's PID 1 (the ``sh -c`` of the
command, which a single command replaces), and SIGKILLs what is left after the
pod's ``terminationGracePeriodSeconds`` (default 30; set it with
``pod_overrides``). ``ttlSecondsAfterFinished`` removes what a crashed hyperdeme
could not.

Pods see the image's files, not the driver's: a checkpoint (PBT) must be on the
volume ``launcher_options["checkpoint_volume"]`` declares (see
:mod:`._k8s_manifest`); an attempt whose checkpoint is not fails with a
:class:`LauncherError` before its Job is created.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any, NoReturn

import anyio

from .._core._errors import LauncherError, TransientLauncherError
from .._core._logging import get_logger
from .._core._nofollow import make_directory, write_new
from ._base import Exit, Job, Launcher, launcher_files
from ._capture import capture, checked, command_error
from ._follow import SkipSeen, while_following
from ._k8s_manifest import (
    K8sOptions,
    check_options,
    checkpoint_problem,
    delete_argv,
    get_job_argv,
    get_pods_argv,
    job_manifest,
    job_name,
    logs_argv,
    submit_argv,
)
from ._options import LauncherOptions
from ._poll import QueryFailed, query
from ._process import run_process
from ._registry import register
from ._tail import Tail, tail_of
from ._watchdog import guarded

__all__ = ["K8sLauncher", "job_outcome", "pod_exit_code", "pod_problem"]

log = get_logger("hyperdeme.launchers")

_PODS_EVERY = 5  # polls between checks that the pods could start
_SUBMIT_LIMIT = 60.0
_DELETE_LIMIT = 30.0
#: container waiting reasons that will not resolve by themselves
_STUCK = frozenset(
    {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError",
     "CreateContainerError", "ErrImageNeverPull"}
)  # fmt: skip


@register("k8s")
class K8sLauncher(Launcher):
    """Runs evaluations as Kubernetes Jobs; see the module docstring."""

    launcher_options = K8sOptions

    def __init__(self, options: LauncherOptions) -> None:
        self.check_options(options)
        settings: K8sOptions = self.read_extra(options)
        self.options = options
        self.namespace = settings.namespace or None
        self.poll_interval = settings.poll_interval

    @classmethod
    def check_options(cls, options: LauncherOptions) -> None:
        check_options(options)

    @property
    def total_nodes(self) -> int | None:
        return self.options.nodes or None

    async def run(self, job: Job) -> Exit:
        problem = checkpoint_problem(job, self.options)
        if problem is not None:
            raise LauncherError(f"Kubernetes Job for trial {job.trial_id}: {problem}")
        name = job_name(job)
        path = launcher_files(job, "k8s") / f"{name}.json"
        manifest = (json.dumps(job_manifest(job, self.options), indent=1) + "\n").encode()
        await anyio.to_thread.run_sync(_write_manifest, path, manifest)
        with guarded(delete_argv(name, self.namespace)):  # should the driver die meanwhile
            await self._create(name, str(path))
            log.info("k8s.created", job=name, trial=job.trial_id, attempt=job.attempt)
            output = SkipSeen(job.stdout)
            try:
                if job.nodes <= 1:
                    outcome, reason = await while_following(
                        lambda: self._follow_logs(name, output), lambda: self._wait(name)
                    )
                else:
                    outcome, reason = await self._wait(name)
                await self._copy_logs(name, job, output.restart())
                returncode = await self._returncode(name, outcome, reason)
                log.info(
                    "k8s.finished", job=name, outcome=outcome, reason=reason, returncode=returncode
                )
                return Exit(returncode)
            finally:
                with anyio.CancelScope(shield=True), anyio.move_on_after(_DELETE_LIMIT):
                    code, _, stderr = await capture(delete_argv(name, self.namespace))
                    log.info("k8s.deleted", job=name, returncode=code, stderr=stderr.strip()[-200:])

    async def _create(self, name: str, path: str) -> None:
        """``kubectl create``, shielded: once it is sent, the Job must be deleted."""
        argv = submit_argv(path, self.namespace)
        with anyio.CancelScope(shield=True):
            with anyio.move_on_after(_SUBMIT_LIMIT):
                await checked(argv, what=f"create Kubernetes Job {name}")
                return
            with anyio.move_on_after(_DELETE_LIMIT):
                await capture(delete_argv(name, self.namespace))
        raise TransientLauncherError(
            f"kubectl did not create Job {name} within {_SUBMIT_LIMIT:g} s.",
            command=" ".join(argv),
        )

    async def _wait(self, name: str) -> tuple[str, str]:
        """Poll the Job until it has a Complete or Failed condition."""
        for polls in itertools.count():
            outcome = await query(
                lambda: self._outcome(name), interval=self.poll_interval, job=name
            )
            if outcome is not None:
                return outcome
            if polls % _PODS_EVERY == 0:  # after the first poll, then every few
                await self._check_pods_start(name)
            await anyio.sleep(self.poll_interval)
        raise AssertionError("unreachable")

    async def _outcome(self, name: str) -> tuple[str, str] | None:
        """One status query: the Job's outcome once it has one."""
        argv = get_job_argv(name, self.namespace)
        returncode, stdout, stderr = await capture(argv)
        if returncode == 0:
            return job_outcome(_json(stdout))
        if "NotFound" in stderr or "not found" in stderr:
            raise LauncherError(
                f"Kubernetes Job {name} disappeared while running (deleted by someone else?).",
                command=" ".join(argv), returncode=returncode, stderr_tail=tail_of(stderr),
            )  # fmt: skip
        raise QueryFailed(command_error(argv, returncode, stderr, what=f"follow Job {name}"))

    async def _check_pods_start(self, name: str) -> None:
        code, stdout, _ = await capture(get_pods_argv(name, self.namespace))
        problem = pod_problem(_json(stdout)) if code == 0 else None
        if problem is not None:
            raise LauncherError(
                f"the pod of Kubernetes Job {name} cannot start: {problem}; check "
                f"workload_image={self.options.workload_image!r} and the overrides.",
                command=" ".join(get_pods_argv(name, self.namespace)),
            )

    async def _follow_logs(self, name: str, output: SkipSeen) -> NoReturn:
        """``kubectl logs --follow`` until cancelled: again after a poll interval when it
        ends (the pod has not started yet, the stream broke), skipping what was seen."""
        argv = logs_argv(name, 1, self.namespace, follow=True)
        while True:
            try:
                await run_process(argv, stdout=output.restart(), stderr=Tail())
            except OSError as error:  # no kubectl to follow with: the logs are read at the end
                log.warning("k8s.follow_failed", job=name, error=str(error))
                await anyio.sleep_forever()
            await anyio.sleep(self.poll_interval)

    async def _copy_logs(self, name: str, job: Job, output: SkipSeen) -> None:
        errors = Tail()
        argv = logs_argv(name, job.nodes, self.namespace)
        code = await run_process(argv, stdout=output, stderr=errors)
        if code != 0:
            log.warning("k8s.logs_failed", job=name, returncode=code, stderr=errors.text[-200:])

    async def _returncode(self, name: str, outcome: str, reason: str) -> int:
        if outcome == "Complete":
            return 0
        if reason == "DeadlineExceeded":
            return -9
        try:
            exit_code = await query(
                lambda: self._pod_exit_code(name), interval=self.poll_interval, job=name
            )
        except LauncherError as error:  # the Job failed; which code, the API would not say
            log.warning("k8s.exit_code_unknown", job=name, error=str(error))
            return 1
        return 1 if exit_code is None else exit_code

    async def _pod_exit_code(self, name: str) -> int | None:
        """One query of the Job's pods: their exit code (None when none has one)."""
        argv = get_pods_argv(name, self.namespace)
        returncode, stdout, stderr = await capture(argv)
        if returncode != 0:
            raise QueryFailed(
                command_error(argv, returncode, stderr, what=f"read Job {name}'s pods")
            )
        return pod_exit_code(_json(stdout))


def job_outcome(job: dict[str, Any]) -> tuple[str, str] | None:
    """``("Complete" | "Failed", reason)`` once the Job has finished, else None."""
    conditions = (job.get("status") or {}).get("conditions") or []
    for condition in conditions:
        kind = condition.get("type")
        if kind in ("Complete", "Failed") and condition.get("status") == "True":
            return str(kind), str(condition.get("reason") or "")
    return None


def pod_exit_code(pods: dict[str, Any]) -> int | None:
    """The first non-zero container exit code among the pods (else a zero one, else None)."""
    codes: list[int] = []
    for pod in pods.get("items") or []:
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            terminated = (status.get("state") or {}).get("terminated")
            if terminated and isinstance(terminated.get("exitCode"), int):
                codes.append(terminated["exitCode"])
    nonzero = [code for code in codes if code != 0]
    return nonzero[0] if nonzero else (codes[0] if codes else None)


def pod_problem(pods: dict[str, Any]) -> str | None:
    """Why a pod cannot start (``ImagePullBackOff: ...``), or None."""
    for pod in pods.get("items") or []:
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            waiting = (status.get("state") or {}).get("waiting") or {}
            if waiting.get("reason") in _STUCK:
                return f"{waiting['reason']}: {waiting.get('message', '')}".rstrip(": ")
    return None


def _json(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _write_manifest(path: Path, manifest: bytes) -> None:
    """Write the manifest as a new file, never through a link planted in the run directory."""
    path.parent.parent.mkdir(parents=True, exist_ok=True)  # cwd/.hyperdeme without a directory
    make_directory(path.parent)
    write_new(path, manifest)
