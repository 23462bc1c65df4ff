"""``hyperdeme serve`` on a 100,000-trial experiment (issue #21): the first page's time and
the server's memory.

A journal of N trials (a real fingerprint, four parameters, intermediate FoMs for
every other trial) is written once; then, in a fresh child process (``python -m
benchmarks.dashboard --child JOURNAL_DIR``), the dashboard's application answers
what a browser asks when the experiment page opens (the page, its scripts, the
experiment's JSON, the first page of the table), through httpx's ASGI transport,
so the time is the server's, not a network's:

* *read at start*: the server reads every journal once when it starts
  (``Registry.prefetch``, in the background);
* *first page*: the page opened after that; *again*: opened again (nothing new);
  *after 100 more*: 100 trials appended, opened again (only the new bytes are read);
* *cold page*: a page asked of a server that has not read the journal yet (it waits
  for the read);
* the baseline, in the same process: ``hyperdeme.read_journal`` of the same file
  (the library's one reader, reading it all); the start's read as a ratio of it;
* RSS: of the child before the first request and after the pages (psutil).

Target: the first page under 1 s; the JSON a page gets is summarised
(PLOT_LIMIT trials for the plots, 50 table rows), not 100,000 rows.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from . import _harness as h

PAGE = [
    "/experiments/big",
    "/static/common.js",
    "/static/plots.js",
    "/static/experiment.js",
    "/static/dashboard.css",
    "/api/experiments/big",
    "/api/experiments/big/trials?offset=0&limit=50&sort=fom&order=asc",
]


def write_journal(directory: Path, trials: int, *, first: int = 1) -> None:
    """``trials`` more trials in ``directory/trials.jsonl`` (a header first when new)."""
    import random

    import numpy

    import hyperdeme

    space = hyperdeme.Params(
        [
            ["--lr", 0.01, (1e-5, 1.0), {"log": True}],
            ["--layers", 3, (1, 8)],
            ["--dropout", 0.1, (0.0, 0.9)],
            ["--optimizer", "sgd", ["sgd", "adam", "rmsprop"]],
        ]
    )
    rng = random.Random(first)
    lines = []
    journal = directory / "trials.jsonl"
    if not journal.exists():
        directory.mkdir(parents=True)
        fingerprint = {"space": space.to_json(), "seed": 1, "command": "python3 train.py"}
        lines.append({"schema": 2, "type": "experiment", "fingerprint": fingerprint})
    for i in range(first, first + trials):
        params = space.sample(numpy.random.default_rng(i))
        fom = (abs(rng.gauss(0, 1)) + 1e-3) * 10 ** rng.uniform(-2, 1)
        lines.append({"schema": 2, "type": "started", "id": i, "genes": params, "info": {}})
        trial = hyperdeme.Trial(
            id=i,
            params=params,
            fom=fom,
            status=hyperdeme.Status.OK,
            started=i,
            ended=i + 0.5,
            duration=0.5,
        )
        if i % 2:
            trial.intermediate = {1: fom * 3, 2: fom * 2, 3: fom}
        lines.append({"schema": 2, "type": "trial", **trial.to_json()})
    with journal.open("a") as handle:
        handle.writelines(json.dumps(line) + "\n" for line in lines)


def child(run_path: Path) -> None:
    import anyio
    import httpx
    import psutil

    import hyperdeme
    from hyperdeme._dashboard._app import create_app

    process = psutil.Process()
    rss_before = process.memory_info().rss

    async def page(client: httpx.AsyncClient) -> tuple[float, int]:
        begun = time.perf_counter()
        size = 0
        for path in PAGE:
            response = await client.get(path)
            response.raise_for_status()
            size += len(response.content)
        return time.perf_counter() - begun, size

    async def main() -> dict[str, Any]:
        app = create_app(run_path, token=None)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            begun = time.perf_counter()
            await app.state.registry.prefetch()  # what the server's start does
            start = time.perf_counter() - begun
            await anyio.sleep(0.6)  # past the registry's freshness: it looks again
            first, size = await page(c)
            await anyio.sleep(0.6)
            again, _ = await page(c)
            count = len(app.state.registry._followers["big"].trials)
            write_journal(run_path / "big", 100, first=count + 1)
            await anyio.sleep(0.6)
            grown, _ = await page(c)
        rss_after = process.memory_info().rss
        app = create_app(run_path, token=None)  # a page asked before the start's read ends
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            cold, _ = await page(c)
        return {
            "start": start,
            "first": first,
            "again": again,
            "grown": grown,
            "cold": cold,
            "bytes": size,
            "rss_after": rss_after,
        }

    result = anyio.run(main)
    begun = time.perf_counter()
    hyperdeme.read_journal(run_path / "big")
    result.update(baseline=time.perf_counter() - begun, rss_before=rss_before)
    print(json.dumps(result), flush=True)


def main(quick: bool, args: Any) -> list[h.Table]:
    trials = int(args.sizes.split(",")[-1]) if args.sizes else (10_000 if quick else 100_000)
    with h.scratch_dir("hd-dashboard-") as scratch:
        print(f"[dashboard] writing a {trials}-trial journal ...", flush=True)
        write_journal(scratch / "big", trials)
        journal_mb = (scratch / "big" / "trials.jsonl").stat().st_size / 2**20
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.dashboard", "--child", str(scratch)],
            cwd=h.ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    r = json.loads(done.stdout.splitlines()[-1])
    table = h.Table(
        f"the experiment page of a {trials}-trial experiment ({journal_mb:.0f} MB journal)",
        [
            "read at start s",
            "first page s",
            "< 1 s",
            "again s",
            "after 100 more s",
            "cold page s",
            "read_journal s (baseline)",
            "start / baseline",
            "page KB",
            "RSS before MB",
            "RSS after MB",
        ],
    )
    table.add(
        r["start"],
        r["first"],
        h.verdict(r["first"], 1.0, higher_is_better=False),
        r["again"],
        r["grown"],
        r["cold"],
        r["baseline"],
        r["start"] / r["baseline"],
        r["bytes"] / 1024,
        r["rss_before"] / 2**20,
        r["rss_after"] / 2**20,
    )
    table.notes.append(
        "in-process (httpx ASGI transport): the server's time; the page: its HTML, "
        "scripts, stylesheet, the experiment's JSON and 50 table rows"
    )
    return h.save_benchmark("dashboard", quick, [table], settings={"trials": trials}, results=r)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", metavar="RUN_PATH", required=True)
    child(Path(parser.parse_args().child))
