"""The ``hyperdeme`` command's argument parser: its sub-commands, options and help texts."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

import hyperdeme

from ._commands import (
    best_command,
    export_command,
    list_command,
    report_command,
    run_command,
    serve_command,
    status_command,
)

__all__ = ["parser"]

_DESCRIPTION = """\
Tune the hyperparameters of a training program: run it many times with
different command-line flags and minimize the `FoM: <number>` it prints.
"""

_EPILOG = """\
examples:
  hyperdeme run experiment.toml            run the experiment the file describes
  hyperdeme run experiment.toml --dry-run  check the file, show the first command lines
  hyperdeme status run/mnist               trials done, failed, running; the best so far
  hyperdeme list run                       one line per experiment under the run path
  hyperdeme serve run                      a live dashboard at http://127.0.0.1:8080
  hyperdeme best run/mnist                 the best flags (--lr=0.003 --optimizer=adam), to paste
                                           after the command
  hyperdeme export run/mnist               the trials as CSV (--json: JSON lines; -o FILE)
  hyperdeme report run/mnist               report.html and PNG plots in run/mnist
  hyperdeme --list-plugins                 launchers, strategies and early-stopping rules:
                                           built-in and installed as plug-ins (entry points)

exit codes: 0 success, 1 the run failed, 2 usage or configuration error.
"""

_RUN_EPILOG = """\
The experiment file (TOML):

  command = "python3 train.py --epochs 3"  # the program, without its hyperparameter flags
  name = "mnist"                           # run directory: <run_path>/mnist (optional)
  [evaluator]                              # any hyperdeme.Evaluator keyword
  src_path = "src"                         # relative paths: relative to this file
  run_path = "run"                         # (the default: run, beside this file)
  num_parallel_evals = 4
  [optimizer]
  type = "genetic"                         # random | grid | genetic | pbt | cmaes | optuna
  generations = 10                         # any keyword of that optimizer
  pop_size = 16
  max_evals = 160                          # 160 trials in all; without it 10 generations
                                           # x 16 x 4 demes (num_demes' default) = 640
  [params."--lr"]                          # one table per flag, in order
  default = 0.01
  range = [1e-5, 1.0]                      # two ints: an integer range
  log = true
  [params."--optimizer"]
  values = ["sgd", "adam"]
  [params."--momentum"]
  range = [0.0, 0.99]
  [[conditions]]                           # equals | not_equals | greater_than | less_than | inside
  type = "equals"
  dependent = "--momentum"                 # --momentum only where --optimizer is sgd
  parent = "--optimizer"
  value = "sgd"

Paths in the file are relative to the file's directory; --run-path is relative to the
current directory. Ctrl-C or SIGTERM stops the run cleanly and prints the command line
that continues it (--resume). Off a terminal (a batch job's log) a plain progress line
is printed every --progress-every seconds.
"""


_EXPORT_EPILOG = """\
CSV columns: id, status, fom, objective.<name> (several objectives), metric.<name>,
one per parameter (its flag; empty where inactive), attempts, returncode, deme,
steps, intermediate (the kept intermediate FoMs as a JSON list of [step, fom]),
started and ended (ISO 8601, UTC), started_unix and ended_unix (Unix seconds),
duration (seconds). --json writes the same fields, one JSON object per line.
"""


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hyperdeme",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=hyperdeme.__version__)
    parser.add_argument(
        "--list-plugins",
        action=_ListPlugins,
        help="list the launchers, strategies and early-stopping rules, built-in and "
        "installed as plug-ins (entry points), and exit",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    run = _command(
        commands,
        "run",
        run_command,
        "run an experiment described in a TOML file",
        epilog=_RUN_EPILOG,
    )
    run.add_argument(
        "experiment", type=Path, metavar="EXPERIMENT.toml", help="the experiment file (below)"
    )
    run.add_argument(
        "--run-path",
        metavar="DIR",
        help="where run directories go, relative to the current directory (overrides the "
        "file's evaluator.run_path, which is relative to the file; default: run beside it)",
    )
    run.add_argument(
        "--resume",
        action="store_true",
        help="continue in an existing run directory (trial numbering continues); a larger "
        "budget in the file, or --max-evals, continues it to that budget",
    )
    run.add_argument(
        "--max-evals",
        type=_positive,
        metavar="N",
        help="evaluate N trials in all (overrides the file's budget: random num_iters, "
        "genetic max_evals; grid, pbt and plug-ins stop after N); with --resume a larger N "
        "continues the experiment",
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="check the file and print the first command lines, run nothing",
    )
    run.add_argument(
        "--quiet", action="store_true", help="no progress display and no summary, only errors"
    )
    run.add_argument(
        "--progress-every",
        type=_seconds,
        default=60.0,
        metavar="SECONDS",
        help="when stderr is not a terminal (a batch job, 2>log): a plain progress line "
        "every SECONDS (default: 60); on a terminal the line is live",
    )

    for name, handler, text in (
        ("status", status_command, "trials done, failed and running; the best FoM and its flags"),
        (
            "best",
            best_command,
            "the best parameters as flags, to paste after the command (several "
            "objectives: each trial of the Pareto front)",
        ),
    ):
        where = "a run directory (holds trials.jsonl)"
        if name == "status":
            where += (
                "; a folder of them (lists them, as `list` does); or an experiment file "
                "(.toml: the experiment it names)"
            )
        _command(commands, name, handler, text).add_argument(
            "run_dir", type=Path, metavar="RUN_DIR", help=where
        )

    listing = _command(
        commands,
        "list",
        list_command,
        "one line per experiment under a run path: state, trials, best FoM, last activity",
    )
    listing.add_argument(
        "run_path",
        type=Path,
        nargs="?",
        default=Path("run"),
        metavar="RUN_PATH",
        help="a folder of experiments (default: run)",
    )
    serve = _command(
        commands,
        "serve",
        serve_command,
        "a read-only live dashboard of the experiments under a run path (needs hyperdeme[serve])",
    )
    serve.add_argument(
        "run_path",
        type=Path,
        nargs="?",
        default=Path("run"),
        metavar="RUN_PATH",
        help="a folder of experiments, or one experiment (default: run)",
    )
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1; any other needs a token)",
    )
    serve.add_argument("--port", type=int, default=8080, help="port (default: 8080; 0: any free)")
    serve.add_argument(
        "--token",
        nargs="?",
        const="",
        metavar="T",
        help="every request must carry it (?token=T once, then a cookie); --token alone: "
        "generate one and print it; needed for any --host but a loopback address",
    )

    export = _command(
        commands,
        "export",
        export_command,
        "the trials as a table, one row per trial (CSV, or JSON lines)",
        epilog=_EXPORT_EPILOG,
    )
    export.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    formats = export.add_mutually_exclusive_group()
    formats.add_argument(
        "--csv", action="store_true", help="comma-separated values, header first (the default)"
    )
    formats.add_argument(
        "--json", action="store_true", help="JSON lines: one object per trial and line"
    )
    export.add_argument(
        "--raw",
        action="store_true",
        help="CSV: write text cells as they are (by default a text cell starting with "
        "= + - @ tab or CR gets a leading ' so a spreadsheet does not run it as a formula)",
    )
    export.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write here instead of stdout"
    )

    report = _command(
        commands, "report", report_command, "report.html and PNG plots (needs hyperdeme[plot])"
    )
    report.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    report.add_argument(
        "-o",
        "--output-dir",
        type=Path,
        metavar="DIR",
        help="where to write them (default: RUN_DIR)",
    )
    return parser


class _ListPlugins(argparse.Action):
    """``--list-plugins``: print what is installed and exit, like ``--version``."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str) -> None:
        super().__init__(
            option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, nargs=0, help=help
        )

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        from ._plugins import plugin_lines

        print("\n".join(plugin_lines()))
        parser.exit()


def _positive(text: str) -> int:
    """``--max-evals``'s value: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}")
    return value


def _seconds(text: str) -> float:
    """``--progress-every``'s value: a number of seconds > 0."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a number of seconds > 0, got {text!r}")
    return value


def _command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    handler: Callable[[argparse.Namespace, TextIO], int],
    text: str,
    *,
    epilog: str | None = None,
) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        name,
        help=text,
        description=text[0].upper() + text[1:] + ".",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(command=handler, name=name)
    return parser
