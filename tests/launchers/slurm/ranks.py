"""A rank-aware test program for multi-node evaluations.

Each task appends what it sees to ``--record`` (a JSON line: its rank, the task
count, its host, ``HYPERDEME_HOSTS``, the job's and the step's node lists); only
rank 0 writes the checkpoint (one line appended to ``<--checkpoint>/writes``).
Every task prints ``FoM: <x + rank>``, the others after rank 0, so a FoM read
from anything but rank 0's output is wrong.
"""

import argparse
import json
import os
import socket
import time
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float, default=0.5)
parser.add_argument("--record", required=True)
parser.add_argument("--checkpoint", default="")
args = parser.parse_args()

rank = int(os.environ.get("SLURM_PROCID", "0"))
seen = {
    "rank": rank,
    "ntasks": os.environ.get("SLURM_NTASKS"),
    "host": os.environ.get("SLURMD_NODENAME", socket.gethostname()),
    "hosts": os.environ.get("HYPERDEME_HOSTS"),
    "job_nodes": os.environ.get("SLURM_JOB_NODELIST"),
    "step_nodes": os.environ.get("SLURM_STEP_NODELIST"),
    "checkpoint": args.checkpoint,
}
with open(args.record, "a") as handle:
    handle.write(json.dumps(seen) + "\n")
if rank == 0 and args.checkpoint:
    with open(Path(args.checkpoint) / "writes", "a") as handle:
        handle.write(f"{os.getpid()}\n")
else:
    time.sleep(0.5)  # the other ranks' FoM lines come last
print(f"FoM: {args.x + rank}", flush=True)
