"""Run the coordinate search on a function: ``python3 examples/custom_strategy/optimize.py``."""

from __future__ import annotations

from typing import Any

from coordinate import CoordinateSearch

import hyperdeme


def bowl(params: dict[str, Any]) -> float:
    """A tilted bowl, lowest (0) at x=0.7, y=-0.3 with tanh; a training run in real life."""
    x, y = params["--x"], params["--y"]
    return float((x - 0.7) ** 2 + 2 * (y + 0.3) ** 2 + (params["--act"] != "tanh"))


SPACE = hyperdeme.Params(
    [["--x", -1.0, (-2.0, 2.0)], ["--y", 2.0, (-1.0, 3.0)], ["--act", "relu", ["relu", "tanh"]]]
)


def main(run_path: str = "run") -> hyperdeme.Result:
    evaluator = hyperdeme.Evaluator(bowl, run_path=run_path, num_parallel_evals=4)
    optimizer = hyperdeme.Optimizer(evaluator, strategy=CoordinateSearch, seed=1)
    return optimizer.optimize(SPACE)


if __name__ == "__main__":
    result = main()
    print(f"best FoM {result.best_fom:.4g} at {result.best_params}")
