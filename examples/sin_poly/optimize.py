"""Fit a polynomial to sin with a genetic search: a crayai.hpo script, unchanged but
for its import line (``from crayai import hpo`` -> ``from hyperdeme import hpo``).

Run it from anywhere: ``python3 examples/sin_poly/optimize.py [--generations N]``.
"""

import argparse
import os
import sys

from hyperdeme import hpo

here = os.path.dirname(os.path.abspath(__file__))

parser = argparse.ArgumentParser()
parser.add_argument("--generations", type=int, default=10)
parser.add_argument("--pop-size", type=int, default=16)
parser.add_argument("--num-demes", type=int, default=2)
parser.add_argument("--parallel", type=int, default=2)
parser.add_argument("--run-path", default="run")
parser.add_argument("--seed", type=int, default=0)
cli = parser.parse_args()

evaluator = hpo.Evaluator(
    f"{sys.executable} train.py --epochs 2",
    src_path=here,
    run_path=cli.run_path,
    num_parallel_evals=cli.parallel,
    verbose=False,
)

params = hpo.Params(
    [
        ["--c0", 0.0, (-1.0, 1.0)],
        ["--c1", 0.0, (-2.0, 2.0)],
        ["--c2", 0.0, (-1.0, 1.0)],
        ["--c3", 0.0, (-1.0, 1.0)],
        ["--c4", 0.0, (-0.1, 0.1)],
        ["--c5", 0.0, (-0.1, 0.1)],
        ["--c6", 0.0, (-0.01, 0.01)],
    ]
)

optimizer = hpo.genetic.Optimizer(
    evaluator,
    generations=cli.generations,
    num_demes=cli.num_demes,
    pop_size=cli.pop_size,
    mutation_rate=0.3,
    crossover_rate=0.33,
    migration_interval=2,
    verbose=True,
    log_fn="sin_poly.log",
    name="sin_poly",
    seed=cli.seed,
)

optimizer.optimize(params)

print("best FoM:", optimizer.best_fom)
print("best params:", " ".join(f"{k}={v:.4g}" for k, v in optimizer.best_params.items()))
