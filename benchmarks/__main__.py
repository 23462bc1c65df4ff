"""``python -m benchmarks`` (what ``scripts/bench`` runs): every benchmark, or a subset.

Each benchmark writes ``benchmarks/results/<name>.json`` (``<name>-quick.json``
with ``--quick``) and a Markdown table beside it; the tables are printed as
they finish and gathered in ``results/summary[-quick].md``.
"""

from __future__ import annotations

import argparse
import importlib
import time
from collections.abc import Callable
from typing import Any

from . import _harness as h

#: name -> (group, module); each module has ``main(quick, args) -> list[Table]``
BENCHMARKS = {
    "processes": ("throughput", "throughput_processes"),
    "inprocess": ("throughput", "throughput_inprocess"),
    "makespan": ("throughput", "makespan"),
    "utilization": ("throughput", "utilization"),
    "memory": ("throughput", "memory"),
    "many-slots": ("throughput", "many_slots"),
    "issue13-table": ("quality", "quality"),
    "quality-grid": ("quality", "quality"),
    "early-stopping": ("quality", "early_stopping"),
    "pareto": ("quality", "pareto"),
    "import": ("startup", "import_time"),
    "loop-lag": ("embedding", "loop_lag"),
    "step-reports": ("embedding", "step_reports"),
    "value-lists": ("startup", "value_lists"),
    "dashboard": ("startup", "dashboard"),
}


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/bench", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    add = parser.add_argument
    add("--quick", action="store_true", help="small sizes, fewer seeds: a few minutes")
    add(
        "--only",
        default="",
        help="comma list of groups (throughput, quality, startup, embedding) or benchmarks: "
        + ", ".join(BENCHMARKS),
    )
    add("--list", action="store_true", help="list benchmarks, optimizers and problems")
    add("--profile", metavar="NAME", help="profile a workload (see profile_hot_path.py)")
    add("--repeats", type=int, default=0, help="repeats per timing (default 5; quick 3)")
    add("--trials", type=int, default=0, help="processes per batch (default 400; quick 200)")
    add("--slots", default="", help="slot counts of the process table, e.g. 1,8,64")
    add(
        "--baseline",
        default="",
        metavar="REV",
        help="processes, many-slots, import, loop-lag: also time hyperdeme at git revision "
        "REV (before/after), both in child processes",
    )
    add("--sizes", default="", help="in-process trial counts, e.g. 1000,10000,100000")
    add("--budgets", default="", help="quality budgets, e.g. 100,400,2000")
    add("--seeds", type=int, default=0, help="quality seeds 1..N (default 10; quick 3)")
    add(
        "--first-seed",
        type=int,
        default=1,
        metavar="S",
        help="quality seeds start at S: S..S+N-1 (held-out seeds, e.g. --first-seed 16)",
    )
    add("--problems", default="", help="quality problems (comma list)")
    add("--optimizers", default="", help="quality optimizers (comma list)")
    add("--jobs", type=int, default=1, help="quality cells run in N processes")
    add("--fresh", action="store_true", help="recompute cached quality cells")
    add("--dry-run", action="store_true", help="quality: count the cells to run, estimate, stop")
    add(
        "--allow-dirty",
        action="store_true",
        help="measure a tree with uncommitted changes (refused otherwise); the results "
        'say "dirty": true and their tables open with a warning',
    )
    return parser.parse_args(argv)


def selected(only: str) -> list[str]:
    if not only:
        return list(BENCHMARKS)
    names: list[str] = []
    for item in only.split(","):
        group = [n for n, (g, _) in BENCHMARKS.items() if g == item]
        if not group and item not in BENCHMARKS:
            raise SystemExit(
                f"--only: unknown {item!r}; choose from throughput, quality, startup, "
                + ", ".join(BENCHMARKS)
            )
        names += [n for n in group or [item] if n not in names]
    return names


def list_all() -> None:
    from ._peers import ENTRIES
    from ._problems import PROBLEMS

    print("benchmarks:", ", ".join(f"{n} ({g})" for n, (g, _) in BENCHMARKS.items()))
    print("optimizers:")
    for name, entry in ENTRIES.items():
        missing = entry.missing()
        print(f"  {name:32} {'n/a (' + missing + ')' if missing else 'available'}")
    print("problems:")
    for name, problem in PROBLEMS.items():
        print(f"  {name:16} {problem.description}")


def main() -> None:
    args = parse()
    if args.list:
        list_all()
        return
    if args.profile:
        from . import profile_hot_path

        profile_hot_path.main(args.profile, args.quick)
        return
    names = selected(args.only)
    if not args.dry_run:
        h.require_clean_tree(allow_dirty=args.allow_dirty)
    tables: list[h.Table] = []
    for name in names:
        module = importlib.import_module(f"benchmarks.{BENCHMARKS[name][1]}")
        run: Callable[..., list[h.Table]] = module.main
        started = time.perf_counter()
        print(f"== {name}{' (quick)' if args.quick else ''}", flush=True)
        extra: tuple[Any, ...] = (name,) if module.__name__.endswith(".quality") else ()
        produced = run(*extra, args.quick, args)
        for table in produced:
            print(table.render(), flush=True)
        print(f"({name}: {time.perf_counter() - started:.0f} s)\n", flush=True)
        tables += produced
    summary = h.RESULTS / ("summary-quick.md" if args.quick else "summary.md")
    machine = h.machine_info(h.command_line())
    header = h.dirty_warning(machine) + (
        f"# {machine['command']}\n\n{machine['date']}, {machine['cpu_model']}, "
        f"{machine['logical_cores']} cores, Python {machine['python']}, "
        f"load {machine['load_average']}\n\n"
    )
    if tables:
        summary.write_text(header + "\n".join(t.render() for t in tables))
    print(f"results in {h.RESULTS}")


if __name__ == "__main__":
    main()
