"""A hyperdeme driver the real-PBS tests run as the test user (``scripts/pbs-exec``), or
inside a PBS job, as a user would run theirs.

``python drive.py RUN_PATH [--search genetic|random] [--evals N] [--parallel K]
[--kernel "ARGS"] [--eval-timeout S] [--asha] [--alloc-args A]
[--alloc-timeout MINUTES] [--alloc-wait SECONDS] [--resume]
[--show-task] [--python NAME]``

Each evaluation runs the engine's test kernel (``tests/kernels/kernel.py``, FoM
``(x - 0.3)^2 + 0.01 (n - 5)^2``) with ``ARGS`` through the PBS launcher
(``workload_manager="pbs"``): one ``qsub`` job per evaluation outside a PBS job,
``pbsdsh`` on the job's hosts inside one. The journal is
``RUN_PATH/pbs/trials.jsonl``.
"""

import argparse
import shlex
import sys
from pathlib import Path

import hyperdeme

KERNEL = Path(__file__).parents[2] / "kernels" / "kernel.py"

parser = argparse.ArgumentParser()
parser.add_argument("run_path")
parser.add_argument("--search", choices=["genetic", "random"], default="random")
parser.add_argument("--evals", type=int, default=4)
parser.add_argument("--parallel", type=int, default=2)
parser.add_argument(
    "--kernel", default="", help='the kernel\'s flags, as one word: --kernel="--sleep=1 --hang"'
)
parser.add_argument("--eval-timeout", type=float, default=0.0)
parser.add_argument("--asha", action="store_true")
parser.add_argument("--alloc-args", default="")
parser.add_argument("--alloc-timeout", type=int, default=10, help="minutes: the jobs' walltime")
parser.add_argument("--alloc-wait", type=float, default=float("inf"), help="seconds queued")
parser.add_argument("--resume", action="store_true")
parser.add_argument("--show-task", action="store_true", help="first print PBS_JOBID, PBS_TASKNUM")
parser.add_argument("--python", default=sys.executable, help="the kernel's python (a name: PATH's)")
args = parser.parse_args()

source = Path(args.run_path) / "src"
source.mkdir(parents=True, exist_ok=True)
command = shlex.join([args.python, str(KERNEL), *shlex.split(args.kernel)])
if args.show_task:
    command = f'echo "pbs task: job=$PBS_JOBID task=$PBS_TASKNUM host=$(hostname)"; {command}'
evaluator = hyperdeme.Evaluator(
    command,
    run_path=args.run_path,
    src_path=str(source),
    workload_manager="pbs",
    num_parallel_evals=args.parallel,
    eval_timeout=args.eval_timeout,
    alloc_args=args.alloc_args,
    alloc_timeout=args.alloc_timeout,
    launcher_options={"poll_interval": 0.25, "alloc_wait": args.alloc_wait},
    early_stopping=hyperdeme.ASHA(max_steps=4, reduction_factor=2) if args.asha else None,
)
space = hyperdeme.Params([["--x", 0.3, (0.0, 1.0)], ["--n", 5, (1, 10)]])
optimizer: hyperdeme.Optimizer
if args.search == "genetic":
    optimizer = hyperdeme.GeneticOptimizer(
        evaluator, generations=2, num_demes=1, pop_size=args.evals // 2, seed=11, name="pbs"
    )
else:
    optimizer = hyperdeme.RandomOptimizer(evaluator, num_iters=args.evals, seed=5, name="pbs")
optimizer.optimize(space, resume=args.resume)
