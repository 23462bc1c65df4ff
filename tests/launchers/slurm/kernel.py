"""A Slurm test kernel: reports where it ran and when, then prints its FoM.

Flags: --x (FoM = (x - 0.3)^2), --sleep seconds (default: $KERNEL_SLEEP, else 0),
--hang-first-attempt <file>
(the first run touches the file and hangs until killed), --record <file>
(append a JSON line: step, node, nodelists, start, end).
"""

import argparse
import json
import os
import socket
import time
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float, default=0.5)
parser.add_argument("--N", type=int, default=1)
parser.add_argument("--sleep", type=float, default=float(os.environ.get("KERNEL_SLEEP", 0)))
parser.add_argument("--hang-first-attempt", default="")
parser.add_argument("--hang-on", default="", help="hang when running on this host")
parser.add_argument("--record", default="")
args = parser.parse_args()

start = time.time()
if args.hang_first_attempt and not Path(args.hang_first_attempt).exists():
    Path(args.hang_first_attempt).write_text(os.environ.get("SLURM_STEP_ID", "?"))
    time.sleep(600)
host = os.environ.get("SLURMD_NODENAME", socket.gethostname())
if args.hang_on and host == args.hang_on:
    time.sleep(600)
time.sleep(args.sleep)
if args.record and os.environ.get("SLURM_PROCID", "0") == "0":
    record = {
        "x": args.x,
        "step": os.environ.get("SLURM_STEP_ID"),
        "job": os.environ.get("SLURM_JOB_ID"),
        "host": host,
        "step_nodes": os.environ.get("SLURM_STEP_NODELIST"),
        "job_nodes": os.environ.get("SLURM_JOB_NODELIST"),
        "nnodes": os.environ.get("SLURM_STEP_NUM_NODES"),
        "gpus": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "trial": os.environ.get("HYPERDEME_TRIAL"),
        "start": start,
        "end": time.time(),
    }
    with open(args.record, "a") as handle:
        handle.write(json.dumps(record) + "\n")
print(f"FoM: {(args.x - 0.3) ** 2}", flush=True)
