"""The ``hyperdeme`` command: argument parsing, dispatch, messages and exit codes.

Exit codes: 0 success, 1 the run (or the command's work) failed, 2 usage or
configuration error, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import hyperdeme

from ._errors import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    CommandError,
    Interrupted,
    UsageProblem,
)

if TYPE_CHECKING:
    from ._experiment import ExperimentFile

__all__ = ["main"]

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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    parser = _parser()
    try:
        arguments = parser.parse_args(argv)
    except SystemExit as exit:  # --help, --version, or a usage error (2, said on stderr)
        return exit.code if isinstance(exit.code, int) else EXIT_USAGE
    command: Callable[[argparse.Namespace, TextIO], int] = arguments.command
    try:
        return command(arguments, sys.stdout)
    except Interrupted as stop:  # not an error: the run stopped as asked
        print(f"hyperdeme {arguments.name}: {stop}", file=sys.stderr)
        return stop.exit_code
    except CommandError as error:
        print(f"hyperdeme {arguments.name}: error: {error}", file=sys.stderr)
        return error.exit_code
    except BrokenPipeError:  # `hyperdeme export ... | head`: the reader left
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush is quiet
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"hyperdeme {arguments.name}: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
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
        _run,
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
        ("status", _status, "trials done, failed and running; the best FoM and its flags"),
        (
            "best",
            _best,
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
        _list,
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
        _serve,
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
        _export,
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
        commands, "report", _report, "report.html and PNG plots (needs hyperdeme[plot])"
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


def _run(arguments: argparse.Namespace, out: TextIO) -> int:
    from ._experiment import load_experiment
    from ._run import dry_run, run_experiment

    experiment = load_experiment(
        arguments.experiment, run_path=arguments.run_path, max_evals=arguments.max_evals
    )
    _moved_run_dir(experiment, resume=arguments.resume)
    if arguments.dry_run:
        dry_run(experiment, out=out)
        return EXIT_OK
    run_experiment(
        experiment,
        resume=arguments.resume,
        quiet=arguments.quiet,
        out=out,
        again=_resume_line(arguments),
        progress_every=arguments.progress_every,
    )
    return EXIT_OK


def _moved_run_dir(experiment: ExperimentFile, *, resume: bool) -> None:
    """Keep hyperdeme 0.2's users safe: their run directory was in the current directory's
    ``run``, now it is beside the file. Warn; refuse a resume that would start afresh."""
    old = experiment.old_run_dir
    if old is None:
        return
    from ._engine_internals import DEFAULT_RUN_PATH

    fix = f"pass --run-path {DEFAULT_RUN_PATH} to use the old place, or set run_path in [evaluator]"
    said = (
        f"the run directory is {experiment.run_dir} (the default run_path is relative to "
        f"the experiment file now); {old} (relative to the current directory, where "
        "hyperdeme 0.2 put it) exists"
    )
    if resume and not experiment.run_dir.exists():
        raise UsageProblem(f"{said}, and holds what --resume would continue: {fix}.")
    print(f"hyperdeme run: warning: {said}: {fix}.", file=sys.stderr)


def _resume_line(arguments: argparse.Namespace) -> list[str]:
    """The command line that continues this run: the same file and options, ``--resume``."""
    line = ["hyperdeme", "run", str(arguments.experiment)]
    if arguments.run_path is not None:
        line += ["--run-path", arguments.run_path]
    if arguments.max_evals is not None:
        line += ["--max-evals", str(arguments.max_evals)]
    return [*line, "--resume"]


def _status(arguments: argparse.Namespace, out: TextIO) -> int:
    from ._status import status_of

    print("\n".join(status_of(arguments.run_dir)), file=out)
    return EXIT_OK


def _list(arguments: argparse.Namespace, out: TextIO) -> int:
    from ._list import list_lines

    print("\n".join(list_lines(arguments.run_path)), file=out)
    return EXIT_OK


def _serve(arguments: argparse.Namespace, out: TextIO) -> int:
    from ._serve import serve

    serve(
        arguments.run_path, host=arguments.host, port=arguments.port, token=arguments.token, out=out
    )
    return EXIT_OK


def _best(arguments: argparse.Namespace, out: TextIO) -> int:
    from ._best import best_flags
    from ._journal_view import read_run

    view = read_run(arguments.run_dir)
    if len(view.objectives) > 1:  # several objectives: the Pareto front
        from ._front import front_flags

        print("\n".join(front_flags(view)), file=out)
        return EXIT_OK
    print(best_flags(view), file=out)
    return EXIT_OK


def _export(arguments: argparse.Namespace, out: TextIO) -> int:
    from ._export import write_csv, write_json
    from ._journal_view import read_run

    view = read_run(arguments.run_dir)

    def write(handle: TextIO) -> None:
        if arguments.json:
            write_json(view.trials, handle)
        else:
            write_csv(view.trials, handle, raw=arguments.raw)

    if arguments.output is None:
        write(out)
        return EXIT_OK
    try:
        with arguments.output.open("w", newline="", encoding="utf-8") as handle:
            write(handle)
    except OSError as error:
        raise UsageProblem(f"cannot write {arguments.output}: {error.strerror}.") from None
    return EXIT_OK


def _report(arguments: argparse.Namespace, out: TextIO) -> int:
    from ._journal_view import read_run
    from ._report import write_report

    report = write_report(read_run(arguments.run_dir), directory=arguments.output_dir)
    print(f"report: {report.html}", file=out)
    for image in report.images:
        print(f"plot: {image}", file=out)
    return EXIT_OK
