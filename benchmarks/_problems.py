"""The search-quality problems of issue #13; every FoM is minimized.

Where the optimum is known the FoM is the *regret* (value minus the optimum),
so 0 is perfect. The optimum of each 10-D function is moved off the centre of
its box by a fixed, documented shift (``SHIFTS``): a search that starts at
the centre, or favours it, gains nothing.

| problem | box | optimum at |
| --- | --- | --- |
| sphere-10d | [-5.12, 5.12]^10 | centre + ``FRACTIONS`` * half-width |
| rastrigin-10d | [-5.12, 5.12]^10 | 2.3 in every coordinate (issue #13's table) |
| rosenbrock-10d | [-5, 10]^10 | centre + ``FRACTIONS`` * half-width |
| ackley-10d | [-32.768, 32.768]^10 | ``FRACTIONS`` * 32.768 |
| branin | [-5, 10] x [0, 15] | its three classic minima (0.397887 subtracted) |
| hartmann-6d | [0, 1]^6 | the classic minimum (-3.32237 subtracted) |
| ellipsoid-10d | [-5, 5]^10 | centre + ``FRACTIONS`` * half-width, axes rotated (``ROTATION``) |
| mixed | see ``MIXED`` | sgd, lr 0.05, momentum 0.9, 3 layers, 128 units, dropout 0.2, relu |
| sgd-digits | see ``DIGITS`` | unknown: validation error of scikit-learn's SGDClassifier |
| learning-curve | see ``CURVE`` | lr 3e-3, width 64, wd 1e-4, batch 64: 0.05 after 27 epochs |
"""

from __future__ import annotations

import functools
import itertools
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import learning_curve
from ._spaces import Cond, Dim, Space

#: each 10-D optimum sits at centre + FRACTIONS[i] * half-width (Rastrigin: 2.3 everywhere)
FRACTIONS = (0.45, -0.32, 0.61, -0.55, 0.27, -0.68, 0.38, -0.21, 0.52, -0.43)
DIM = 10


@dataclass(frozen=True)
class Problem:
    name: str
    space: Space
    objective: Callable[[Mapping[str, Any]], float]
    description: str
    #: epochs of a learning curve (early stopping, PBT apply); 0: a one-shot objective
    epochs: int = 0
    #: the loss after each epoch (problems with epochs); ``objective`` is its last value
    curve: Callable[[Mapping[str, Any]], list[float]] | None = None


def _box(low: float, high: float, dim: int = DIM) -> Space:
    return Space(tuple(Dim(f"--x{i}", "float", low, high) for i in range(dim)))


def _shift(low: float, high: float) -> tuple[float, ...]:
    centre, half = (low + high) / 2, (high - low) / 2
    return tuple(centre + f * half for f in FRACTIONS)


SHIFTS = {
    "sphere-10d": _shift(-5.12, 5.12),
    "rastrigin-10d": (2.3,) * DIM,
    "rosenbrock-10d": _shift(-5.0, 10.0),
    "ackley-10d": _shift(-32.768, 32.768),
    "ellipsoid-10d": _shift(-5.0, 5.0),
}


def _xs(params: Mapping[str, Any], shift: tuple[float, ...]) -> list[float]:
    return [float(params[f"--x{i}"]) - s for i, s in enumerate(shift)]


@functools.cache
def _rotation() -> Any:
    """A fixed random rotation of R^10 (QR of a Gaussian matrix drawn with seed 20)."""
    import numpy as np

    q, r = np.linalg.qr(np.random.default_rng(20).standard_normal((DIM, DIM)))
    return q * np.sign(np.diag(r))


def ellipsoid(params: Mapping[str, Any]) -> float:
    """The rotated ill-conditioned ellipsoid: sum 10^(6 i / (d - 1)) z_i^2 with z = R (x - s),
    condition number 10^6: separable searches gain nothing from the axes."""
    z = _rotation() @ _xs(params, SHIFTS["ellipsoid-10d"])
    return float(sum(10 ** (6 * i / (DIM - 1)) * zi * zi for i, zi in enumerate(z)))


def sphere(params: Mapping[str, Any]) -> float:
    return sum(z * z for z in _xs(params, SHIFTS["sphere-10d"]))


def rastrigin(params: Mapping[str, Any]) -> float:
    zs = _xs(params, SHIFTS["rastrigin-10d"])
    return 10 * len(zs) + sum(z * z - 10 * math.cos(2 * math.pi * z) for z in zs)


def rosenbrock(params: Mapping[str, Any]) -> float:
    zs = [z + 1 for z in _xs(params, SHIFTS["rosenbrock-10d"])]  # minimum at z = 1
    return sum(100 * (b - a * a) ** 2 + (a - 1) ** 2 for a, b in itertools.pairwise(zs))


def ackley(params: Mapping[str, Any]) -> float:
    zs = _xs(params, SHIFTS["ackley-10d"])
    n = len(zs)
    quadratic = math.sqrt(sum(z * z for z in zs) / n)
    cosine = sum(math.cos(2 * math.pi * z) for z in zs) / n
    return -20 * math.exp(-0.2 * quadratic) - math.exp(cosine) + 20 + math.e


BRANIN_MIN = 0.397887357729738


def branin(params: Mapping[str, Any]) -> float:
    x1, x2 = float(params["--x0"]), float(params["--x1"])
    b, c = 5.1 / (4 * math.pi**2), 5 / math.pi
    value = (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x1) + 10
    return value - BRANIN_MIN


HARTMANN6_MIN = -3.32236801141551
_H_ALPHA = (1.0, 1.2, 3.0, 3.2)
_H_A = (
    (10, 3, 17, 3.5, 1.7, 8),
    (0.05, 10, 17, 0.1, 8, 14),
    (3, 3.5, 1.7, 10, 17, 8),
    (17, 8, 0.05, 10, 0.1, 14),
)
_H_P = (
    (0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886),
    (0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991),
    (0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650),
    (0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381),
)


def hartmann6(params: Mapping[str, Any]) -> float:
    xs = [float(params[f"--x{i}"]) for i in range(6)]
    value = -sum(
        alpha * math.exp(-sum(a * (x - p) ** 2 for a, x, p in zip(row, xs, ps, strict=True)))
        for alpha, row, ps in zip(_H_ALPHA, _H_A, _H_P, strict=True)
    )
    return value - HARTMANN6_MIN


# ----------------------------------------------------------------------------- mixed space
MIXED = Space(
    (
        Dim("--optimizer", "choice", values=("sgd", "adam", "rmsprop")),
        Dim("--lr", "float", 1e-5, 1.0, log=True),
        Dim("--momentum", "float", 0.0, 0.99),
        Dim("--layers", "int", 1, 8),
        Dim("--units", "choice", values=(16, 32, 64, 128, 256, 512)),
        Dim("--dropout", "float", 0.0, 0.8),
        Dim("--activation", "choice", values=("relu", "tanh", "gelu")),
    ),
    (Cond("--momentum", "--optimizer", ("sgd",)),),
)
_BASE = {"sgd": 0.0, "adam": 0.05, "rmsprop": 0.15}
_BEST_LR = {"sgd": math.log10(0.05), "adam": math.log10(3e-3), "rmsprop": math.log10(1e-3)}
_ACTIVATION = {"relu": 0.0, "gelu": 0.02, "tanh": 0.1}


def mixed(params: Mapping[str, Any]) -> float:
    """0 at the best sgd setting; adam's best is 0.05, rmsprop's 0.15; best lr moves with depth."""
    optimizer, layers = params["--optimizer"], int(params["--layers"])
    best_lr = _BEST_LR[optimizer] - 0.1 * (layers - 3)
    value = (
        _BASE[optimizer]
        + 0.4 * (math.log10(params["--lr"]) - best_lr) ** 2
        + 0.05 * (layers - 3) ** 2
        + 0.1 * (math.log2(params["--units"]) - 7) ** 2
        + 2.0 * (params["--dropout"] - 0.2) ** 2
        + _ACTIVATION[params["--activation"]]
    )
    if optimizer == "sgd":
        value += 3.0 * (params["--momentum"] - 0.9) ** 2
    return value


# ----------------------------------------------------------------------------- scikit-learn
DIGITS = Space(
    (
        Dim("--loss", "choice", values=("hinge", "log_loss", "modified_huber")),
        Dim("--penalty", "choice", values=("l2", "l1", "elasticnet")),
        Dim("--alpha", "float", 1e-7, 1e-1, log=True),
        Dim("--l1_ratio", "float", 0.0, 1.0),
        Dim("--learning_rate", "choice", values=("optimal", "invscaling", "adaptive", "constant")),
        Dim("--eta0", "float", 1e-4, 1.0, log=True),
        Dim("--max_iter", "int", 5, 30),
    ),
    (
        Cond("--l1_ratio", "--penalty", ("elasticnet",)),
        Cond("--eta0", "--learning_rate", ("invscaling", "adaptive", "constant")),
    ),
)


@functools.cache
def _digits() -> tuple[Any, Any, Any, Any]:
    """load_digits (bundled with scikit-learn), a fixed stratified 70/30 split, standardized."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    x, y = load_digits(return_X_y=True)
    x_train, x_valid, y_train, y_valid = train_test_split(
        x, y, test_size=0.3, random_state=0, stratify=y
    )
    scaler = StandardScaler().fit(x_train)
    return scaler.transform(x_train), scaler.transform(x_valid), y_train, y_valid


def sgd_digits(params: Mapping[str, Any]) -> float:
    """Validation error of an SGDClassifier (random_state=0): 5-80 ms per evaluation."""
    from sklearn.linear_model import SGDClassifier

    x_train, x_valid, y_train, y_valid = _digits()
    model = SGDClassifier(
        loss=params["--loss"],
        penalty=params["--penalty"],
        alpha=params["--alpha"],
        l1_ratio=params.get("--l1_ratio", 0.15),
        learning_rate=params["--learning_rate"],
        eta0=params.get("--eta0", 0.01),
        max_iter=int(params["--max_iter"]),
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning at small max_iter is the point
        model.fit(x_train, y_train)
    return float(1.0 - model.score(x_valid, y_valid))


# ----------------------------------------------------------------------------- learning curve
CURVE = Space(
    (
        Dim("--lr", "float", 1e-5, 1.0, log=True),
        Dim("--width", "int", 8, 256),
        Dim("--wd", "float", 1e-7, 1e-1, log=True),
        Dim("--batch", "choice", values=learning_curve.BATCHES),
    )
)


def final_epoch(params: Mapping[str, Any]) -> float:
    """Without early stopping an evaluation trains all epochs: the last loss is the FoM."""
    return learning_curve.curve(params)[-1]


PROBLEMS: dict[str, Problem] = {
    p.name: p
    for p in (
        Problem("sphere-10d", _box(-5.12, 5.12), sphere, "shifted Sphere, 10-D"),
        Problem("rastrigin-10d", _box(-5.12, 5.12), rastrigin, "shifted Rastrigin, 10-D"),
        Problem("rosenbrock-10d", _box(-5.0, 10.0), rosenbrock, "shifted Rosenbrock, 10-D"),
        Problem("ackley-10d", _box(-32.768, 32.768), ackley, "shifted Ackley, 10-D"),
        Problem(
            "branin",
            Space((Dim("--x0", "float", -5.0, 10.0), Dim("--x1", "float", 0.0, 15.0))),
            branin,
            "Branin, 2-D (regret)",
        ),
        Problem("hartmann-6d", _box(0.0, 1.0, 6), hartmann6, "Hartmann-6 (regret)"),
        Problem(
            "ellipsoid-10d",
            _box(-5.0, 5.0),
            ellipsoid,
            "rotated ill-conditioned ellipsoid (cond. 1e6), 10-D",
        ),
        Problem("mixed", MIXED, mixed, "ints, value lists, a condition"),
        Problem("sgd-digits", DIGITS, sgd_digits, "SGDClassifier on load_digits, val. error"),
        Problem(
            "learning-curve",
            CURVE,
            final_epoch,
            "27-epoch synthetic curve, last loss",
            epochs=learning_curve.EPOCHS,
            curve=learning_curve.curve,
        ),
    )
}
