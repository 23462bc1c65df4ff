"""Tune the learning rate and momentum of train.py by population-based training.

A crayai.hpo-style script (only the import line would differ from one for
crayai): run it from anywhere.

    python3 examples/pbt/optimize.py                 # hpo.pbt.Optimizer: Jaderberg et al.'s PBT
    python3 examples/pbt/optimize.py --sync          # ... with a barrier after each step
    python3 examples/pbt/optimize.py --genetic       # crayai's PBT: the genetic optimizer,
                                                     # each child continuing its fitter parent

Each evaluation trains one epoch, resuming from ``@checkpoint/model.npz``.
"""

import argparse
import os
import sys

from hyperdeme import hpo

here = os.path.dirname(os.path.abspath(__file__))

parser = argparse.ArgumentParser()
parser.add_argument("--genetic", action="store_true", help="crayai's PBT (genetic optimizer)")
parser.add_argument("--sync", action="store_true", help="PBT with a barrier after each step")
parser.add_argument("--population", type=int, default=8)
parser.add_argument("--steps", type=int, default=12, help="epochs each member trains")
parser.add_argument("--gens_per_epoch", type=int, default=1)
parser.add_argument("--parallel", type=int, default=4)
parser.add_argument("--run-path", default="run")
parser.add_argument("--checkpoint", default="./checkpoints")
parser.add_argument("--seed", type=int, default=1)
cli = parser.parse_args()

checkpoint_file = "@checkpoint/model.npz"
evaluator = hpo.Evaluator(
    f"{sys.executable} train.py --epochs 1 "
    f"--load_checkpoint {checkpoint_file} --save_checkpoint {checkpoint_file}",
    src_path=here,
    run_path=cli.run_path,
    checkpoint=cli.checkpoint,
    num_parallel_evals=cli.parallel,
)

params = hpo.Params(
    [
        ["--lr", 0.05, (1e-3, 1.0), {"log": True}],
        ["--momentum", 0.9, (0.0, 0.99)],
    ]
)

if cli.genetic:
    optimizer = hpo.genetic.Optimizer(
        evaluator,
        generations=cli.steps * cli.gens_per_epoch,
        gens_per_epoch=cli.gens_per_epoch,
        num_demes=1,
        pop_size=cli.population,
        mutation_rate=0.3,
        verbose=True,
        name="moons_ga_pbt",
        seed=cli.seed,
    )
else:
    optimizer = hpo.pbt.Optimizer(
        evaluator,
        population=cli.population,
        steps=cli.steps,
        mode="sync" if cli.sync else "async",
        verbose=True,
        name="moons_pbt",
        seed=cli.seed,
    )

result = optimizer.optimize(params)

print("best FoM:", optimizer.best_fom)
print("best params:", " ".join(f"{k}={v:.4g}" for k, v in optimizer.best_params.items()))
best = result.best_trial
if best is not None:
    print("its weights descend from trials", " -> ".join(map(str, result.lineage(best.id))))
for member, steps in result.schedules().items():
    schedule = " ".join(f"{s.params['--lr']:.3g}" for s in steps)
    print(f"member {member}: lr per epoch {schedule}; last FoM {steps[-1].fom:.4f}")
