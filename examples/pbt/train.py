"""A small real training program for population-based training: an MLP trained with SGD.

It classifies two interleaving noisy half circles (generated, no download)
with a one-hidden-layer network (2 -> 32 -> 1, tanh, logistic output), trained
by minibatch SGD with momentum. The hyperparameters PBT tunes are ``--lr`` and
``--momentum``; ``--epochs`` says how many epochs this run trains (PBT: 1).

The checkpoint contract (what hyperdeme's ``@checkpoint`` expects):

* ``--load_checkpoint FILE``: resume from FILE when it exists (weights, the
  optimizer's velocities, the epoch counter, the history); start afresh when
  it does not.
* ``--save_checkpoint FILE``: write the checkpoint when training ends,
  before printing the FoM and exiting 0.
* ``FoM: <validation loss>`` is the last line; lower is better.

The checkpoint (``numpy.savez``) records the program's own history: one entry
per epoch trained, with the learning rate and momentum it trained with and
the validation loss after it, so anyone can check which weights a run
continued. The run prints the history it loaded (``loaded: [...]``) and the
one it saved (``saved: [...]``) as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

HIDDEN = 32
BATCH = 32
#: a diverged network's loss is capped, so a bad learning rate is a bad FoM, not a crash
MAX_LOSS = 10.0


@dataclass
class Data:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


def make_data(seed: int = 0, n: int = 600, noise: float = 0.2) -> Data:
    """Two interleaving noisy half circles ("moons"), ``n`` points each to train and validate."""
    rng = np.random.default_rng(seed)

    def moons(count: int) -> tuple[np.ndarray, np.ndarray]:
        label = rng.integers(0, 2, count)
        angle = rng.uniform(0.0, np.pi, count)
        x = np.where(label == 0, np.cos(angle), 1.0 - np.cos(angle))
        y = np.where(label == 0, np.sin(angle), 0.5 - np.sin(angle))
        points = np.stack([x, y], axis=1) + rng.normal(0.0, noise, (count, 2))
        return points, label.astype(float)

    x_train, y_train = moons(n)
    x_val, y_val = moons(n)
    return Data(x_train, y_train, x_val, y_val)


def new_state(seed: int = 0) -> dict[str, Any]:
    """Fresh weights (seeded), zero velocities, no epochs trained."""
    rng = np.random.default_rng(seed)
    weights = {
        "w1": rng.normal(0.0, 1.0, (2, HIDDEN)),
        "b1": np.zeros(HIDDEN),
        "w2": rng.normal(0.0, 1.0 / np.sqrt(HIDDEN), (HIDDEN, 1)),
        "b2": np.zeros(1),
    }
    velocities = {f"v_{name}": np.zeros_like(value) for name, value in weights.items()}
    return {**weights, **velocities, "epoch": 0, "history": []}


def _forward(state: dict[str, Any], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    hidden = np.tanh(x @ state["w1"] + state["b1"])
    logits = (hidden @ state["w2"] + state["b2"])[:, 0]
    return hidden, logits


def loss(state: dict[str, Any], x: np.ndarray, y: np.ndarray) -> float:
    """Mean cross-entropy, capped at MAX_LOSS (NaN, from a diverged network, too)."""
    with np.errstate(all="ignore"):
        _, logits = _forward(state, x)
        value = float(np.mean(np.logaddexp(0.0, logits) - y * logits))
    return value if np.isfinite(value) and value < MAX_LOSS else MAX_LOSS


def train_epoch(state: dict[str, Any], data: Data, lr: float, momentum: float) -> dict[str, Any]:
    """One epoch of minibatch SGD with momentum; returns the new state (the input is kept)."""
    state = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in state.items()}
    rng = np.random.default_rng(1000 + int(state["epoch"]))  # the same order for every member
    order = rng.permutation(len(data.y_train))
    with np.errstate(all="ignore"):
        for start in range(0, len(order), BATCH):
            batch = order[start : start + BATCH]
            x, y = data.x_train[batch], data.y_train[batch]
            hidden, logits = _forward(state, x)
            d_logits = (1.0 / (1.0 + np.exp(-logits)) - y)[:, None] / len(batch)
            d_hidden = (d_logits @ state["w2"].T) * (1.0 - hidden**2)
            grads = {
                "w2": hidden.T @ d_logits,
                "b2": d_logits.sum(axis=0),
                "w1": x.T @ d_hidden,
                "b1": d_hidden.sum(axis=0),
            }
            for name, grad in grads.items():
                state[f"v_{name}"] = momentum * state[f"v_{name}"] - lr * grad
                state[name] = state[name] + state[f"v_{name}"]
    val_loss = loss(state, data.x_val, data.y_val)
    state["epoch"] = int(state["epoch"]) + 1
    entry = {"epoch": state["epoch"], "lr": lr, "momentum": momentum, "val_loss": val_loss}
    state["history"] = [*state["history"], entry]
    return state


def load(path: Path) -> dict[str, Any]:
    with np.load(path, allow_pickle=False) as archive:
        state: dict[str, Any] = {name: archive[name] for name in archive.files}
    state["epoch"] = int(state["epoch"])
    state["history"] = json.loads(str(state["history"]))
    return state


def save(state: dict[str, Any], path: Path) -> None:
    """Write atomically: a crash mid-save leaves the previous file (hyperdeme adds its own
    guarantee on top: a failed run's checkpoint directory is discarded)."""
    arrays = {k: v for k, v in state.items() if isinstance(v, np.ndarray)}
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial.npz")
    np.savez(partial, **arrays, epoch=state["epoch"], history=json.dumps(state["history"]))
    os.replace(partial, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--load_checkpoint", default="")
    parser.add_argument("--save_checkpoint", default="")
    parser.add_argument("--seed", type=int, default=0, help="the initial weights' seed")
    args = parser.parse_args()

    data = make_data()
    source = Path(args.load_checkpoint) if args.load_checkpoint else None
    state = load(source) if source is not None and source.exists() else new_state(args.seed)
    print(f"loaded: {json.dumps(state['history'])}", flush=True)
    for _ in range(args.epochs):
        state = train_epoch(state, data, args.lr, args.momentum)
        print(f"epoch {state['epoch']}: val_loss {state['history'][-1]['val_loss']:.6f}")
    if args.save_checkpoint:
        save(state, Path(args.save_checkpoint))
    print(f"saved: {json.dumps(state['history'])}")
    print(f"FoM: {state['history'][-1]['val_loss']!r}", flush=True)


if __name__ == "__main__":
    main()
