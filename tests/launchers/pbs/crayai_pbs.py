"""A crayai.hpo genetic search in the shape of crayai's examples, run against the real
PBS server by the tests: only the import line differs from crayai.

``python crayai_pbs.py RUN_PATH``: ``workload_manager='pbs'``, two evaluations at a time,
each one ``qsub`` job running the engine's test kernel.
"""

import sys
from pathlib import Path

from hyperdeme import hpo  # was: from crayai import hpo

kernel = Path(__file__).parents[2] / "kernels" / "kernel.py"
evaluator = hpo.Evaluator(
    f"{sys.executable} {kernel}",
    run_path=sys.argv[1],
    workload_manager="pbs",
    num_parallel_evals=2,
    verbose=True,
)
params = hpo.Params([["--x", 0.5, (0.0, 1.0)], ["--n", 5, (1, 10)]])
optimizer = hpo.genetic.Optimizer(
    evaluator,
    pop_size=2,
    num_demes=1,
    generations=2,
    mutation_rate=0.5,
    verbose=True,
    log_fn="crayai.log",
    seed=3,
)
optimizer.optimize(params)
print("best FoM:", optimizer.best_fom)
