"""A training program as crayai's examples wrote them: flags in, ``FoM: <value>`` out.

FoM = ``(x - 0.3)^2 + 0.01 * (n - 5)^2``. It first prints a line naming its
hyperparameters, the output ``verbose=True`` shows under each trial's line.
"""

import argparse

parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float, default=0.5)
parser.add_argument("--n", type=int, default=5)
args = parser.parse_args()
print(f"training x={args.x!r} n={args.n}")
print(f"FoM: {(args.x - 0.3) ** 2 + 0.01 * (args.n - 5) ** 2!r}")
