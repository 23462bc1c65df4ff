"""How long a parameter's value list takes to validate (issue 18.8).

Validation encodes the list to JSON once and finds repeats with a set of hashed
keys, so it is linear; before, each value was compared with every earlier one
(2,000 values 0.5 s, 20,000 45 s). Target: 10**6 values in about a second.
Every size is timed beside ``set(values)`` on the same list, interleaved in the
same process (:func:`_harness.interleave`), so the ratio says what the check
costs over the least any duplicate check must do, whatever the machine's speed;
a ratio that stays flat as the size grows is the linear claim.
"""

from __future__ import annotations

import time
from typing import Any

from hyperdeme import Params

from . import _harness as h

TARGET_S = 1.5  # "about a second" for 10**6 values
REPEATS = 3


def _kinds(n: int) -> dict[str, list[Any]]:
    return {
        "int": list(range(n)),
        "float": [i / 7 for i in range(n)],
        "str": [f"value-{i}" for i in range(n)],
    }


def main(quick: bool, args: Any) -> list[h.Table]:
    repeats = args.repeats or REPEATS
    sizes = [10**4, 10**5] if quick else [10**4, 10**5, 10**6]
    table = h.Table(
        f"validating one value list, median of {repeats} (seconds)",
        ["values", "kind", "Params([...]) s", "set(values) s", "ratio", f"< {TARGET_S} s"],
    )
    results: dict[str, Any] = {}
    for n in sizes:
        for kind, values in _kinds(n).items():
            timed = h.interleave(
                {
                    "params": lambda v=values: _time(lambda: Params([["--x", v]])),
                    "set": lambda v=values: _time(lambda: set(v)),
                },
                repeats,
            )
            check, baseline = h.median(timed["params"]), h.median(timed["set"])
            verdict = h.verdict(check, TARGET_S, False) if n == 10**6 else ""
            table.add(str(n), kind, check, baseline, check / baseline, verdict)
            results[f"{kind}-{n}"] = {"samples": timed, "ratio": check / baseline}
            print(f"[value-lists] {n} {kind}: {check:.3f} s ({check / baseline:.1f}x set)")
    return h.save_benchmark(
        "value-lists", quick, [table], settings={"repeats": repeats}, results=results
    )


def _time(work: Any) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


if __name__ == "__main__":
    h.run_alone(main, __doc__)
