"""A training curve: ``curve.py --x=X [--epochs=N]`` prints ``FoM: <fom(x, epoch)>`` for
each epoch, the same values a Python objective reports in ``tests/driver/test_function_steps.py``
(which imports :func:`fom` from here), so a program and a function can be compared."""

import argparse


def fom(x: float, epoch: int) -> float:
    """Falls with the epochs towards ``x``; a larger ``x`` starts lower and ends higher,
    so the curves cross and a rung can stop what would have ended best."""
    return (x - 0.3) ** 2 + (1.0 - 0.5 * x) / epoch


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--x", type=float, required=True)
    parser.add_argument("--epochs", type=int, default=27)
    args = parser.parse_args()
    for epoch in range(1, args.epochs + 1):
        print(f"epoch {epoch}: FoM: {fom(args.x, epoch)!r}", flush=True)
