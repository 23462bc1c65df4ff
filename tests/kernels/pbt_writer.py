"""A PBT training program that records in its checkpoint which trial wrote it.

``pbt_writer.py DIR --lr=LR --momentum=M``: loads ``DIR/state.json`` (absent:
fresh weights), prints ``loaded: <the trial that wrote it, or null>``, trains
one "epoch" (20 steps of gradient descent with momentum on an ill-conditioned
quadratic), saves the state with ``writer`` set to its own trial id (the name
of its run directory, the current directory) and prints ``FoM: <loss>``.
Standard library only, so a run costs little more than starting Python.
"""

import argparse
import json
import math
import os
from pathlib import Path

CURVATURES = (1.0, 10.0, 100.0)
STEPS = 20

parser = argparse.ArgumentParser()
parser.add_argument("directory")
parser.add_argument("--lr", type=float, default=0.01)
parser.add_argument("--momentum", type=float, default=0.5)
args = parser.parse_args()

path = Path(args.directory) / "state.json"
state = json.loads(path.read_text()) if path.exists() else {"writer": None, "w": [1.0] * 3}
state.setdefault("v", [0.0] * 3)
print(f"loaded: {json.dumps(state['writer'])}", flush=True)
w, v = state["w"], state["v"]
for _ in range(STEPS):
    for i, c in enumerate(CURVATURES):
        v[i] = args.momentum * v[i] - args.lr * c * w[i]
        w[i] = max(-1e6, min(1e6, w[i] + v[i]))
loss = sum(c * x * x for c, x in zip(CURVATURES, w, strict=True)) / 2
state.update(writer=int(os.path.basename(os.getcwd())), w=w, v=v)
path.write_text(json.dumps(state))
print(f"FoM: {min(loss, 1e3) if math.isfinite(loss) else 1e3!r}", flush=True)
