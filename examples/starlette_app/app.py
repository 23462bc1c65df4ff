"""An optimization service: hyperdeme runs inside a Starlette app's event loop.

    uvicorn app:app                      # or: hypercorn app:app
    curl -X POST localhost:8000/runs -d '{"budget": 20}'       -> {"run": "run-1"}
    curl localhost:8000/runs/run-1                             -> progress so far
    curl 'localhost:8000/runs/run-1?wait=1'                    -> when it has ended
    curl -X DELETE localhost:8000/runs/run-1                   -> stops it

The app owns its runs in the lifespan's task group: a run is a task there, reading
its progress from ``hyperdeme.stream``; stopping the server (Ctrl-C, SIGTERM to
uvicorn) cancels the group, which stops every run cleanly (evaluations stopped,
journals consistent) before the process exits. Signals are the server's: with the
async API hyperdeme installs no handler. ``RUN_PATH`` (environment) is where the
journals go.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
from anyio.abc import TaskGroup
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import hyperdeme

PARAMS = hyperdeme.Params([["--x", 0.5, (0.0, 1.0)], ["--y", 0.5, (0.0, 1.0)]])


async def train(params: dict[str, Any]) -> float:
    """The objective: a coroutine function, awaited in the server's loop. A CPU-bound
    one would be a plain ``def`` (a worker thread) or use function_runs_in="process"."""
    await anyio.sleep(params.get("seconds", 0.01))
    return (params["--x"] - 0.3) ** 2 + (params["--y"] - 0.6) ** 2


@dataclass
class Run:
    """One optimization: its progress, read from the stream as trials finish."""

    name: str
    budget: int
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    ended: anyio.Event = field(default_factory=anyio.Event)
    status: str = "running"
    trials: int = 0
    best_fom: float | None = None
    journal: str = ""

    def state(self) -> dict[str, Any]:
        return {
            "run": self.name,
            "status": self.status,
            "budget": self.budget,
            "trials": self.trials,
            "best_fom": self.best_fom,
            "journal": self.journal,
        }


class Runs:
    """The app's runs, each a task in the lifespan's task group."""

    def __init__(self, tg: TaskGroup) -> None:
        self.tg = tg
        self.runs: dict[str, Run] = {}
        self.numbers = itertools.count(1)

    def start(self, budget: int, seconds: float) -> Run:
        run = Run(name=f"run-{next(self.numbers)}", budget=budget)
        self.runs[run.name] = run
        self.tg.start_soon(self.optimize, run, seconds)
        return run

    async def optimize(self, run: Run, seconds: float) -> None:
        async def objective(params: dict[str, Any]) -> float:
            return await train({**params, "seconds": seconds})

        evaluator = hyperdeme.Evaluator(
            objective, run_path=os.environ.get("RUN_PATH", "run"), num_parallel_evals=4
        )
        opt = hyperdeme.RandomOptimizer(evaluator, num_iters=run.budget, seed=1, name=run.name)
        try:
            with run.scope:  # DELETE /runs/<name> cancels it
                async with hyperdeme.stream(opt, PARAMS) as trials:
                    async for trial in trials:
                        run.trials += 1
                        if trial.ok and (run.best_fom is None or trial.fom < run.best_fom):
                            run.best_fom = trial.fom
            run.status = "cancelled" if run.scope.cancelled_caught else "finished"
        except Exception as error:  # a bad setting, fail-fast: the run's own failure
            run.status = f"failed: {error}"
        finally:  # the server stopping cancels us: what was journalled is in the result
            if run.status == "running":
                run.status = "stopped with the server"
            if opt.result is not None:
                run.trials = len(opt.result.trials)
                run.journal = str(opt.result.journal_path or "")
            run.ended.set()


async def start_run(request: Request) -> JSONResponse:
    body = await request.json() if await request.body() else {}
    run = request.app.state.runs.start(
        int(body.get("budget", 20)), float(body.get("seconds", 0.01))
    )
    return JSONResponse({"run": run.name}, status_code=201)


async def show_run(request: Request) -> JSONResponse:
    run = request.app.state.runs.runs.get(request.path_params["name"])
    if run is None:
        return JSONResponse({"error": "no such run"}, status_code=404)
    if request.query_params.get("wait"):
        await run.ended.wait()
    return JSONResponse(run.state())


async def stop_run(request: Request) -> JSONResponse:
    run = request.app.state.runs.runs.get(request.path_params["name"])
    if run is None:
        return JSONResponse({"error": "no such run"}, status_code=404)
    run.scope.cancel()
    await run.ended.wait()
    return JSONResponse(run.state())


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    async with anyio.create_task_group() as tg:
        app.state.runs = Runs(tg)
        yield
        tg.cancel_scope.cancel()  # the server is stopping: stop every run, cleanly


app = Starlette(
    routes=[
        Route("/runs", start_run, methods=["POST"]),
        Route("/runs/{name}", show_run, methods=["GET"]),
        Route("/runs/{name}", stop_run, methods=["DELETE"]),
    ],
    lifespan=lifespan,
)
