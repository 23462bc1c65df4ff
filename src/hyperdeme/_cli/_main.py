"""The ``hyperdeme`` command: dispatch, messages and exit codes.

The parser is in :mod:`._parser`, what each sub-command does in :mod:`._commands`.

Exit codes: 0 success, 1 the run (or the command's work) failed, 2 usage or
configuration error, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from ._errors import EXIT_FAILED, EXIT_USAGE, CommandError, Interrupted
from ._parser import parser as make_parser

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    parser = make_parser()
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
