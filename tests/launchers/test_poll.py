"""Status queries asked again (launchers/_poll.py): what the PBS and Kubernetes launchers
rely on when ``qstat`` or ``kubectl get`` fails for a moment.

Written for scripts/mutants: the launchers' tests (test_pbs.py, test_k8s.py) let mutants
of this module live; see tests/mutants/results.md. Virtual time: ``anyio.sleep`` is
replaced by a recorder, so no test waits.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import pytest
from structlog.testing import capture_logs

from hyperdeme import ConfigError, ConfigTypeError, LauncherError
from hyperdeme.launchers import _poll
from hyperdeme.launchers._poll import QueryFailed, poll_seconds, query


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(anyio, "sleep", sleep)
    return slept


def failing(times: int, *, then: str = "R") -> tuple[Callable[[], Awaitable[str]], list[int]]:
    """A query that fails ``times`` times, then answers ``then``; and its call count."""
    calls: list[int] = []

    async def ask() -> str:
        calls.append(len(calls) + 1)
        if len(calls) <= times:
            raise QueryFailed(LauncherError(f"qstat failed ({len(calls)})", command="qstat 1"))
        return then

    return ask, calls


async def test_poll_a_query_that_answers_is_asked_once(sleeps: list[float]) -> None:
    ask, calls = failing(0)
    assert await query(ask, interval=2.0, job="1.server") == "R"
    assert (calls, sleeps) == ([1], [])


async def test_poll_a_query_failing_four_times_is_answered_the_fifth(sleeps: list[float]) -> None:
    ask, calls = failing(4)
    with capture_logs() as logs:
        assert await query(ask, interval=3.5, job="1.server") == "R"
    assert calls == [1, 2, 3, 4, 5]
    assert sleeps == [3.5] * 4  # interval seconds apart
    warned = [e for e in logs if e["event"] == "launcher.poll_failed"]
    assert [(e["job"], e["attempt"], e["error"]) for e in warned] == [
        ("1.server", n, f"qstat failed ({n})\n  command: qstat 1") for n in range(1, 5)
    ]


async def test_poll_a_query_failing_five_times_raises_its_last_error(sleeps: list[float]) -> None:
    ask, calls = failing(5)
    with pytest.raises(LauncherError, match=r"^qstat failed \(5\)\n") as caught:
        await query(ask, interval=1.0, job="1.server")
    assert type(caught.value) is LauncherError  # the error itself, not QueryFailed or tenacity's
    assert caught.value.command == "qstat 1"
    assert caught.value.__cause__ is None
    assert calls == [1, 2, 3, 4, 5]
    assert _poll.POLL_FAILURES == 5


async def test_poll_other_errors_are_not_asked_again(sleeps: list[float]) -> None:
    calls: list[int] = []

    async def ask() -> str:
        calls.append(1)
        raise LauncherError("qstat: unknown job")

    with pytest.raises(LauncherError, match="unknown job"):
        await query(ask, interval=1.0, job="1.server")
    assert (calls, sleeps) == ([1], [])


def test_poll_query_failed_carries_its_error() -> None:
    error = LauncherError("kubectl get job: connection refused", command="kubectl get job x")
    failed = QueryFailed(error)
    assert failed.error is error
    assert str(failed) == str(error)


def test_poll_interval_is_a_positive_number_of_seconds_default_two() -> None:
    assert poll_seconds("poll_interval", 0.5) == 0.5
    assert poll_seconds("poll_interval", 3) == 3.0
    with pytest.raises(ConfigError, match=r"poll_interval must be a number > 0 \(seconds\), got 0"):
        poll_seconds("poll_interval", 0)
    with pytest.raises(ConfigTypeError, match="poll_interval must be a number > 0"):
        poll_seconds("poll_interval", "2")
    assert _poll.DEFAULT_POLL_INTERVAL == 2.0  # docs/guide.md: "poll_interval (2: seconds ...)"
