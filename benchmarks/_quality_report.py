"""Quality cells -> medians and quartiles, tables, and the list of where a peer wins."""

from __future__ import annotations

import math
from typing import Any

from . import _harness as h
from ._peers import ENTRIES
from ._problems import PROBLEMS

NOT_AVAILABLE = "n/a (not available)"
NOT_APPLICABLE = "does not apply"


def summarize(cfg: Any, cells: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """entry -> problem -> budget -> {median, q1, q3, n, bests, errors} (or a status string)."""
    out: dict[str, Any] = {}
    for entry in cfg.entries:
        e = ENTRIES[entry]
        out[entry] = {}
        for problem in cfg.problems:
            if not e.applies(PROBLEMS[problem]):
                out[entry][problem] = NOT_APPLICABLE
                continue
            if e.missing():
                out[entry][problem] = NOT_AVAILABLE
                continue
            out[entry][problem] = {}
            for budget in cfg.budgets:
                found = [cells.get(f"{entry}|{problem}|{budget}|{seed}") for seed in cfg.seeds]
                bests = [c["best"] for c in found if c and "best" in c]
                errors = sorted({c["error"] for c in found if c and "error" in c})
                q1, q2, q3 = h.quartiles(bests)
                out[entry][problem][str(budget)] = {
                    "median": q2,
                    "q1": q1,
                    "q3": q3,
                    "n": len(bests),
                    "bests": bests,
                    "errors": errors,
                }
    return out


def _cell_text(stats: dict[str, Any]) -> str:
    if stats["errors"] and not stats["n"]:
        return "error: " + stats["errors"][0][:60]
    if not stats["n"]:
        return "-"
    return f"{h.fmt(stats['median'])} [{h.fmt(stats['q1'])}, {h.fmt(stats['q3'])}]"


def tables(cfg: Any, summary: dict[str, Any]) -> list[h.Table]:
    out = []
    for problem in cfg.problems:
        p = PROBLEMS[problem]
        table = h.Table(
            f"{problem}: {p.description}; median best FoM [quartiles], {len(cfg.seeds)} seeds",
            ["optimizer"] + [f"{b} evals" for b in cfg.budgets],
        )
        for entry in cfg.entries:
            stats = summary[entry][problem]
            if isinstance(stats, str):
                if stats == NOT_AVAILABLE:
                    table.add(entry, *[stats] * len(cfg.budgets))
                continue
            table.add(entry, *[_cell_text(stats[str(b)]) for b in cfg.budgets])
        out.append(table)
    return out


def findings(cfg: Any, summary: dict[str, Any]) -> list[str]:
    """Each (problem, budget) where a peer's median beats every hyperdeme entry's; "clear"
    when the quartile ranges do not overlap (the peer's third below our first), and
    every cell that failed."""
    lines = []
    for problem in cfg.problems:
        for budget in map(str, cfg.budgets):
            stats = {
                entry: s[budget]
                for entry, by_problem in summary.items()
                if isinstance(s := by_problem[problem], dict) and s[budget]["n"]
            }
            ours = [e for e in stats if ENTRIES[e].family == "hyperdeme"]
            peers = [e for e in stats if ENTRIES[e].family != "hyperdeme"]
            if not ours or not peers:
                continue
            best = min(ours, key=lambda e: stats[e]["median"])
            winners = sorted(
                (e for e in peers if stats[e]["median"] < stats[best]["median"]),
                key=lambda e: stats[e]["median"],
            )
            if winners:
                top, mine = stats[winners[0]], stats[best]
                ratio = mine["median"] / top["median"] if top["median"] > 0 else math.inf
                clear = "clear" if top["q3"] < mine["q1"] else "within the spread"
                lines.append(
                    f"{problem} @ {budget}: {winners[0]} {h.fmt(top['median'])} beats hyperdeme's "
                    f"best ({best}) {h.fmt(mine['median'])}, "
                    f"{'x' + h.fmt(ratio, 2) if ratio < 1000 else 'by > 1000x'} ({clear}); "
                    f"{len(winners)} peer(s) ahead"
                )
    for entry, by_problem in summary.items():
        for problem, by_budget in by_problem.items():
            for budget, s in by_budget.items() if isinstance(by_budget, dict) else ():
                for error in s["errors"]:
                    lines.append(f"{problem} @ {budget}: {entry} failed: {error[:160]}")
    return lines


def issue13_table(cfg: Any, summary: dict[str, Any], reference: dict[str, Any]) -> h.Table:
    table = h.Table(
        "issue13-table: shifted Rastrigin-10D (optimum 2.3, bounds +-5.12), 400 evaluations, "
        "seeds 1-5, median best FoM",
        ["optimizer", "issue #13", "measured median", "quartiles", "per seed"],
        notes=[f"{e}: {ENTRIES[e].note}" for e in cfg.entries if ENTRIES[e].note],
    )
    for entry in cfg.entries:
        stats = summary[entry]["rastrigin-10d"]
        if isinstance(stats, str):
            table.add(entry, reference.get(entry), stats, "", "")
            continue
        s = stats["400"]
        table.add(
            entry,
            reference.get(entry),
            _cell_text(s).split(" [")[0],
            f"[{h.fmt(s['q1'])}, {h.fmt(s['q3'])}]",
            " ".join(h.fmt(b) for b in s["bests"]),
        )
    return table
