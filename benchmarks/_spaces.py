"""One neutral description of a search space, mapped faithfully to each optimizer.

A :class:`Space` is a list of :class:`Dim` (float ranges, optionally log;
integer ranges; value lists) plus :class:`Cond` ("the dependent is active only
when the parent takes one of these values"). Every objective receives only the
active parameters, keyed by flag (``--lr``), whatever optimizer proposed them.

How each optimizer sees it:

- **hyperdeme**: native; a float range is ``(low, high)`` (``{"log": True}``),
  an int range two ints, a value list a list (ordered), a condition
  ``condition.inside(dependent, parent, values)`` (``equals`` for one value).
- **Optuna**: define-by-run; the parent is suggested first and the dependent
  is suggested only when active (``suggest_float(..., log=)``,
  ``suggest_int``, ``suggest_categorical``). Optuna's CMA-ES samples
  categorical and conditional parameters with its independent (random) sampler.
- **Nevergrad**: an all-linear-float space is one ``ng.p.Array`` with
  per-coordinate bounds; otherwise an ``ng.p.Dict`` of ``Scalar`` / ``Log`` /
  ``Scalar.set_integer_casting()`` / ``TransitionChoice`` (numeric lists:
  ordered) / ``Choice`` (other lists). It has no conditions: a dependent is
  always proposed and dropped when inactive.
- **DEAP**: a vector in [0, 1]^d, one gene per dimension: affine (or
  log-affine) for ranges, rounded for ints, ``values[floor(u * n)]`` for lists;
  inactive genes are carried but dropped when decoding.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import hyperdeme
from hyperdeme import condition

Kind = Literal["float", "int", "choice"]


@dataclass(frozen=True)
class Dim:
    name: str  # the flag, e.g. "--lr"
    kind: Kind = "float"
    low: float = 0.0
    high: float = 1.0
    log: bool = False
    values: tuple[Any, ...] = ()

    @property
    def key(self) -> str:
        """The name without dashes, for peers that want identifiers."""
        return self.name.lstrip("-")


@dataclass(frozen=True)
class Cond:
    dependent: str
    parent: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Space:
    dims: tuple[Dim, ...]
    conds: tuple[Cond, ...] = ()

    def __post_init__(self) -> None:
        order = [d.name for d in self.dims]
        for c in self.conds:
            if order.index(c.parent) > order.index(c.dependent):
                raise ValueError(f"list {c.parent} before its dependent {c.dependent}")

    @property
    def plain(self) -> bool:
        """Only linear float ranges and no conditions (the classic test functions)."""
        return not self.conds and all(d.kind == "float" and not d.log for d in self.dims)

    def active(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` without the inactive dependents (parents come first in ``dims``)."""
        out: dict[str, Any] = {}
        for dim in self.dims:
            conds = [c for c in self.conds if c.dependent == dim.name]
            if all(c.parent in out and out[c.parent] in c.values for c in conds):
                out[dim.name] = values[dim.name]
        return out

    # ------------------------------------------------------------------ hyperdeme
    def to_hyperdeme(self) -> hyperdeme.Params:
        spec: list[list[Any]] = []
        for d in self.dims:
            if d.kind == "choice":
                spec.append([d.name, list(d.values)])
            elif d.kind == "int":
                spec.append([d.name, (int(d.low), int(d.high))])
            else:
                spec.append(
                    [d.name, (float(d.low), float(d.high))] + ([{"log": True}] if d.log else [])
                )
        conditions = [
            condition.equals(c.dependent, c.parent, c.values[0])
            if len(c.values) == 1
            else condition.inside(c.dependent, c.parent, list(c.values))
            for c in self.conds
        ]
        return hyperdeme.Params(spec, conditions=conditions)

    # ------------------------------------------------------------------ Optuna
    def suggest(self, trial: Any) -> dict[str, Any]:
        """Define-by-run: a dependent is suggested only when its parents make it active."""
        values: dict[str, Any] = {}
        for d in self.dims:
            conds = [c for c in self.conds if c.dependent == d.name]
            if not all(c.parent in values and values[c.parent] in c.values for c in conds):
                continue
            if d.kind == "choice":
                values[d.name] = trial.suggest_categorical(d.key, list(d.values))
            elif d.kind == "int":
                values[d.name] = trial.suggest_int(d.key, int(d.low), int(d.high))
            else:
                values[d.name] = trial.suggest_float(d.key, d.low, d.high, log=d.log)
        return values

    # ------------------------------------------------------------------ Nevergrad
    def to_nevergrad(self) -> Any:
        import nevergrad as ng
        import numpy as np

        if self.plain:
            lows = np.array([d.low for d in self.dims])
            highs = np.array([d.high for d in self.dims])
            return ng.p.Array(shape=(len(self.dims),), lower=lows, upper=highs)
        parts: dict[str, Any] = {}
        for d in self.dims:
            if d.kind == "choice":
                numeric = all(isinstance(v, int | float) for v in d.values)
                parts[d.key] = (ng.p.TransitionChoice if numeric else ng.p.Choice)(list(d.values))
            elif d.kind == "int":
                parts[d.key] = ng.p.Scalar(lower=d.low, upper=d.high).set_integer_casting()
            elif d.log:
                parts[d.key] = ng.p.Log(lower=d.low, upper=d.high)
            else:
                parts[d.key] = ng.p.Scalar(lower=d.low, upper=d.high)
        return ng.p.Dict(**parts)

    def from_nevergrad(self, value: Any) -> dict[str, Any]:
        if self.plain:
            return {d.name: float(x) for d, x in zip(self.dims, value, strict=True)}
        return self.active({d.name: _plain(value[d.key]) for d in self.dims})

    # ------------------------------------------------------------------ DEAP
    def decode(self, genes: Sequence[float]) -> dict[str, Any]:
        """A point of [0, 1]^d (clipped) as parameter values, inactive ones dropped."""
        values: dict[str, Any] = {}
        for d, gene in zip(self.dims, genes, strict=True):
            u = min(1.0, max(0.0, gene))
            if d.kind == "choice":
                values[d.name] = d.values[min(int(u * len(d.values)), len(d.values) - 1)]
            elif d.kind == "int":
                values[d.name] = min(int(d.high), int(d.low + u * (d.high - d.low + 1)))
            elif d.log:
                values[d.name] = math.exp(
                    math.log(d.low) + u * (math.log(d.high) - math.log(d.low))
                )
            else:
                values[d.name] = d.low + u * (d.high - d.low)
        return self.active(values)


def _plain(value: Any) -> Any:
    """numpy scalars as Python numbers (objectives and JSON want plain types)."""
    return value.item() if hasattr(value, "item") else value
