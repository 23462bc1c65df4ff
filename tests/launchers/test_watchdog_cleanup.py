"""A driver SIGKILLed while its PBS job or Kubernetes Job runs: its watchdog deletes the job.

Against the stand-ins (no PBS server or API server here). The watchdog's clean-up is
observed as a *call* of ``qdel``/``kubectl delete`` (a recording wrapper first on
PATH logs each call, then runs the stand-in), not through the job's output or its
processes: the watchdog also stops what carries the run's mark, and a stand-in may
stage output only at the job's end, so neither would show that the command ran.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import anyio
import pytest

from .conftest import KERNEL, put_on_path, running, wait_for_file

DRIVER = textwrap.dedent(
    """
    import sys
    import hyperdeme

    run, manager, command = sys.argv[1:4]
    evaluator = hyperdeme.Evaluator(
        command,
        workload_manager=manager,
        run_path=run,
        workload_image="registry.example.com/train:1.0" if manager == "k8s" else "",
        launcher_options={"poll_interval": 0.05},
    )
    optimizer = hyperdeme.RandomOptimizer(evaluator, num_iters=1, seed=1, name="exp")
    optimizer.optimize(hyperdeme.Params([["--x", 0.5, (0.0, 1.0)]]))
    """
)

RECORDER = textwrap.dedent(
    """\
    #!/bin/sh
    # logs its call (one JSON line), then runs the stand-in
    {python} -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@" >> {log}
    exec {real} "$@"
    """
)


def recording(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, standin: str, tool: str) -> Path:
    """The stand-in's tools on PATH, ``tool`` behind a recorder; the log of its calls."""
    directory = put_on_path(monkeypatch, standin)
    wrappers, log = tmp_path / "recorders", tmp_path / f"{tool}.calls"
    wrappers.mkdir()
    wrapper = wrappers / tool
    wrapper.write_text(
        RECORDER.format(
            python=shlex.quote(sys.executable),
            log=shlex.quote(str(log)),
            real=shlex.quote(str(directory / tool)),
        )
    )
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{wrappers}{os.pathsep}{os.environ['PATH']}")
    return log


def calls(log: Path) -> list[list[str]]:
    try:
        return [json.loads(line) for line in log.read_text().splitlines()]
    except FileNotFoundError:
        return []


async def kill_the_driver_mid_job(tmp_path: Path, manager: str) -> None:
    """Start a driver whose one evaluation holds for two minutes; SIGKILL the driver once
    the job's program runs (positive control: it is running, the driver was alive)."""
    pidfile = tmp_path / "kernel.pid"
    command = shlex.join([sys.executable, str(KERNEL), "--pidfile", str(pidfile), "--hold", "120"])
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    argv = [sys.executable, str(script), str(tmp_path / "run"), manager, command]
    driver = await anyio.open_process(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with anyio.fail_after(60):
            pid = int(await wait_for_file(pidfile))
        assert running(pid), "the job's program should run when the driver is killed"
        assert driver.returncode is None, "the driver should be alive when it is killed"
        os.kill(driver.pid, signal.SIGKILL)
        assert await driver.wait() == -signal.SIGKILL
    finally:
        if driver.returncode is None:
            driver.kill()
        await driver.aclose()


async def wait_for_call(log: Path, *words: str) -> list[list[str]]:
    """The calls logged once one holds all of ``words`` (bounded: 30 s)."""
    with anyio.fail_after(30):
        while not any(set(words) <= set(call) for call in calls(log)):  # noqa: ASYNC110
            await anyio.sleep(0.05)
    return calls(log)


async def test_a_sigkilled_driver_s_watchdog_qdels_its_pbs_job(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    qdel = recording(monkeypatch, tmp_path, "pbs", "qdel")
    monkeypatch.setenv("PBS_STANDIN_SPOOL", str(tmp_path / "spool"))
    for variable in ("PBS_NODEFILE", "PBS_JOBID", "PBS_ENVIRONMENT"):
        monkeypatch.delenv(variable, raising=False)
    await kill_the_driver_mid_job(tmp_path, "pbs")
    assert calls(qdel) == []  # the driver did not get to delete it itself
    [job] = [json.loads(p.read_text()) for p in (tmp_path / "spool" / "jobs").glob("*.json")]
    assert await wait_for_call(qdel, job["id"]) == [[job["id"]]]


async def test_a_sigkilled_driver_s_watchdog_deletes_its_kubernetes_job(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    kubectl = recording(monkeypatch, tmp_path, "k8s", "kubectl")
    monkeypatch.setenv("KUBECTL_STANDIN_SPOOL", str(tmp_path / "cluster"))
    await kill_the_driver_mid_job(tmp_path, "k8s")
    assert not [call for call in calls(kubectl) if "delete" in call]
    [name] = [path.stem.partition("__")[2] for path in (tmp_path / "cluster" / "jobs").glob("*")]
    logged = await wait_for_call(kubectl, "delete", "job", name)
    deletes = [call for call in logged if "delete" in call]
    assert len(deletes) == 1, deletes
