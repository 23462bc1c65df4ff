"""Status queries that fail: asked again up to ``POLL_FAILURES`` times in a row, then an error.

First :func:`query` itself, then the PBS and Kubernetes launchers against their
stand-ins with the status query (``qstat``, ``kubectl get job``) failing its
first N calls: a switch is a wrapper first on PATH that fails while a counter
file says so (exit 2, "cannot connect"), then runs the stand-in.
"""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from hyperdeme import LauncherError, LauncherOptions
from hyperdeme.launchers import _poll
from hyperdeme.launchers._k8s import K8sLauncher
from hyperdeme.launchers._pbs import PbsLauncher
from hyperdeme.launchers._poll import POLL_FAILURES, QueryFailed, query

from .conftest import Evaluation, kernel_command, put_on_path

FAST = {"poll_interval": 0.01}
#: failed queries in a row an evaluation survives (a server restarting, a network blip);
#: fixed here, not read from POLL_FAILURES, so that lowering the limit fails these tests
SURVIVED = 3


def test_the_limit_is_more_than_the_failures_survived() -> None:
    """One failed query must not end an evaluation: a server is briefly unreachable."""
    assert POLL_FAILURES > SURVIVED


def failing(times: int) -> tuple[Callable[[], object], list[int]]:
    """An ``ask`` that fails its first ``times`` calls, then answers; and its call count."""
    asked: list[int] = []

    async def ask() -> str:
        asked.append(len(asked) + 1)
        if len(asked) <= times:
            raise QueryFailed(LauncherError(f"query {len(asked)} failed"))
        return "answer"

    return ask, asked


async def test_failures_short_of_the_limit_are_asked_again() -> None:
    ask, asked = failing(SURVIVED)
    assert await query(ask, interval=0, job="j") == "answer"  # type: ignore[arg-type]
    assert len(asked) == SURVIVED + 1


async def test_the_limit_of_failures_in_a_row_raises_the_last_error() -> None:
    ask, asked = failing(POLL_FAILURES)
    with pytest.raises(LauncherError, match=f"query {POLL_FAILURES} failed"):
        await query(ask, interval=0, job="j")  # type: ignore[arg-type]
    assert len(asked) == POLL_FAILURES


async def test_the_limit_is_read_when_asking(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_poll, "POLL_FAILURES", 2)
    ask, asked = failing(5)
    with pytest.raises(LauncherError, match="query 2 failed"):
        await query(ask, interval=0, job="j")  # type: ignore[arg-type]
    assert len(asked) == 2


# ------------------------------------------------------------------ through the stand-ins

FLAKY = textwrap.dedent(
    """\
    #!{python}
    import os, sys
    counter, real, limit, words = {counter!r}, {real!r}, {limit}, {words!r}
    if all(word in sys.argv[1:] for word in words):
        failed = int(open(counter).read()) if os.path.exists(counter) else 0
        with open(counter + ".calls", "a") as calls:
            calls.write("failed\\n" if failed < limit else "answered\\n")
        if failed < limit:
            open(counter, "w").write(str(failed + 1))
            print("cannot connect to server (errno=15010)", file=sys.stderr)
            sys.exit(2)
    os.execv(real, [real, *sys.argv[1:]])
    """
)


def flaky(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, standin: str, tool: str, *words: str,
    failures: int,
) -> Path:  # fmt: skip
    """``tool`` fails its first ``failures`` calls holding ``words``; returns the log of them."""
    directory = put_on_path(monkeypatch, standin)
    wrappers = tmp_path / "flaky"
    wrappers.mkdir()
    counter = tmp_path / f"{tool}.failed"
    (wrappers / tool).write_text(
        FLAKY.format(
            python=sys.executable,
            counter=str(counter),
            real=str(directory / tool),
            limit=failures,
            words=list(words),
        )
    )
    (wrappers / tool).chmod(0o755)
    monkeypatch.setenv("PATH", f"{wrappers}{os.pathsep}{os.environ['PATH']}")
    return Path(f"{counter}.calls")


def answers(log: Path) -> list[str]:
    return log.read_text().splitlines()


@pytest.fixture
def pbs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PBS_STANDIN_SPOOL", str(tmp_path / "spool"))
    for variable in ("PBS_NODEFILE", "PBS_JOBID", "PBS_ENVIRONMENT"):
        monkeypatch.delenv(variable, raising=False)


@pytest.mark.usefixtures("pbs")
async def test_pbs_asks_qstat_again_after_failures_short_of_the_limit(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, evaluation: Callable[..., Evaluation]
) -> None:
    log = flaky(monkeypatch, tmp_path, "pbs", "qstat", "-f", failures=SURVIVED)
    ev = evaluation(kernel_command())
    async with PbsLauncher(LauncherOptions(extra=FAST)) as launcher:
        exit_ = await launcher.run(ev.job)
    assert exit_.returncode == 0
    assert answers(log)[: SURVIVED + 1] == ["failed"] * SURVIVED + ["answered"]


@pytest.mark.usefixtures("pbs")
async def test_pbs_gives_up_after_the_limit_of_failed_qstats(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, evaluation: Callable[..., Evaluation]
) -> None:
    log = flaky(monkeypatch, tmp_path, "pbs", "qstat", "-f", failures=1000)
    ev = evaluation(kernel_command("--hold", "60"))
    async with PbsLauncher(LauncherOptions(extra=FAST)) as launcher:
        with pytest.raises(LauncherError, match="cannot connect to server"):
            await launcher.run(ev.job)
    assert answers(log) == ["failed"] * POLL_FAILURES


async def test_kubernetes_asks_again_after_failures_short_of_the_limit(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, evaluation: Callable[..., Evaluation]
) -> None:
    monkeypatch.setenv("KUBECTL_STANDIN_SPOOL", str(tmp_path / "cluster"))
    log = flaky(monkeypatch, tmp_path, "k8s", "kubectl", "get", "job", failures=SURVIVED)
    ev = evaluation(kernel_command())
    settings = LauncherOptions(workload_image="registry.example.com/train:1.0", extra=FAST)
    exit_ = await K8sLauncher(settings).run(ev.job)
    assert exit_.returncode == 0
    assert answers(log)[: SURVIVED + 1] == ["failed"] * SURVIVED + ["answered"]


async def test_kubernetes_gives_up_after_the_limit_of_failed_queries(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, evaluation: Callable[..., Evaluation]
) -> None:
    monkeypatch.setenv("KUBECTL_STANDIN_SPOOL", str(tmp_path / "cluster"))
    log = flaky(monkeypatch, tmp_path, "k8s", "kubectl", "get", "job", failures=1000)
    ev = evaluation(kernel_command("--hold", "60"))
    settings = LauncherOptions(workload_image="registry.example.com/train:1.0", extra=FAST)
    with pytest.raises(LauncherError, match="cannot connect to server"):
        await K8sLauncher(settings).run(ev.job)
    assert answers(log) == ["failed"] * POLL_FAILURES
