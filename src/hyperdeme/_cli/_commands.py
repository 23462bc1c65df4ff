"""What each of the ``hyperdeme`` command's sub-commands does, given its parsed arguments.

Each takes the parsed arguments and the stream to write to, and returns the exit code;
errors are raised as :mod:`._errors`' exceptions, turned into messages and exit codes
by :func:`._main.main`. The modules that do the work are imported by the command that
needs them, so ``hyperdeme --help`` stays quick.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, TextIO

from ._errors import EXIT_OK, UsageProblem

if TYPE_CHECKING:
    from ._experiment import ExperimentFile

__all__ = [
    "best_command",
    "export_command",
    "list_command",
    "report_command",
    "run_command",
    "serve_command",
    "status_command",
]


def run_command(arguments: argparse.Namespace, out: TextIO) -> int:
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


def status_command(arguments: argparse.Namespace, out: TextIO) -> int:
    from ._status import status_of

    print("\n".join(status_of(arguments.run_dir)), file=out)
    return EXIT_OK


def list_command(arguments: argparse.Namespace, out: TextIO) -> int:
    from ._list import list_lines

    print("\n".join(list_lines(arguments.run_path)), file=out)
    return EXIT_OK


def serve_command(arguments: argparse.Namespace, out: TextIO) -> int:
    from ._serve import serve

    serve(
        arguments.run_path, host=arguments.host, port=arguments.port, token=arguments.token, out=out
    )
    return EXIT_OK


def best_command(arguments: argparse.Namespace, out: TextIO) -> int:
    from ._best import best_flags
    from ._journal_view import read_run

    view = read_run(arguments.run_dir)
    if len(view.objectives) > 1:  # several objectives: the Pareto front
        from ._front import front_flags

        print("\n".join(front_flags(view)), file=out)
        return EXIT_OK
    print(best_flags(view), file=out)
    return EXIT_OK


def export_command(arguments: argparse.Namespace, out: TextIO) -> int:
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


def report_command(arguments: argparse.Namespace, out: TextIO) -> int:
    from ._journal_view import read_run
    from ._report import write_report

    report = write_report(read_run(arguments.run_dir), directory=arguments.output_dir)
    print(f"report: {report.html}", file=out)
    for image in report.images:
        print(f"plot: {image}", file=out)
    return EXIT_OK
