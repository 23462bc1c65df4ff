"""The guide's Starlette example, served by uvicorn and driven by a real HTTP client:
runs start, report progress, stop on DELETE, and stop cleanly with the server."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil  # type: ignore[import-untyped,unused-ignore]
import pytest

from hyperdeme._engine._journal import read_trials

EXAMPLE = Path(__file__).parents[2] / "examples" / "starlette_app"


@dataclass
class Server:
    process: subprocess.Popen[str]
    address: str
    log: list[str]  # uvicorn's log lines after the address
    drain: threading.Thread


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """uvicorn serving the example on a free port; its address once it listens; its log."""
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app:app", "--app-dir", str(EXAMPLE), "--port", "0"],
        env={**os.environ, "RUN_PATH": str(tmp_path / "run"), "PYTHONWARNINGS": "ignore"},
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    address = ""
    for line in process.stderr:  # uvicorn says where it listens once it is ready
        found = re.search(r"Uvicorn running on (http://\S+)", line)
        if found:
            address = found.group(1)
            break
    # the rest of its log is read as it comes, so that a full pipe never blocks it
    log: list[str] = []
    drain = threading.Thread(target=lambda: log.extend(process.stderr or ()), daemon=True)
    drain.start()
    try:
        assert address, "uvicorn did not start"
        yield Server(process, address, log, drain)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(30)
        drain.join(30)
        process.stderr.close()


def test_runs_finish_report_progress_and_stop_on_delete(
    server: Server,
) -> None:
    address = server.address
    with httpx.Client(base_url=address, timeout=60) as client:
        name = client.post("/runs", json={"budget": 12}).json()["run"]
        done = client.get(f"/runs/{name}", params={"wait": 1}).json()
        assert done["status"] == "finished"
        assert done["trials"] == 12
        assert done["best_fom"] is not None
        finished, _ = read_trials(done["journal"])
        assert len(finished) == 12

        long = client.post("/runs", json={"budget": 100000, "seconds": 0.05}).json()["run"]
        assert client.get(f"/runs/{long}").json()["status"] == "running"
        stopped = client.delete(f"/runs/{long}").json()
        assert stopped["status"] == "cancelled"
        finished, started = read_trials(stopped["journal"])
        assert len(finished) == stopped["trials"]  # what it reports is what it journalled
        assert {t.id for t in finished} == started  # every trial asked for has its end


def test_stopping_the_server_stops_its_runs_cleanly(server: Server, tmp_path: Path) -> None:
    process, address, log = server.process, server.address, server.log
    with httpx.Client(base_url=address, timeout=60) as client:
        name = client.post("/runs", json={"budget": 100000, "seconds": 0.05}).json()["run"]
        assert client.get(f"/runs/{name}").json()["status"] == "running"
    process.send_signal(signal.SIGTERM)
    assert process.wait(60) in (0, -signal.SIGTERM)  # uvicorn re-raises it once shut down
    server.drain.join(10)  # the log's reader ends at the pipe's end
    assert any("Application shutdown complete" in line for line in log)  # the lifespan ended
    finished, started = read_trials(tmp_path / "run" / name)
    assert started  # it was running
    assert {t.id for t in finished} == started  # the running trials journalled as cancelled
    assert psutil.Process().children(recursive=True) == []
