"""Grid points pinned: a broad sweep of ranges and grid sizes, each axis's length and
points (all of them, or a fixed sample of positions for huge axes) as a digest.

The digests in ``grid_points.json`` were recorded from the grid code before it
was simplified (issue 16.11), so any change of a point, its type or its order
fails here. Regenerate only for an intended change of the grid:
``python tests/space/test_grid_points.py --record``.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hyperdeme._space import Choice, Range

DIGESTS = Path(__file__).with_name("grid_points.json")
#: axes up to this many points are compared in full, larger ones at sampled positions
FULL_UP_TO = 50_000
SAMPLES = 400

INT_BOUNDS = [
    (0, 1),
    (1, 3),
    (0, 10),
    (-7, 13),
    (-1000, 1000),
    (1, 1024),
    (3, 10**6),
    (5, 5 * 10**6),
    (10**8, 10**9),
    (1, 10**12),
    (3 * 10**12, 3 * 10**12 + 10**6 - 9),
    (2**52, 2**52 + 10**6),
    (1, 2**62),
    (-(2**62), 2**62),
]
REAL_BOUNDS = [
    (0.0, 1.0),
    (-3.0, 4.0),
    (1e-5, 1.0),
    (1e-300, 1e300),
    (0.1, 0.7),
    (1.0, 1.0000001),
    (1.0, 1.0 + 1e-12),
    (-1e15, 1e15),
]
SIZES = [1, 2, 3, 4, 5, 7, 10, 11, 64, 100, 1000, 4095, 4096, 4097, 4098, 10_007, 250_001]
BILLION = [
    ("--x", 0.0, 1.0, False, False),
    ("--lr", 1e-5, 1.0, False, True),
    ("--units", 1, 64, True, False),
    ("--batch", 1, 1024, True, True),
    ("--samples", 1, 10**12, True, True),
    ("--seed", 0, 10**9, True, False),
]


def cases() -> Iterator[tuple[str, Range, int]]:
    for low, high in INT_BOUNDS:
        for log in (False, True):
            if log and low <= 0:
                continue
            for k in SIZES:
                yield f"int {low} {high} log={log} k={k}", Range("--n", low, high, True, log), k
        for k in (10**6 - 1, 10**6, 10**6 + 1, 10**6 + 5, 10**6 + 20):
            if high - low < 10**7:
                yield f"int {low} {high} k={k}", Range("--n", low, high, True), k
    for low, high in REAL_BOUNDS:
        for log in (False, True):
            if log and low <= 0:
                continue
            for k in SIZES:
                yield f"real {low} {high} log={log} k={k}", Range("--x", low, high, False, log), k
    for flag, low, high, integer, log in BILLION:
        yield f"{flag} k=10**9", Range(flag, low, high, integer, log), 10**9
    yield "default k=1", Range("--d", 0, 10, True, False, 7, True), 1


def digest(axis: Any) -> str:
    size = len(axis)
    if size <= FULL_UP_TO:
        points = list(axis)
    else:
        positions = random.Random(size).sample(range(size), SAMPLES)
        points = [axis[i] for i in [*range(100), *sorted(positions), *range(size - 100, size)]]
    text = json.dumps([size, [repr(p) for p in points]])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def choice_cases() -> Iterator[tuple[str, Choice, int]]:
    for n in (1, 2, 3, 5, 10, 17, 100):
        for k in (1, 2, 3, 4, 5, 9, 10, 50):
            yield f"choice n={n} k={k}", Choice("--c", tuple(range(n))), k


def compute() -> dict[str, str]:
    found = {name: digest(p.axis(k)) for name, p, k in cases()}
    found.update({name: digest(c.axis(k)) for name, c, k in choice_cases()})
    return found


def test_grid_points_are_the_recorded_ones() -> None:
    expected = json.loads(DIGESTS.read_text())
    found = compute()
    assert found.keys() == expected.keys()
    changed = [name for name in expected if found[name] != expected[name]]
    assert not changed, f"{len(changed)} axes changed, e.g. {changed[:5]}"


def test_a_changed_point_is_seen() -> None:
    axis = Range("--n", 0, 10, True).axis(3)
    assert digest(axis) != digest([0, 5, 9])
    assert digest(axis) != digest([0, 5.0, 10])


def test_the_digest_of_a_list_is_that_of_its_axis() -> None:
    p = Range("--x", 0.0, 1.0, False)
    assert digest(p.grid(5)) == digest(p.axis(5)) == digest([0.0, 0.25, 0.5, 0.75, 1.0])


if __name__ == "__main__" and sys.argv[1:] == ["--record"]:
    DIGESTS.write_text(json.dumps(compute(), indent=0, sort_keys=True) + "\n")
