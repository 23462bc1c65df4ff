"""A driver process for crash tests: a long random search of kernel.py, journalled.

Usage: driver.py RUN_PATH MARKER. Runs until killed (1000 evaluations of a
kernel that sleeps 0.1 s, 4 at a time); the kernels carry MARKER in their argv.
"""

import sys
from pathlib import Path

import hyperdeme

run_path, marker = sys.argv[1], sys.argv[2]
kernel = Path(__file__).with_name("kernel.py")
evaluator = hyperdeme.Evaluator(
    f"{sys.executable} {kernel} --sleep=0.1 --marker={marker}",
    num_parallel_evals=4,
    workload_manager="local",
    run_path=run_path,
)
params = hyperdeme.Params([["--x", 0.5, (0.0, 1.0)], ["--n", 3, (1, 10)]])
hyperdeme.RandomOptimizer(evaluator, num_iters=1000, seed=1, name="crash").optimize(params)
