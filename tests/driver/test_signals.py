"""A blocking driver stopped by Ctrl-C (SIGINT) or SIGTERM (a batch system ending its
job) stops every evaluation and leaves a consistent journal."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

import hyperdeme
from hyperdeme import Status

DRIVER = textwrap.dedent(
    """
    import sys, hyperdeme
    params = hyperdeme.Params([["--x", 0.5, (0.0, 1.0)]])
    evaluator = hyperdeme.Evaluator(
        f"touch {sys.argv[2]}/started.$$; sleep 300 # hyperdeme-sigterm-test",
        workload_manager="local", num_parallel_evals=2, run_path=sys.argv[1],
    )
    hyperdeme.RandomOptimizer(evaluator, num_iters=4, name="term").optimize(params)
    """
)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("sig", "exit_codes"),
    [(signal.SIGTERM, {128 + signal.SIGTERM}), (signal.SIGINT, {-signal.SIGINT, 130})],
)
def test_a_signal_stops_the_run_cleanly(
    tmp_path: Path, sig: signal.Signals, exit_codes: set[int]
) -> None:
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, str(tmp_path / "run"), str(tmp_path)])
    deadline = time.monotonic() + 30
    while len(list(tmp_path.glob("started.*"))) < 2:  # both slots' kernels are running
        assert time.monotonic() < deadline, "kernels did not start"
        time.sleep(0.05)
    driver.send_signal(sig)
    assert driver.wait(timeout=30) in exit_codes
    survivors = [
        p for p in psutil.process_iter(["cmdline"])
        if "hyperdeme-sigterm-test" in " ".join(p.info["cmdline"] or [])
    ]  # fmt: skip
    assert survivors == []
    trials = hyperdeme.read_journal(tmp_path / "run" / "term")
    assert [t.status for t in trials] == [Status.CANCELLED, Status.CANCELLED]
