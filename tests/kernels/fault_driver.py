"""A driver process for the fault tests: a random search of faulty.sh, stopped from outside.

Usage: fault_driver.py RUN_PATH --marker=M --src-path=DIR --backend=asyncio|trio [options]

Runs the experiment ``RUN_PATH/<name>`` (a random search of ``faulty.sh`` over
:data:`SPACE`) in the blocking form, ``opt.optimize(params)``, so Ctrl-C and SIGTERM
take the library's own path; ``--stream`` runs it with ``hyperdeme.stream`` in
``anyio.run`` instead. Options:

--report=FILE     what the run reported, one JSON line per trial (id, status, fom):
                  with --stream each trial as it arrives (flushed at once), else
                  ``opt.result.trials`` when ``optimize`` returns or raises
--side-log=FILE   the kernels append each completed evaluation to FILE (FAULT_LOG)
--resume          resume the experiment
--go              print "ready" and wait for a line on stdin before running
$FAULT_DRIVER_STARTED  a file created once the interpreter is up (a signal now is the driver's)
--nofile=EXTRA    before running, limit RLIMIT_NOFILE to the open descriptors + EXTRA
--nofile-max=N    before running, limit RLIMIT_NOFILE to N (``ulimit -n N``)
--retry-delay=S   the Evaluator's retry_delay (its default otherwise)
--fsize=BYTES     before running, limit RLIMIT_FSIZE to BYTES (SIGXFSZ ignored, so a
                  write past it fails with EFBIG: a disk full, without root)
--kernel=ARGS     more arguments for faulty.sh ("--stubborn --sleep=0.05")
--strategy=NAME   random (default), cmaes or optuna (TPE)

Tests build the very same optimizer in-process with :func:`optimizer` (to resume).
"""

from __future__ import annotations

import signal

if __name__ == "__main__":
    # Ctrl-C during `import numpy` turns into numpy's ImportError (exit 1): Python's start-up,
    # not the library's signal path. A driver takes SIGINT once its imports are done.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    # The interpreter is up (a signal before this is Python's start-up, not the driver's:
    # SIGINT during site's import is "Fatal Python error: init_import_site", exit 1):
    # say so to a test that waits for it ($FAULT_DRIVER_STARTED names a file to create).
    import os as _os

    if _os.environ.get("FAULT_DRIVER_STARTED"):
        open(_os.environ["FAULT_DRIVER_STARTED"], "x").close()

import argparse
import json
import os
import resource
import shlex
import sys
from pathlib import Path

import anyio

import hyperdeme

KERNEL = Path(__file__).with_name("faulty.sh")
SPACE = hyperdeme.Params([["--x", 0.1, (0.0, 1.0)], ["--n", 3, (1, 10)]])


def optimizer(
    run_path: str | os.PathLike[str],
    *,
    marker: str,
    src_path: str | os.PathLike[str],
    backend: str = "asyncio",
    name: str = "exp",
    num_iters: int = 30,
    slots: int = 4,
    seed: int = 1,
    kernel: str = "",
    side_log: str | os.PathLike[str] | None = None,
    strategy: str = "random",
    **settings: object,
) -> hyperdeme.Optimizer:
    """The experiment: ``num_iters`` evaluations of faulty.sh, ``slots`` at a time, by
    random search (or ``strategy="cmaes"`` / ``"optuna"``: CMA-ES, Optuna's TPE)."""
    command = f"bash {shlex.quote(str(KERNEL))} --marker={marker} {kernel}".strip()
    evaluator = hyperdeme.Evaluator(
        command,
        workload_manager="local",
        run_path=str(run_path),
        src_path=str(src_path),
        num_parallel_evals=slots,
        env={"FAULT_LOG": str(Path(side_log).absolute())} if side_log else {},
        **settings,  # type: ignore[arg-type]
    )
    if strategy == "cmaes":
        return hyperdeme.CMAESOptimizer(
            evaluator,
            max_evals=num_iters,
            popsize=4,
            seed=seed,
            name=name,
            backend=backend,  # type: ignore[arg-type]
        )
    if strategy == "optuna":
        return hyperdeme.OptunaOptimizer(
            evaluator,
            sampler="tpe",
            max_evals=num_iters,
            seed=seed,
            name=name,
            backend=backend,  # type: ignore[arg-type]
        )
    return hyperdeme.RandomOptimizer(
        evaluator,
        num_iters=num_iters,
        seed=seed,
        name=name,
        backend=backend,  # type: ignore[arg-type]
    )


def report_line(trial: hyperdeme.Trial) -> bytes:
    return (
        json.dumps({"id": trial.id, "status": trial.status.value, "fom": str(trial.fom)}) + "\n"
    ).encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run_path")
    parser.add_argument("--marker", required=True)
    parser.add_argument("--src-path", required=True)
    parser.add_argument("--backend", default="asyncio")
    parser.add_argument("--name", default="exp")
    parser.add_argument("--num-iters", type=int, default=30)
    parser.add_argument("--slots", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kernel", default="")
    parser.add_argument("--side-log", default="")
    parser.add_argument("--report", default="")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--go", action="store_true")
    parser.add_argument("--nofile", type=int, default=0)
    parser.add_argument("--nofile-max", type=int, default=0)
    parser.add_argument("--retry-delay", type=float, default=None)
    parser.add_argument("--fsize", type=int, default=0)
    parser.add_argument("--strategy", default="random")
    args = parser.parse_args()
    opt = optimizer(
        args.run_path,
        marker=args.marker,
        src_path=args.src_path,
        backend=args.backend,
        name=args.name,
        num_iters=args.num_iters,
        slots=args.slots,
        seed=args.seed,
        kernel=args.kernel,
        side_log=args.side_log or None,
        strategy=args.strategy,
        **({} if args.retry_delay is None else {"retry_delay": args.retry_delay}),
    )
    report = os.open(args.report or os.devnull, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    if args.go:
        print("ready", flush=True)
        sys.stdin.readline()
    if args.nofile:
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        limit = len(os.listdir("/proc/self/fd")) + args.nofile
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    if args.nofile_max:
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (args.nofile_max, hard))
    if args.fsize:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (args.fsize, hard))
    if args.stream:

        async def streamed() -> None:
            async with hyperdeme.stream(opt, SPACE, resume=args.resume) as trials:
                async for trial in trials:
                    os.write(report, report_line(trial))

        anyio.run(streamed, backend=args.backend)
        return
    try:
        opt.optimize(SPACE, resume=args.resume)
    finally:
        if opt.result is not None:
            os.write(report, b"".join(report_line(t) for t in opt.result.trials))


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # one sent meanwhile comes now
    main()
