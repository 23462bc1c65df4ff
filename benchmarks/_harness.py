"""What every benchmark shares: interleaved timing, medians, machine info, JSON and tables.

Ratios are only ever formed between numbers measured in the same run, by
:func:`interleave`: repeat ``r`` runs every runner once, in an order rotated by
``r`` (ABC BCA CAB ...), so drift of a shared, noisy machine hits all of them
alike; the reported figure is the median over the repeats.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
PACKAGES = (
    "hyperdeme",
    "anyio",
    "trio",
    "numpy",
    "optuna",
    "cmaes",
    "nevergrad",
    "deap",
    "scikit-learn",
    "psutil",
    "py-spy",
    "pyinstrument",
)


# ----------------------------------------------------------------------------- statistics
def interleave(runners: Mapping[str, Callable[[], float]], repeats: int) -> dict[str, list[float]]:
    """Each runner ``repeats`` times, rotated ABC BCA CAB ...; the values each returned."""
    names = list(runners)
    values: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            values[name].append(runners[name]())
    return values


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    """(first quartile, median, third quartile), inclusive method; one value: all three."""
    finite = sorted(values)
    if not finite:
        return math.nan, math.nan, math.nan
    if len(finite) == 1:
        return finite[0], finite[0], finite[0]
    q1, q2, q3 = statistics.quantiles(finite, n=4, method="inclusive")
    return q1, q2, q3


def slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of ``ys`` against ``xs`` (nan with fewer than two points)."""
    if len(xs) < 2:
        return math.nan
    return statistics.linear_regression(xs, ys).slope


# ----------------------------------------------------------------------------- machine
def machine_info(command: str) -> dict[str, Any]:
    """Cores, CPU model, Python, package versions, date, git commit and the exact command."""
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "date": now(),
        "command": command,
        "cpu_model": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "packages": versions,
        "git": _git_state(),
    }


def now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def command_line() -> str:
    """What the user typed: ``scripts/bench`` exports it, else this interpreter's argv."""
    return os.environ.get("BENCH_COMMAND") or shlex.join([sys.executable, *sys.argv])


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


#: where a run's own output goes: changes there do not make the measured tree dirty
_OUTPUTS = ("benchmarks/results/", ".bench-scratch/")


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.rstrip("\n") if done.returncode == 0 else ""


def changed_files() -> list[str]:
    """What differs from the commit (modified, staged, untracked), but the benchmarks'
    own results: the code measured is the commit's only when this is empty."""
    lines = _git("status", "--porcelain", "--untracked-files=all").splitlines()
    paths = [line[3:].split(" -> ")[-1].strip('"') for line in lines if len(line) > 3]
    return [path for path in paths if not path.startswith(_OUTPUTS)]


def _git_state() -> dict[str, Any]:
    changed = changed_files()
    return {"commit": _git("rev-parse", "HEAD"), "dirty": bool(changed), "changed": changed}


def require_clean_tree(*, allow_dirty: bool) -> None:
    """Refuse to measure a tree that is not a commit (unless ``allow_dirty``): a result
    must say which code it measured, and only a commit can. With ``allow_dirty`` the
    result files say ``"dirty": true`` and their tables open with a warning."""
    changed = changed_files()
    if not changed or allow_dirty:
        return
    more = f" and {len(changed) - 10} more" if len(changed) > 10 else ""
    shown = ", ".join(changed[:10]) + more
    raise SystemExit(
        f"scripts/bench: the working tree differs from its commit ({shown}); a result must "
        "name the code it measured: commit (or stash) first, or pass --allow-dirty for a "
        "result marked as not to be quoted."
    )


def dirty_warning(machine: Mapping[str, Any]) -> str:
    """The Markdown warning a result measured from a dirty tree opens with ('' if clean)."""
    git = machine.get("git", {})
    if not git.get("dirty"):
        return ""
    changed = git.get("changed", [])
    return (
        f"> **WARNING: measured from a dirty tree** (commit {git.get('commit', '?')[:12]} plus "
        f"uncommitted changes to {len(changed)} file(s): {', '.join(changed[:10])}). "
        "Not a result to quote.\n\n"
    )


@contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A temporary directory on the real disk (the system temp dir unless it is tmpfs);
    the directories :func:`fresh_cwd` made meanwhile are removed with it."""
    base = Path(tempfile.gettempdir())
    if filesystem(base) == "tmpfs":
        base = ROOT / ".bench-scratch"
        base.mkdir(exist_ok=True)
    try:
        with tempfile.TemporaryDirectory(prefix=prefix, dir=base) as path:
            yield Path(path)
    finally:
        _remove_used()


def baseline_source(rev: str) -> Path:
    """The ``src`` directory of hyperdeme at git revision ``rev`` (a detached worktree
    under ``.bench-scratch/``, made once): the "before" of a before/after comparison."""
    commit = subprocess.run(
        ["git", "rev-parse", "--verify", f"{rev}^{{commit}}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if commit.returncode != 0:
        raise SystemExit(f"--baseline: {rev!r} is not a commit of this repository")
    tree = ROOT / ".bench-scratch" / f"baseline-{commit.stdout.strip()[:12]}"
    if not (tree / "src" / "hyperdeme").is_dir():
        tree.parent.mkdir(exist_ok=True)
        subprocess.run(
            ["git", "worktree", "add", "--detach", "--force", str(tree), commit.stdout.strip()],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
    return tree / "src"


#: directories fresh_cwd made, removed when the scratch directory goes (see fresh_cwd)
_USED: list[Path] = []


@contextmanager
def fresh_cwd(root: Path) -> Iterator[Path]:
    """A new empty working directory under ``root``, entered; removed with the scratch
    directory, not at once: ext4 skips inodes freed in the last seconds when it
    allocates new ones (``recently_deleted``), so deleting a runner's thousand files
    just before the next runner's turn made that runner's file creation several times
    slower (perf: 40 % of a hyperdeme driver's time in ``recently_deleted``), a cost of
    the benchmark, not of any runner."""
    directory = root / f"m{time.monotonic_ns()}"
    directory.mkdir()
    _USED.append(directory)
    previous = Path.cwd()
    os.chdir(directory)
    try:
        yield directory
    finally:
        os.chdir(previous)


def _remove_used() -> None:
    while _USED:
        shutil.rmtree(_USED.pop(), ignore_errors=True)


def disk_latency(directory: Path, count: int = 30) -> dict[str, float]:
    """Median milliseconds, in ``directory``, of what a process trial costs the disk:
    ``fsync_ms`` appends a journal-sized line and fsyncs it; ``trial_dir_ms`` makes a
    directory with three small files (params.json, stdout.log, stderr.log)."""
    fsyncs, trial_dirs = [], []
    probe = directory / "disk-probe"
    probe.mkdir()
    with open(probe / "journal", "ab") as file:
        for i in range(count):
            start = time.perf_counter()
            file.write(b"x" * 300 + b"\n")
            file.flush()
            os.fsync(file.fileno())
            fsyncs.append(time.perf_counter() - start)
            start = time.perf_counter()
            (probe / str(i)).mkdir()
            for name in ("params.json", "stdout.log", "stderr.log"):
                (probe / str(i) / name).write_bytes(b"{}")
            trial_dirs.append(time.perf_counter() - start)
    shutil.rmtree(probe)
    return {"fsync_ms": median(fsyncs) * 1e3, "trial_dir_ms": median(trial_dirs) * 1e3}


def filesystem(path: Path) -> str:
    """The file system type holding ``path`` (from /proc/mounts; '' if unknown)."""
    try:
        mounts = [line.split() for line in Path("/proc/mounts").read_text().splitlines()]
    except OSError:
        return ""
    resolved, best, kind = str(path.resolve()), "", ""
    for fields in mounts:
        point = fields[1]
        if (resolved == point or resolved.startswith(point.rstrip("/") + "/")) and len(point) > len(
            best
        ):
            best, kind = point, fields[2]
    return kind


# ----------------------------------------------------------------------------- output
@dataclass
class Table:
    """A Markdown table, also readable as plain text."""

    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        self.rows.append([cell if isinstance(cell, str) else fmt(cell) for cell in cells])

    def render(self) -> str:
        widths = [len(c) for c in self.columns]
        for row in self.rows:
            widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

        def line(cells: Sequence[str]) -> str:
            return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

        out = [f"### {self.title}", "", line(self.columns)]
        out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        out += [line(row) for row in self.rows]
        out += [""] + [f"- {note}" for note in self.notes] if self.notes else []
        return "\n".join(out) + "\n"


def fmt(value: object, digits: int = 3) -> str:
    """Numbers with ``digits`` significant digits, nan/None as '-'."""
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "-" if math.isnan(value) else str(value)
    if isinstance(value, int) or (float(value).is_integer() and abs(value) < 1e6):
        return str(int(value))
    if value and abs(value) < 1e-3:
        return f"{value:.{digits - 1}e}"
    magnitude = math.floor(math.log10(abs(value))) if value else 0
    decimals = max(0, digits - 1 - magnitude)
    return f"{value:.{decimals}f}"


def run_alone(
    main: Callable[[bool, Any], Sequence[Table]], description: str | None, *, baseline: bool = False
) -> None:
    """``python benchmarks/<name>.py [--quick] [--repeats N] [--baseline REV]``: one
    benchmark run by itself, its tables printed (``python -m benchmarks`` saves them)."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=0)
    if baseline:
        parser.add_argument("--baseline", default="", metavar="REV")
    parsed = parser.parse_args()
    for table in main(parsed.quick, parsed):
        print(table.render())


def verdict(value: float, target: float, higher_is_better: bool = True) -> str:
    """'yes'/'NO' for a target, '-' when not measured."""
    if math.isnan(value):
        return "-"
    ok = value >= target if higher_is_better else value <= target
    return "yes" if ok else "NO"


def result_path(name: str, quick: bool) -> Path:
    return RESULTS / (f"{name}-quick.json" if quick else f"{name}.json")


def load(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data


def save(path: Path, data: Mapping[str, Any], tables: Sequence[Table] = ()) -> None:
    """Write ``data`` as JSON (atomically) and, with tables, ``<name>.md`` beside it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(_finite(data), indent=1, default=_json_default) + "\n")
    temporary.replace(path)
    if tables:
        machine = data.get("machine", {})
        header = f"<!-- {machine.get('command', '')} -->\n\n{dirty_warning(machine)}"
        path.with_suffix(".md").write_text(header + "\n".join(t.render() for t in tables))


def save_benchmark(name: str, quick: bool, tables: Sequence[Table], **fields: Any) -> list[Table]:
    """Save a benchmark's result (its name, the machine, then ``fields``) and its tables
    under :func:`result_path`; return the tables."""
    data = {"benchmark": name, "machine": machine_info(command_line()), **fields}
    save(result_path(name, quick), data, tables)
    return list(tables)


def _finite(value: Any) -> Any:
    """JSON has no inf/nan: such floats become the strings 'inf', '-inf', 'nan'."""
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, Mapping):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _json_default(value: object) -> object:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | tuple):
        return list(value)
    raise TypeError(f"not JSON-able: {value!r}")
