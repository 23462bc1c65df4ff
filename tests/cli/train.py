"""A small training program for the command's tests; its FoM is a function of its flags.

Hyperparameters: ``--lr`` (> 0), ``--optimizer`` (sgd, adam, or broken: exit 1,
a failed trial), ``--momentum`` (only passed for sgd), ``--layers`` (int).
FoM = (log10(lr) + 2)^2 + 0.1 (layers - 3)^2 + optimizer term, printed in
round-trip form as ``FoM: <value>``.

``--show-status``: first print ``hyperdeme status`` of its own run directory
(the parent of the working directory, the trial's directory), run while this
trial is running.
"""

import argparse
import math
import subprocess
import sys
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=0.1)
parser.add_argument("--optimizer", default="sgd")
parser.add_argument("--momentum", type=float, default=None)
parser.add_argument("--layers", type=int, default=3)
parser.add_argument("--show-status", action="store_true")
args = parser.parse_args()

if args.show_status:
    status = subprocess.run(
        [sys.executable, "-m", "hyperdeme", "status", str(Path.cwd().parent)],
        capture_output=True,
        text=True,
        check=True,
    )
    print(status.stdout, flush=True)
if args.optimizer == "broken":
    print("this optimizer is broken", file=sys.stderr)
    sys.exit(1)
fom = (math.log10(args.lr) + 2) ** 2 + 0.1 * (args.layers - 3) ** 2
if args.optimizer == "sgd":
    fom += 0.05 + ((args.momentum if args.momentum is not None else 0.0) - 0.9) ** 2
print(f"FoM: {fom!r}")
