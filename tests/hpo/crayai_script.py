"""A crayai.hpo driver script whose only change is its import line.

Run from the directory the test chooses: ``python crayai_script.py OPTIMIZER
[--verbose] [--mode MODE] [--backend NAME] [--run-path DIR] [--native]``.
``--native`` runs hyperdeme's own optimizer of the same name instead, which
must print nothing and keep ``log_fn`` in its run directory.
"""

import argparse
import sys
from pathlib import Path

import hyperdeme
from hyperdeme import hpo  # was: from crayai import hpo

parser = argparse.ArgumentParser()
parser.add_argument("optimizer", choices=["genetic", "random", "grid"])
parser.add_argument("--verbose", action="store_true")
parser.add_argument("--mode", default="steady")
parser.add_argument("--backend", default="asyncio")
parser.add_argument("--run-path", default="")
parser.add_argument("--native", action="store_true")
args = parser.parse_args()

train = Path(__file__).with_name("crayai_train.py")
paths = {"run_path": args.run_path} if args.run_path else {}
evaluator = hpo.Evaluator(
    f"{sys.executable} {train}",
    num_parallel_evals=2,
    workload_manager="local",
    verbose=args.verbose,
    **paths,
)
params = hpo.Params([["--x", 0.5, (-1.0, 1.0)], ["--n", 5, (1, 9)]])
common = {"verbose": args.verbose, "backend": args.backend, "log_fn": f"{args.optimizer}.log"}
module = hyperdeme if args.native else hpo
if args.optimizer == "genetic":
    optimizer = module.GeneticOptimizer(
        evaluator, generations=3, num_demes=2, pop_size=3, mutation_rate=0.5, mode=args.mode,
        seed=7, **common,
    )  # fmt: skip
elif args.optimizer == "random":
    optimizer = module.RandomOptimizer(evaluator, num_iters=4, seed=7, **common)
else:
    optimizer = module.GridOptimizer(evaluator, grid_size=2, **common)
optimizer.optimize(params)
