"""A synthetic training run with a learning curve, for early stopping (ASHA) and PBT.

``curve(params)`` gives the validation loss after each of 27 epochs. The
final loss is ``0.05 + q(params)`` with ``q >= 0`` and ``q = 0`` at lr=3e-3,
width=64, weight decay 1e-4, batch 64; a larger learning rate converges faster
but to a worse loss, so curves cross and stopping early is a real bet. A small
deterministic wiggle (a hash of the parameters and the epoch) plays the noise.

As a program it prints ``epoch <i>: FoM: <loss>`` per epoch, like
``examples/sin_poly/train.py``, so a process evaluator can run it
(``--epoch-seconds`` makes each epoch take that long, like real training)::

    python benchmarks/learning_curve.py --lr=0.01 --width=32 --wd=1e-5 --batch=128
"""

from __future__ import annotations

import argparse
import hashlib
import math
import time
from collections.abc import Mapping
from typing import Any

EPOCHS = 27
BATCHES = (16, 32, 64, 128, 256)


def final_loss(params: Mapping[str, Any]) -> float:
    lr, width = float(params["--lr"]), int(params["--width"])
    wd, batch = float(params["--wd"]), int(params["--batch"])
    q = (
        0.30 * (math.log10(lr) - math.log10(3e-3)) ** 2
        + 0.05 * (math.log2(width) - 6) ** 2
        + 0.02 * (math.log10(wd) + 4) ** 2
        + 0.03 * (math.log2(batch) - 6) ** 2
    )
    return 0.05 + q


def curve(params: Mapping[str, Any], epochs: int = EPOCHS) -> list[float]:
    """The validation loss after epochs 1..``epochs``."""
    final = final_loss(params)
    lr, batch = float(params["--lr"]), int(params["--batch"])
    rate = min(2.0, max(0.02, 0.4 * math.sqrt(lr / 3e-3) * math.sqrt(64 / batch)))
    key = ",".join(f"{k}={params[k]!r}" for k in sorted(params))
    losses = []
    for epoch in range(1, epochs + 1):
        digest = hashlib.blake2b(f"{key}|{epoch}".encode(), digest_size=8).digest()
        wiggle = (int.from_bytes(digest, "big") / 2**64 - 0.5) * 0.02 * math.exp(-epoch / 9)
        losses.append(final + (2.5 - final) * math.exp(-rate * epoch) + wiggle)
    return losses


def line(epoch: int, loss: float) -> str:
    """What the program prints after ``epoch``."""
    return f"epoch {epoch}: FoM: {loss:.10g}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--wd", type=float, default=1e-5)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--epoch-seconds", type=float, default=0.0)
    args = parser.parse_args()
    params = {"--lr": args.lr, "--width": args.width, "--wd": args.wd, "--batch": args.batch}
    for epoch, loss in enumerate(curve(params, args.epochs), start=1):
        time.sleep(args.epoch_seconds)
        print(line(epoch, loss), end="", flush=True)


if __name__ == "__main__":
    main()
