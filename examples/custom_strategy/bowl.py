"""The objective as a program, for ``hyperdeme run experiment.toml``: prints its FoM."""

import argparse

parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float, required=True)
parser.add_argument("--y", type=float, required=True)
parser.add_argument("--act", choices=["relu", "tanh"], required=True)
args = parser.parse_args()
print("FoM:", (args.x - 0.7) ** 2 + 2 * (args.y + 0.3) ** 2 + (args.act != "tanh"))
