"""A crayai.hpo PBT script in the SC19 examples' shape, run by sbatch in the Slurm tests.

Only the import line differs from crayai: ``nodes`` defaults to 1 and
``alloc_jobid`` to 0 as in those scripts' argparse, ``launcher='wlm'``,
``checkpoint`` plus ``@checkpoint`` switch the genetic optimizer to PBT. Each
evaluation prints the Slurm step it ran in, then trains one epoch of
``examples/pbt/train.py``.
"""

import argparse
import os
import sys

from hyperdeme import hpo

parser = argparse.ArgumentParser()
parser.add_argument("--gens_per_epoch", type=int, default=1)
parser.add_argument("--nodes", type=int, default=1)
parser.add_argument("--nodes_per_eval", type=int, default=1)
parser.add_argument("--alloc_job_id", type=int, default=0)
parser.add_argument("--pop_size", type=int, default=3)
parser.add_argument("--generations", type=int, default=2)
parser.add_argument("--checkpoint", default="./checkpoints")
parser.add_argument("--run_path", default="./runs")
parser.add_argument("--example", required=True, help="examples/pbt")
args = parser.parse_args()

params = hpo.Params([["--lr", 0.05, (1e-3, 1.0)], ["--momentum", 0.9, (0.0, 0.99)]])
model = "@checkpoint/model.npz"
cmd = (
    'echo "slurm step $SLURM_JOB_ID.$SLURM_STEP_ID"; '
    f"{sys.executable} {os.path.join(args.example, 'train.py')} --epochs 1 "
    f"--load_checkpoint {model} --save_checkpoint {model}"
)
evaluator = hpo.Evaluator(
    cmd,
    run_path=args.run_path,
    nodes=args.nodes,
    launcher="wlm",
    verbose=True,
    nodes_per_eval=args.nodes_per_eval,
    checkpoint=args.checkpoint,
    alloc_jobid=args.alloc_job_id,
)
optimizer = hpo.genetic.Optimizer(
    evaluator,
    gens_per_epoch=args.gens_per_epoch,
    pop_size=args.pop_size,
    num_demes=1,
    generations=args.generations,
    mutation_rate=0.5,
    verbose=True,
    name="sc19",
    seed=3,
)
optimizer.optimize(params)
print("best FoM:", optimizer.best_fom)
