"""The network of train.py tuned as a Python objective: step reports and PBT, no program.

    python3 examples/pbt/optimize_function.py              # PBT, members in worker threads
    python3 examples/pbt/optimize_function.py --process    # ... in worker processes
    python3 examples/pbt/optimize_function.py --asha       # random search, 27 epochs a trial,
                                                           # hopeless ones stopped by ASHA

The objective takes a trial handle (``def f(params, trial)``): it reports the
validation loss of every epoch with ``trial.report`` (ASHA stops a hopeless
trial there: ``report`` raises ``hyperdeme.Stopped``) and keeps its weights in
``trial.checkpoint_dir``, which PBT fills with the checkpoint a member continues.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import hyperdeme

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # train.py, beside this file
from train import load, make_data, new_state, save, train_epoch

DATA = make_data()


def train_slice(params: dict[str, Any], trial: hyperdeme.TrialContext) -> float:
    """PBT: one epoch, from the weights in ``trial.checkpoint_dir`` (or fresh ones)."""
    assert trial.checkpoint_dir is not None  # PBT plans one for every evaluation
    path = Path(trial.checkpoint_dir, "model.npz")
    state = load(path) if path.exists() else new_state()
    state = train_epoch(state, DATA, params["--lr"], params["--momentum"])
    val_loss = float(state["history"][-1]["val_loss"])
    trial.report(val_loss, step=1)
    save(state, path)
    return val_loss


def train_27_epochs(params: dict[str, Any], trial: hyperdeme.TrialContext) -> float:
    """ASHA: a whole training, each epoch's loss reported (and judged) as it comes."""
    state = new_state()
    for epoch in range(1, 28):
        state = train_epoch(state, DATA, params["--lr"], params["--momentum"])
        trial.report(float(state["history"][-1]["val_loss"]), step=epoch)
    return float(state["history"][-1]["val_loss"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--process", action="store_true", help="run in worker processes")
    parser.add_argument("--asha", action="store_true", help="random search with ASHA")
    parser.add_argument("--population", type=int, default=8)
    parser.add_argument("--steps", type=int, default=12, help="PBT: epochs each member trains")
    parser.add_argument("--trials", type=int, default=20, help="ASHA: trials")
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--run-path", default="run")
    parser.add_argument("--seed", type=int, default=1)
    cli = parser.parse_args()

    params = hyperdeme.Params(
        [["--lr", 0.05, (1e-3, 1.0), {"log": True}], ["--momentum", 0.9, (0.0, 0.99)]]
    )
    runs_in = "process" if cli.process else "thread"
    optimizer: hyperdeme.Optimizer
    if cli.asha:
        evaluator = hyperdeme.Evaluator(
            train_27_epochs,
            run_path=cli.run_path,
            num_parallel_evals=cli.parallel,
            function_runs_in=runs_in,
            early_stopping=hyperdeme.ASHA(max_steps=27, min_steps=3),
        )
        optimizer = hyperdeme.RandomOptimizer(
            evaluator, num_iters=cli.trials, seed=cli.seed, name="moons_asha"
        )
    else:
        evaluator = hyperdeme.Evaluator(
            train_slice,
            run_path=cli.run_path,
            num_parallel_evals=cli.parallel,
            function_runs_in=runs_in,
        )
        optimizer = hyperdeme.PBTOptimizer(
            evaluator, population=cli.population, steps=cli.steps, seed=cli.seed, name="moons_pbt"
        )
    result = optimizer.optimize(params)

    print("best FoM:", result.best_fom)
    print("stopped early:", result.n_stopped, "of", len(result.trials))
    best = result.best_trial
    if best is not None and not cli.asha:
        print("its weights descend from trials", " -> ".join(map(str, result.lineage(best.id))))


if __name__ == "__main__":  # worker processes import this file: nothing may run at import
    main()
