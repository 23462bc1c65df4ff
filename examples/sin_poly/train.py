"""A tiny "training program": a degree-6 polynomial approximating sin on [-pi, pi].

The seven coefficients are its hyperparameters (``--c0`` ... ``--c6``); it
prints the mean squared error against sin as ``FoM: <value>`` after each
"epoch" (here: each refinement of the evaluation grid), like a real training
script printing its validation loss. Lower is better; the defaults (all
zero) give about 0.5.
"""

import argparse
import math


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    for k in range(7):
        parser.add_argument(f"--c{k}", type=float, default=0.0)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    coefficients = [getattr(args, f"c{k}") for k in range(7)]
    for epoch in range(1, args.epochs + 1):
        points = 50 * epoch
        error = 0.0
        for i in range(points):
            x = -math.pi + 2 * math.pi * i / (points - 1)
            y = sum(c * x**k for k, c in enumerate(coefficients))
            error += (y - math.sin(x)) ** 2
        print(f"epoch {epoch}: FoM: {error / points:.10g}", flush=True)


if __name__ == "__main__":
    main()
