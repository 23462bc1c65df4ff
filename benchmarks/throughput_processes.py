"""Trivial processes through each runner at 1, 4, 8, 16 and 64 slots (issue #11).

Every runner starts the same ``/bin/sh -c "printf 'FoM: 1\\n' # --x=<value>"``
``trials`` times with ``slots`` at once, in a fresh directory on the real disk
(not tmpfs), and the wall time of the whole batch is measured:

- ``xargs``: ``xargs -P<slots> -I{} sh -c ...``, output discarded: the OS's spawn floor.
- ``posix-spawn``: a plain synchronous loop that ``os.posix_spawn``s the command
  with ``setsid``, its stdout dup2'ed straight into a file, ``slots`` in flight,
  reaped with ``waitpid(-1)``: the floor of starting programs from Python (issue 23).
- ``bare-asyncio`` / ``bare-trio``: ``anyio.run_process`` under a ``CapacityLimiter``,
  output captured: the floor of an anyio program.
- ``optuna``: ``study.optimize(objective, n_jobs=slots)`` whose objective calls
  ``subprocess.run`` and parses the FoM.
- ``hyperdeme-asyncio`` / ``hyperdeme-trio``: ``RandomOptimizer`` with
  ``Evaluator(cmd, workload_manager="local", num_parallel_evals=slots)`` and
  default settings otherwise (trial directory, logs, fsynced journal, run
  path ``run/`` in the working directory);
- ``hyperdeme-asyncio-nofsync``: the same with ``fsync="never"``, to show what the
  journal's default group-committed fsync (``"batch"``, on a thread) costs on
  this disk; the fsync latency measured beside the table is noted under it;
- ``hyperdeme-asyncio-tmpfs``: defaults, but run in /dev/shm: the engine
  without the disk (trial directory, three files and the journal line per
  trial are written synchronously on the event loop: on a busy disk they
  serialize the slots). The disk's latencies, probed before and after, are
  noted under the table.

With ``--baseline REV``, two more, each in a child process timed inside it
from ``import hyperdeme`` to the run's end (interpreter start-up excluded;
``import hyperdeme`` included, since a revision that imports less up front pays
the rest during its run): ``hyperdeme-before``, the same run with
hyperdeme at git revision ``REV``, and ``hyperdeme-after``, the working tree's
hyperdeme the same way.

Issue 23's targets at 8 slots: hyperdeme >= 1.2x Optuna and >= 0.7x xargs
(speed ratios: the other's time over hyperdeme's).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio

import hyperdeme

from . import _harness as h

COMMAND = "printf 'FoM: 1\\n' #"
SPACE = hyperdeme.Params([["--x", (0.0, 1.0)]])
RUNNERS = (
    "xargs",
    "posix-spawn",
    "bare-asyncio",
    "bare-trio",
    "optuna",
    "hyperdeme-asyncio",
    "hyperdeme-trio",
    "hyperdeme-asyncio-nofsync",
    "hyperdeme-asyncio-tmpfs",
)
TMPFS = Path("/dev/shm")


def _xargs(trials: int, slots: int) -> None:
    values = "".join(f"{i / trials}\n" for i in range(trials))
    subprocess.run(
        ["xargs", "-P", str(slots), "-I{}", "/bin/sh", "-c", f"{COMMAND} --x={{}}"],
        input=values,
        text=True,
        stdout=subprocess.DEVNULL,
        check=True,
    )


def _posix_spawn(trials: int, slots: int) -> None:
    fd = os.open("posix-spawn.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    actions = [(os.POSIX_SPAWN_DUP2, fd, 1), (os.POSIX_SPAWN_CLOSE, fd)]
    running = 0
    try:
        for i in range(trials):
            if running == slots:
                os.waitpid(-1, 0)
                running -= 1
            argv = ["/bin/sh", "-c", f"{COMMAND} --x={i / trials}"]
            os.posix_spawn("/bin/sh", argv, os.environ, file_actions=actions, setsid=True)
            running += 1
        for _ in range(running):
            os.waitpid(-1, 0)
    finally:
        os.close(fd)


async def _bare(trials: int, slots: int) -> None:
    limiter = anyio.CapacityLimiter(slots)

    async def one(i: int) -> None:
        async with limiter:
            await anyio.run_process(
                ["/bin/sh", "-c", f"{COMMAND} --x={i / trials}"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )

    async with anyio.create_task_group() as tg:
        for i in range(trials):
            tg.start_soon(one, i)


def _optuna(trials: int, slots: int) -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)

    def objective(trial: Any) -> float:
        x = trial.suggest_float("x", 0.0, 1.0)
        done = subprocess.run(
            ["/bin/sh", "-c", f"{COMMAND} --x={x}"], capture_output=True, text=True, check=True
        )
        return float(done.stdout.rsplit("FoM:", 1)[1].split()[0])

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    study.optimize(objective, n_trials=trials, n_jobs=slots)


#: a run in a child process, timed inside it: argv trials, slots; prints seconds
_CHILD = f"""
import sys, time
start = time.perf_counter()
import anyio, hyperdeme
trials, slots = int(sys.argv[1]), int(sys.argv[2])
async def run():
    evaluator = hyperdeme.Evaluator({COMMAND!r}, workload_manager="local", num_parallel_evals=slots)
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=trials, seed=1)
    result = await hyperdeme.optimize(opt, hyperdeme.Params([["--x", (0.0, 1.0)]]))
    assert len(result.trials) == trials and not result.n_failed, result
anyio.run(run)
print(time.perf_counter() - start)
"""


def _child(source: Path, trials: int, slots: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(source)}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(trials), str(slots)],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"hyperdeme at {source} failed: {done.stderr[-2000:]}")
    return float(done.stdout.split()[-1])


async def _hyperdeme(trials: int, slots: int, fsync: str) -> None:
    evaluator = hyperdeme.Evaluator(
        COMMAND,
        workload_manager="local",
        num_parallel_evals=slots,
        fsync=fsync,  # type: ignore[arg-type]  # "batch" (the default) or "never"
    )
    result = await hyperdeme.optimize(
        hyperdeme.RandomOptimizer(evaluator, num_iters=trials, seed=1), SPACE
    )
    if result.n_failed:
        raise RuntimeError(f"{result.n_failed} trivial trials failed: {result.trials[0].error}")


def _runner(
    name: str, trials: int, slots: int, root: Path, baseline: Path | None
) -> Callable[[], float]:
    def measure() -> float:
        with h.fresh_cwd(TMPFS if name.endswith("tmpfs") and TMPFS.is_dir() else root):
            if name in ("hyperdeme-before", "hyperdeme-after"):
                assert baseline is not None
                source = baseline if name == "hyperdeme-before" else h.ROOT / "src"
                return _child(source, trials, slots)
            start = time.perf_counter()
            if name == "xargs":
                _xargs(trials, slots)
            elif name == "posix-spawn":
                _posix_spawn(trials, slots)
            elif name == "optuna":
                _optuna(trials, slots)
            elif name.startswith("bare"):
                anyio.run(_bare, trials, slots, backend=name.split("-")[1])
            else:
                fsync = "never" if name.endswith("nofsync") else "batch"
                anyio.run(_hyperdeme, trials, slots, fsync, backend=name.split("-")[1])
            return time.perf_counter() - start

    return measure


def main(quick: bool, args: Any) -> list[h.Table]:
    trials = args.trials or (200 if quick else 400)
    slot_counts = (
        [int(s) for s in args.slots.split(",")]
        if args.slots
        else ([1, 8] if quick else [1, 4, 8, 16, 64])
    )
    repeats = args.repeats or (3 if quick else 5)
    baseline = h.baseline_source(args.baseline) if args.baseline else None
    names = RUNNERS + (("hyperdeme-before", "hyperdeme-after") if baseline else ())
    times = h.Table(
        f"trivial processes: ms per trial (median of {repeats}, {trials} trials, interleaved)",
        ["slots", *names],
    )
    ratios = h.Table(
        "speed ratios (other's time / hyperdeme's; targets at 8 slots: "
        ">= 1.2 vs optuna, >= 0.7 vs xargs: issue 23)",
        [
            "slots",
            "hyperdeme",
            "vs optuna",
            ">= 1.2",
            "vs xargs",
            ">= 0.7",
            "vs posix-spawn",
            "vs bare anyio",
        ],
    )
    data: dict[str, Any] = {}
    with h.scratch_dir("hd-processes-") as root:
        fs = h.filesystem(root)
        disk = {"before": h.disk_latency(root)}
        for slots in slot_counts:
            print(f"[processes] {slots} slots ...", flush=True)
            runners = {name: _runner(name, trials, slots, root, baseline) for name in names}
            values = h.interleave(runners, repeats)
            med = {name: h.median(v) for name, v in values.items()}
            data[str(slots)] = {"seconds": values, "median": med}
            times.add(slots, *[med[n] / trials * 1e3 for n in names])
            for variant in ("asyncio", "trio", "asyncio-nofsync", "asyncio-tmpfs"):
                backend = variant.split("-")[0]
                ours = med[f"hyperdeme-{variant}"]
                vs_optuna, vs_xargs = med["optuna"] / ours, med["xargs"] / ours
                ratios.add(
                    slots,
                    variant,
                    vs_optuna,
                    h.verdict(vs_optuna, 1.2),
                    vs_xargs,
                    h.verdict(vs_xargs, 0.7),
                    med["posix-spawn"] / ours,
                    med[f"bare-{backend}"] / ours,
                )
            if baseline is not None:
                speedup = med["hyperdeme-before"] / med["hyperdeme-after"]
                ratios.notes.append(
                    f"{slots} slots: this tree {speedup:.2f}x as fast as {args.baseline} "
                    "(hyperdeme-after vs hyperdeme-before, both in child processes)"
                )
        disk["after"] = h.disk_latency(root)
    times.notes.append(
        f"run path on {fs}; disk latency before/after (median of 30): fsync of a journal line "
        f"{disk['before']['fsync_ms']:.2f}/{disk['after']['fsync_ms']:.2f} ms, a directory with "
        f"3 files {disk['before']['trial_dir_ms']:.2f}/{disk['after']['trial_dir_ms']:.2f} ms"
    )
    return h.save_benchmark(
        "processes",
        quick,
        [times, ratios],
        settings={
            "trials": trials,
            "slots": slot_counts,
            "repeats": repeats,
            "command": COMMAND,
            "filesystem": fs,
            "baseline": args.baseline or None,
            "disk_latency_ms": disk,
        },
        results=data,
    )
