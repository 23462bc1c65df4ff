"""``hyperdeme serve`` on a 100,000-trial experiment (issue #21): the first page's time,
the server's event loop while it reads, and its memory.

A journal of N trials (a real fingerprint, four parameters, intermediate FoMs for
every other trial) is written once; then, in a fresh child process (``python -m
benchmarks.dashboard --child JOURNAL_DIR``, with ``PYTHONPATH`` naming the source
tree measured: this one, and with ``--baseline REV`` that revision's, interleaved
round by round), the dashboard's application answers what a browser asks when the
experiment page opens (the page, its scripts, the experiment's JSON, the first page
of the table), through httpx's ASGI transport, so the time is the server's, not a
network's:

* *read at start*: the whole read of the journal (``Registry.prefetch``, awaited);
* *first page*: the page opened after that; *again*: opened again (nothing new);
  *after 100 more*: 100 trials appended, opened again (only the new bytes are read);
* *cold page*: the server started (its lifespan: the read begins in the background)
  and the page asked at once, as a user opening the address ``serve`` printed does;
  *trials shown*: how many trials that page had (the rest come as the read goes on);
* *loop lag*: a 5 ms ticker in the server's event loop from its start to the read's
  end (p99 and max of how late it woke): what every other request waits at worst;
* the baseline, in the same process: ``hyperdeme.read_journal`` of the same file
  (the library's one reader, reading it all); the start's read as a ratio of it;
* RSS: of the child before the first request and after the read and pages (psutil).

Target: the cold page under 1 s; the JSON a page gets is summarised (PLOT_LIMIT
trials for the plots, 50 table rows), not 100,000 rows.
"""

from __future__ import annotations

import argparse
import json
import os
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

    async def page(client: httpx.AsyncClient) -> tuple[float, int, dict[str, Any]]:
        begun = time.perf_counter()
        size = 0
        summary: dict[str, Any] = {}
        for path in PAGE:
            response = await client.get(path)
            response.raise_for_status()
            size += len(response.content)
            if path == "/api/experiments/big":
                summary = response.json()["summary"]
        return time.perf_counter() - begun, size, summary

    async def ticker(lags: list[float], stop: anyio.Event) -> None:
        while not stop.is_set():
            begun = time.perf_counter()
            await anyio.sleep(0.005)
            lags.append(time.perf_counter() - begun - 0.005)

    async def cold() -> dict[str, Any]:
        """The server started, the page asked at once; the loop's lag until read."""
        app = create_app(run_path, token=None)
        transport = httpx.ASGITransport(app=app)
        lags: list[float] = []
        stop = anyio.Event()
        async with (
            anyio.create_task_group() as group,
            httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c,
        ):
            group.start_soon(ticker, lags, stop)
            begun = time.perf_counter()
            async with app.router.lifespan_context(app):  # the server's start
                seconds, _, summary = await page(c)
                while True:  # until the read is done (the page's own events would say)
                    now = (await c.get("/api/experiments")).json()["experiments"][0]
                    if not now.get("reading") and now["done"] >= total:
                        break
                    await anyio.sleep(0.05)
                read = time.perf_counter() - begun
            stop.set()
        lags.sort()
        return {
            "cold": seconds,
            "cold_trials": summary["done"],
            "cold_read": read,
            "lag_p99": lags[int(0.99 * (len(lags) - 1))],
            "lag_max": lags[-1],
        }

    async def main() -> dict[str, Any]:
        app = create_app(run_path, token=None)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            begun = time.perf_counter()
            await app.state.registry.prefetch()  # the whole read
            start = time.perf_counter() - begun
            await anyio.sleep(0.6)  # past the registry's freshness: it looks again
            first, size, summary = await page(c)
            await anyio.sleep(0.6)
            again, _, _ = await page(c)
            write_journal(run_path / "big", 100, first=summary["done"] + 1)
            await anyio.sleep(0.6)
            grown, _, _ = await page(c)
        rss_after = process.memory_info().rss
        return {
            "start": start,
            "first": first,
            "again": again,
            "grown": grown,
            "bytes": size,
            "rss_after": rss_after,
        }

    total = len(hyperdeme.read_journal(run_path / "big"))
    result = anyio.run(cold)  # first: before anything of this journal is in memory
    result.update(anyio.run(main))
    begun = time.perf_counter()
    hyperdeme.read_journal(run_path / "big")
    result.update(baseline=time.perf_counter() - begun, rss_before=rss_before)
    print(json.dumps(result), flush=True)


COLUMNS = [
    "tree",
    "cold page s",
    "< 1 s",
    "trials shown",
    "loop lag p99 ms",
    "loop lag max ms",
    "read at start s",
    "read_journal s (baseline)",
    "start / baseline",
    "first page s",
    "again s",
    "after 100 more s",
    "page KB",
    "RSS before MB",
    "RSS after MB",
]


def _run_child(scratch: Path, source: Path) -> dict[str, Any]:
    journal = scratch / "big" / "trials.jsonl"
    pristine = journal.read_bytes()  # each child appends 100 trials: start from the same
    try:
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.dashboard", "--child", str(scratch)],
            cwd=h.ROOT,
            env={**os.environ, "PYTHONPATH": str(source)},
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        journal.write_bytes(pristine)
    if done.returncode:
        raise SystemExit(f"[dashboard] the child failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def main(quick: bool, args: Any) -> list[h.Table]:
    trials = int(args.sizes.split(",")[-1]) if args.sizes else (10_000 if quick else 100_000)
    sources = {"this tree": h.ROOT / "src"}
    if args.baseline:
        sources[args.baseline] = h.baseline_source(args.baseline)
    repeats = args.repeats or (2 if quick else 3)
    raw: dict[str, list[dict[str, Any]]] = {name: [] for name in sources}
    with h.scratch_dir("hd-dashboard-") as scratch:
        print(f"[dashboard] writing a {trials}-trial journal ...", flush=True)
        write_journal(scratch / "big", trials)
        journal_mb = (scratch / "big" / "trials.jsonl").stat().st_size / 2**20

        def runner(name: str) -> Any:
            def run() -> float:
                print(f"[dashboard] {name} ...", flush=True)
                raw[name].append(_run_child(scratch, sources[name]))
                return float(raw[name][-1]["cold"])

            return run

        h.interleave({name: runner(name) for name in sources}, repeats)
    table = h.Table(
        f"the experiment page of a {trials}-trial experiment ({journal_mb:.0f} MB journal): "
        f"median of {repeats} interleaved runs, [min-max] for the cold page",
        COLUMNS,
    )
    for name, runs in raw.items():
        table.add(name, *_cells(runs))
    table.notes.append(
        "in-process (httpx ASGI transport): the server's time; the page: its HTML, "
        "scripts, stylesheet, the experiment's JSON and 50 table rows"
    )
    return h.save_benchmark(
        "dashboard", quick, [table], settings={"trials": trials, "repeats": repeats}, results=raw
    )


def _cells(runs: list[dict[str, Any]]) -> list[object]:
    def m(key: str) -> float:
        return h.median([r[key] for r in runs])

    colds = [r["cold"] for r in runs]
    return [
        f"{h.fmt(m('cold'))} [{h.fmt(min(colds))}-{h.fmt(max(colds))}]",
        h.verdict(max(colds), 1.0, higher_is_better=False),
        int(m("cold_trials")),
        m("lag_p99") * 1e3,
        m("lag_max") * 1e3,
        m("start"),
        m("baseline"),
        m("start") / m("baseline"),
        m("first"),
        m("again"),
        m("grown"),
        m("bytes") / 1024,
        m("rss_before") / 2**20,
        m("rss_after") / 2**20,
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", metavar="RUN_PATH", required=True)
    child(Path(parser.parse_args().child))
