"""Driver of scripts/mutants (read its header first): cosmic-ray over the promise modules.

For each module: copy the tree to .mutants/<module>/tree (tracked and untracked, not
ignored, files; mutants never touch the working tree), run the module's tests there
unmutated (they must pass; 4x their time, at least 30 s, is each mutant's timeout),
write .mutants/<module>.toml, `cosmic-ray init` a session .mutants/<module>.sqlite
(kept and resumed: see run()), mark the operators we do not use as skipped and
`cosmic-ray exec`, then read the session. A mutant counts as killed when its
module's tests fail or time out.

Operators: cosmic-ray's full set makes every binary operator into each of the 12
others and every comparison into each of the 7 others, which is mostly noise that
costs test runs. We keep a selective subset (after Offutt et al., 1996): a
comparison into its neighbours and its negation (< into <= and >=, == into !=, is
into is not), + into -, * into /, | into &, every number +-1, True/False swapped,
and/or swapped, `not` added and removed, break/continue swapped, except clauses
that catch nothing, decorators removed, for loops that iterate zero times.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".mutants"
OUT = ROOT / "tests" / "mutants"
EQUIVALENT = OUT / "equivalent.toml"
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Module:
    name: str
    path: str
    tests: tuple[str, ...]


#: module -> its own tests: the only tests run against its mutants
MODULES = (
    Module("journal", "src/hyperdeme/_engine/_journal.py", ("tests/engine/test_journal.py",)),
    Module(
        "lock",
        "src/hyperdeme/_engine/_lock.py",
        (
            "tests/engine/test_lock.py",
            "tests/driver/test_resume.py::test_a_second_driver_is_refused_at_once_naming_the_holder",
        ),
    ),
    Module(
        "checkpoints",
        "src/hyperdeme/_engine/_checkpoints.py",
        ("tests/engine/test_checkpoints.py", "tests/driver/test_lost_checkpoints.py"),
    ),
    Module(
        "resume",
        "src/hyperdeme/_driver/_resume.py",
        (
            "tests/driver/test_resume.py",
            "tests/driver/test_grow_budget.py",
            "tests/driver/test_opening.py",
            "tests/driver/test_maximize.py::test_a_journal_without_a_direction_resumes_minimising",
        ),
    ),
    Module(
        "opening",
        "src/hyperdeme/_driver/_opening.py",
        (
            "tests/driver/test_opening.py",
            "tests/driver/test_resume.py",
            "tests/driver/test_resume_gil.py",
        ),
    ),
    Module("spawn", "src/hyperdeme/launchers/_spawn.py", ("tests/launchers/test_spawn.py",)),
    Module(
        "process",
        "src/hyperdeme/launchers/_process.py",
        (
            "tests/launchers/test_spawn.py",
            "tests/launchers/test_process.py",
            "tests/launchers/test_stop_sequence.py",
            "tests/launchers/test_watchdog.py",
            "tests/launchers/test_local.py",
        ),
    ),
    Module("local", "src/hyperdeme/launchers/_local.py", ("tests/launchers/test_local.py",)),
    Module(
        "service",
        "src/hyperdeme/launchers/_service.py",
        (
            "tests/launchers/test_service.py",
            "tests/launchers/test_spawn.py",
            "tests/launchers/test_process.py",
        ),
    ),
    Module(
        "contain",
        "src/hyperdeme/launchers/_contain.py",
        ("tests/launchers/test_contain.py", "tests/launchers/test_process.py"),
    ),
    Module(
        "watchdog",
        "src/hyperdeme/launchers/_watchdog.py",
        ("tests/launchers/test_watchdog.py", "tests/launchers/test_watchdog_program.py"),
    ),
    Module(
        "watchdog_program",
        "src/hyperdeme/launchers/_watchdog_program.py",
        ("tests/launchers/test_watchdog_program.py", "tests/launchers/test_watchdog.py"),
    ),
    Module(
        "poll",
        "src/hyperdeme/launchers/_poll.py",
        (
            "tests/launchers/test_poll.py",
            "tests/launchers/test_poll_failures.py",
            "tests/launchers/test_pbs.py",
            "tests/launchers/test_k8s.py",
        ),
    ),
)

#: Each mutant's tests run in a PID namespace of their own (as root, where util-linux's
#: unshare is found): a mutant of a signalling module can turn a process group into 0,
#: 1 or -1 (`killpg(1)`, `kill(-1)`), which on the host signals every process of the
#: machine; it happened (a watchdog mutant let pgid 1 through `reap()`'s check and took
#: down every process of the machine several times). In the namespace the tests see and
#: can signal only their own processes (psutil's whole-machine counts too), and
#: everything left is killed with the namespace's init when the run ends. Elsewhere
#: (not root, no unshare) the tests run as before: mind the host.
ISOLATED: tuple[str, ...] = (
    ("unshare", "--pid", "--fork", "--mount-proc", "--kill-child")
    if os.geteuid() == 0 and shutil.which("unshare")
    else ()
)

#: on asyncio only: these modules reach the event loop through anyio alone, and the
#: trio half of every async test would double each survivor's run
PYTEST_OPTIONS = ("-p", "no:cacheprovider", "-k", "not trio")

_KEEP_BINARY = ("Add_Sub", "Sub_Add", "Mul_Div", "Div_Mul", "BitOr_BitAnd", "BitAnd_BitOr")
_KEEP_COMPARISON = (
    "Eq_NotEq",
    "NotEq_Eq",
    "Lt_LtE",
    "Lt_GtE",
    "LtE_Lt",
    "LtE_Gt",
    "Gt_GtE",
    "Gt_LtE",
    "GtE_Gt",
    "GtE_Lt",
    "Is_IsNot",
    "IsNot_Is",
)
EXCLUDED_OPERATORS = (
    rf"core/ReplaceBinaryOperator_(?!(?:{'|'.join(_KEEP_BINARY)})$)",
    rf"core/ReplaceComparisonOperator_(?!(?:{'|'.join(_KEEP_COMPARISON)})$)",
    r"core/ReplaceUnaryOperator_(?!Delete_Not$)",
    r"core/VariableReplacer",
    r"core/VariableInserter",
)


def main() -> int:
    parser = argparse.ArgumentParser(prog="scripts/mutants", description=__doc__.split("\n")[0])
    parser.add_argument("modules", nargs="*", help="module names (default: all); see --list")
    parser.add_argument("--list", action="store_true", help="the modules and their tests")
    parser.add_argument("--report", action="store_true", help="only rewrite the report")
    parser.add_argument("--fresh", action="store_true", help="drop the modules' old sessions")
    parser.add_argument(
        "--jobs", type=int, default=1, help="mutants of a module run at once (each in its tree)"
    )
    args = parser.parse_args()
    if args.list:
        for module in MODULES:
            print(f"{module.name:17} {module.path}  <-  {' '.join(module.tests)}")
        return 0
    by_name = {module.name: module for module in MODULES}
    unknown = [name for name in args.modules if name not in by_name]
    if unknown:
        parser.error(f"unknown module(s) {unknown}; choose from {sorted(by_name)}")
    chosen = [by_name[name] for name in args.modules] or list(MODULES)
    if not args.report:
        python = os.environ.get("MUTANTS_PYTHON", str(ROOT / ".venv" / "bin" / "python"))
        for module in chosen:
            run(module, python=python, fresh=args.fresh, jobs=args.jobs)
    report()
    return 0


def tree(module: Module, shard: int = 0) -> Path:
    """A scratch copy of the tree: modules, and shards of a module, each have their own."""
    return WORK / module.name / ("tree" if shard == 0 else f"tree{shard}")


def copy_tree(module: Module, shard: int = 0) -> None:
    """The working tree's files (tracked and untracked, not ignored) into its tree."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    shutil.rmtree(tree(module, shard), ignore_errors=True)
    for raw in listed:
        name = raw.decode()
        if not name or not (ROOT / name).is_file():
            continue
        target = tree(module, shard) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)


def _fingerprints(module: Module) -> dict[str, str]:
    """Of the mutated source (with the operators and options) and of the module's tests."""
    source = [(ROOT / module.path).read_text(), repr((EXCLUDED_OPERATORS, PYTEST_OPTIONS))]
    tests = [(ROOT / test.split("::")[0]).read_text() for test in module.tests]
    return {
        "source": hashlib.sha256("\0".join(source).encode()).hexdigest(),
        "tests": hashlib.sha256("\0".join([*module.tests, *tests]).encode()).hexdigest(),
    }


def run(module: Module, *, python: str, fresh: bool, jobs: int) -> None:
    """A session is resumed while the module and its tests are as they were. When only the
    tests changed (tests were added to kill survivors), only the survivors run again: a
    mutant the old tests killed stays killed as long as no test was removed or weakened
    (after that, run with --fresh). When the module changed, every mutant runs again.
    Either way the old session's counts go to history.jsonl first."""
    WORK.mkdir(exist_ok=True)
    copy_tree(module)
    session = WORK / f"{module.name}.sqlite"
    stamp = WORK / f"{module.name}.fingerprint"
    now = _fingerprints(module)
    if session.exists():
        _merge_shards(module, session)
    before = json.loads(stamp.read_text()) if stamp.exists() else None
    if fresh or before is None or before["source"] != now["source"] or not session.exists():
        _keep_history(module)
        session.unlink(missing_ok=True)
    elif before["tests"] != now["tests"]:
        _keep_history(module)
        with sqlite3.connect(session) as db:
            db.execute("delete from work_results where test_outcome = 'SURVIVED'")
    started = time.monotonic()
    baseline = _baseline(module, python=python)
    config = WORK / f"{module.name}.toml"
    command = shlex.join(
        [*ISOLATED, python, "-B", "-m", "pytest", "-x", "-q", *PYTEST_OPTIONS, *module.tests]
    )
    config.write_text(
        "[cosmic-ray]\n"
        f"module-path = {json.dumps(module.path)}\n"
        f"timeout = {max(30.0, 4 * baseline):.0f}.0\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(command)}\n"
        "[cosmic-ray.distributor]\n"
        'name = "local"\n'
        "[cosmic-ray.filters.operators-filter]\n"
        f"exclude-operators = {json.dumps(list(EXCLUDED_OPERATORS))}\n"
    )
    if not session.exists():
        _tool(module, "cosmic-ray", "init", str(config), str(session))
        _tool(module, "cr-filter-operators", str(session), str(config))
        _tool(module, "cr-filter-pragma", str(session))
    stamp.write_text(json.dumps({**now, "commit": _commit()}))  # the tree the session ran on
    print(f"{module.name}: baseline {baseline:.1f} s; running the mutants", flush=True)
    if jobs > 1:
        _exec_shards(module, config, session, jobs)
    else:
        _tool(module, "cosmic-ray", "exec", str(config), str(session))
    counts = _counts(_read(module))
    print(
        f"{module.name}: {counts['killed']}/{counts['total']} killed "
        f"({counts['survived']} survived) in {time.monotonic() - started:.0f} s",
        flush=True,
    )


def _keep_history(module: Module) -> None:
    """A finished session about to be replaced: its counts go to history.jsonl (the
    "before" of a module whose tests were strengthened)."""
    mutants = _read(module)
    counts = _counts(mutants, _reasons())
    if not mutants or counts["pending"]:
        return
    config = WORK / f"{module.name}.toml"
    tests = (
        tomllib.loads(config.read_text())["cosmic-ray"]["test-command"] if config.exists() else ""
    )
    stamp = WORK / f"{module.name}.fingerprint"
    commit = json.loads(stamp.read_text()).get("commit") if stamp.exists() else None
    entry = {"module": module.name, "commit": commit or _commit(), "test_command": tests, **counts}
    OUT.mkdir(parents=True, exist_ok=True)
    with (OUT / "history.jsonl").open("a") as history:
        history.write(json.dumps(entry) + "\n")


def _env(module: Module, shard: int = 0) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tree(module, shard) / "src")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _baseline(module: Module, *, python: str) -> float:
    """The module's tests on the unmutated copy: they must pass; their time sets the timeout."""
    # Bytecode of the unmutated tree, once: each mutant's run then compiles only its
    # mutated module (its source is newer than the copy's pyc, so never a stale pyc).
    subprocess.run([python, "-m", "compileall", "-q", str(tree(module) / "src")], check=True)
    started = time.monotonic()
    done = subprocess.run(
        [*ISOLATED, python, "-B", "-m", "pytest", "-q", *PYTEST_OPTIONS, *module.tests],
        cwd=tree(module),
        env=_env(module),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        sys.exit(f"{module.name}: its tests fail unmutated:\n{done.stdout[-3000:]}")
    return time.monotonic() - started


_OTHER_SHARD = "left to another shard"


def _exec_shards(module: Module, config: Path, session: Path, jobs: int) -> None:
    """`cosmic-ray exec` on ``jobs`` copies of the session at once, each in its own copy of
    the tree and given every jobs-th pending mutant (the rest marked skipped in its copy);
    then each copy's results go back into the session."""
    with sqlite3.connect(session) as db:
        pending = [
            row[0]
            for row in db.execute(
                "select job_id from work_items"
                " where job_id not in (select job_id from work_results) order by job_id"
            )
        ]
    shards = []
    for shard in range(1, jobs + 1):
        copy_tree(module, shard)
        subprocess.run(
            [
                os.environ.get("MUTANTS_PYTHON", sys.executable),
                "-m",
                "compileall",
                "-q",
                str(tree(module, shard) / "src"),
            ],
            check=True,
        )
        copy = WORK / f"{module.name}.shard{shard}.sqlite"
        shutil.copyfile(session, copy)
        others = [job for index, job in enumerate(pending) if index % jobs != shard - 1]
        with sqlite3.connect(copy) as db:
            db.executemany(
                "insert into work_results (worker_outcome, output, job_id)"
                " values ('SKIPPED', ?, ?)",
                [(_OTHER_SHARD, job) for job in others],
            )
        command = [str(BIN / "cosmic-ray"), "exec", str(config), str(copy)]
        shards.append(
            (copy, subprocess.Popen(command, cwd=tree(module, shard), env=_env(module, shard)))
        )
    failed = [copy.name for copy, process in shards if process.wait() != 0]
    _merge_shards(module, session)
    if failed:
        sys.exit(f"{module.name}: cosmic-ray exec failed in {failed}")


def _merge_shards(module: Module, session: Path) -> None:
    """The results in the module's shard sessions into its session (also those of a run that
    was interrupted: called before a run too)."""
    with sqlite3.connect(session) as db:
        for copy in sorted(WORK.glob(f"{module.name}.shard*.sqlite")):
            with sqlite3.connect(copy) as shard_db:
                rows = shard_db.execute(
                    "select worker_outcome, output, test_outcome, diff, job_id from work_results"
                    " where output is null or output != ?",
                    (_OTHER_SHARD,),
                ).fetchall()
            db.executemany("insert or replace into work_results values (?, ?, ?, ?, ?)", rows)
            copy.unlink()


def _tool(module: Module, name: str, *args: str) -> None:
    subprocess.run([str(BIN / name), *args], cwd=tree(module), env=_env(module), check=True)


@dataclass(frozen=True)
class Mutant:
    module: str
    operator: str
    line: int
    outcome: str  # killed, survived, timeout, incompetent, skipped, pending
    diff: str

    def change(self) -> tuple[str, str]:
        """The changed line before and after, stripped: how equivalent.toml names a mutant."""
        lines = self.diff.splitlines()
        before = next((x[1:].strip() for x in lines if x[:1] == "-" and x[:3] != "---"), "")
        after = next((x[1:].strip() for x in lines if x[:1] == "+" and x[:3] != "+++"), "")
        return before, after


def _read(module: Module) -> list[Mutant]:
    session = WORK / f"{module.name}.sqlite"
    if not session.exists():
        return []
    with sqlite3.connect(session) as db:
        rows = db.execute(
            "select s.operator_name, s.start_pos_row, r.worker_outcome, r.test_outcome, r.output,"
            " r.diff from mutation_specs s left join work_results r on r.job_id = s.job_id"
        ).fetchall()
    mutants = []
    for operator, line, worker, test, output, diff in rows:
        worker, test = (worker or "").lower() or None, (test or "").lower() or None
        if worker is None:
            outcome = "pending"
        elif worker == "skipped":
            outcome = "skipped"
        elif test == "killed" and (output or "").strip() == "timeout":
            outcome = "timeout"
        else:
            outcome = test or worker
        mutants.append(Mutant(module.name, operator, line, outcome, diff or ""))
    return sorted(mutants, key=lambda m: (m.line, m.operator))


@dataclass(frozen=True)
class Reasons:
    """Why survivors are equivalent, from equivalent.toml: ``[[mutant]]`` names one by module
    and its changed line before and after; ``[[kind]]`` names a kind of mutant by operator
    and a regular expression its line before matches (in any module, or in ``module`` at
    ``lines`` when given)."""

    mutants: dict[tuple[str, str, str], str]
    kinds: list[dict[str, str]]

    def get(self, mutant: Mutant) -> str | None:
        before, after = mutant.change()
        reason = self.mutants.get((mutant.module, before, after))
        if reason is not None:
            return reason
        for kind in self.kinds:
            if (
                mutant.operator == kind["operator"]
                and re.search(kind["line"], before)
                and kind.get("module", mutant.module) == mutant.module
                and mutant.line in kind.get("lines", [mutant.line])
            ):
                return kind["reason"]
        return None


def _reasons() -> Reasons:
    table = tomllib.loads(EQUIVALENT.read_text()) if EQUIVALENT.exists() else {}
    mutants = {(e["module"], e["before"], e["after"]): e["reason"] for e in table.get("mutant", [])}
    return Reasons(mutants, list(table.get("kind", [])))


def _commit() -> str:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no", "src", "tests", "scripts"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return commit + ("-dirty" if dirty else "")


def _counts(mutants: list[Mutant], reasons: Reasons | None = None) -> dict[str, Any]:
    tested = [m for m in mutants if m.outcome not in ("skipped", "pending", "incompetent")]
    killed = [m for m in tested if m.outcome in ("killed", "timeout")]
    survived = [m for m in tested if m.outcome == "survived"]
    equivalent = [m for m in survived if reasons and reasons.get(m) is not None]
    live = len(tested) - len(equivalent)
    return {
        "total": len(tested),
        "killed": len(killed),
        "timeout": sum(m.outcome == "timeout" for m in tested),
        "survived": len(survived),
        "equivalent": len(equivalent),
        "pending": sum(m.outcome == "pending" for m in mutants),
        "kill_rate": round(len(killed) / len(tested), 4) if tested else None,
        "kill_rate_of_non_equivalent": round(len(killed) / live, 4) if live else None,
    }


def report() -> None:
    """tests/mutants/results.json and results.md from every module's session."""
    reasons = _reasons()
    modules, everything = {}, []
    for module in MODULES:
        mutants = _read(module)
        if not mutants:
            continue
        everything += mutants
        survivors = [m for m in mutants if m.outcome == "survived"]
        stamp = WORK / f"{module.name}.fingerprint"
        saved = json.loads(stamp.read_text()) if stamp.exists() else {}
        modules[module.name] = {
            "path": module.path,
            # the tree the session's mutants ran on (its module and tests)
            "session_commit": saved.get("commit"),
            # the module's source is no longer the one its mutants were made from
            "stale": bool(saved) and saved.get("source") != _fingerprints(module)["source"],
            "tests": list(module.tests),
            **_counts(mutants, reasons),
            "survivors": [
                {
                    "operator": m.operator,
                    "line": m.line,
                    "before": m.change()[0],
                    "after": m.change()[1],
                    "equivalent": reasons.get(m),
                }
                for m in survivors
            ],
        }
    history_file = OUT / "history.jsonl"
    history = (
        [json.loads(line) for line in history_file.read_text().splitlines() if line.strip()]
        if history_file.exists()
        else []
    )
    result = {
        "commit": _commit(),
        "tool": "cosmic-ray 8.7.0",
        "excluded_operators": list(EXCLUDED_OPERATORS),
        "overall": _counts(everything, reasons),
        "modules": modules,
        "history": history,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(result, indent=1) + "\n")
    (OUT / "results.md").write_text(_markdown(result))
    print((OUT / "results.md").read_text())


def _markdown(result: dict) -> str:
    lines = [
        "# Mutation testing of the promise modules",
        "",
        f"Made by `scripts/mutants` with {result['tool']}, reported at {result['commit']}; each",
        "module's mutants run against its own tests only (`scripts/mutants --list`), on the",
        "tree of the commit in its row (a module changed since then needs its session run",
        "again). Killed includes timeouts. Regenerate with `scripts/mutants --report`.",
        "",
        "| module | session at | mutants | killed | timeout | survived | equivalent | kill rate | "
        "kill rate, equivalents left out | before the added tests (first session) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    first: dict[str, str] = {}
    for h in result["history"]:
        if h["module"] not in first and h["kill_rate"] is not None:
            first[h["module"]] = f"{h['killed']}/{h['total']} = {100 * h['kill_rate']:.1f} %"

    def row(name: str, c: dict) -> str:
        def pct(x: float | None) -> str:
            return "-" if x is None else f"{100 * x:.1f} %"

        pending = f" (+{c['pending']} not run)" if c["pending"] else ""
        changed = " (module changed since: run again)" if c.get("stale") else ""
        return (
            f"| {name} | {c.get('session_commit') or '-'}{changed} | {c['total']}{pending} | "
            f"{c['killed']} | {c['timeout']} | "
            f"{c['survived']} | {c['equivalent']} | {pct(c['kill_rate'])} | "
            f"{pct(c['kill_rate_of_non_equivalent'])} | {first.get(name, '-')} |"
        )

    for name, c in result["modules"].items():
        lines.append(row(name, c))
    lines.append(row("**overall**", result["overall"]))
    missing = [m.name for m in MODULES if m.name not in result["modules"]]
    if missing:
        lines += ["", f"Not run yet: {', '.join(missing)}."]
    if result["history"]:
        lines += [
            "",
            "## Earlier sessions (before the tests that were added)",
            "",
            "| module | commit | mutants | killed | survived | kill rate | tests |",
            "|---|---|---|---|---|---|---|",
        ]
        for h in result["history"]:
            rate = "-" if h["kill_rate"] is None else f"{100 * h['kill_rate']:.1f} %"
            tests = " ".join(x for x in h["test_command"].split() if x.startswith("tests/"))
            lines.append(
                f"| {h['module']} | {h['commit']} | {h['total']} | {h['killed']} | "
                f"{h['survived']} | {rate} | {tests} |"
            )
    lines += ["", "## Survivors", ""]
    for name, c in result["modules"].items():
        for s in c["survivors"]:
            why = f"equivalent: {s['equivalent']}" if s["equivalent"] else "**not killed yet**"
            lines.append(
                f"- {name} line {s['line']} `{s['operator']}`: `{s['before']}` -> "
                f"`{s['after']}`; {why}"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
