"""Build an evaluation's shell command: a pure function of the parameters."""

from __future__ import annotations

import json
import numbers
import shlex
import sys
from collections.abc import Mapping
from typing import Any

from .._space._values import is_bool
from ._substitute import substitute

__all__ = [
    "CHECKPOINT_TOKEN",
    "PYTHON_TOKEN",
    "build_command",
    "format_value",
    "hyperparameter_args",
]

CHECKPOINT_TOKEN = "@checkpoint"
#: the driver's own interpreter (``sys.executable``), not the ``python3`` on PATH
PYTHON_TOKEN = "@python"


def format_value(value: Any) -> str:
    """How a value is written on the command line.

    Floats in shortest round-trip form (``repr``), ints as ints, strings as
    they are, anything else as JSON. NumPy scalars are written like the
    Python numbers they stand for (``0.25``, not ``np.float64(0.25)``).
    """
    if isinstance(value, str):
        return value
    if is_bool(value):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))
    return json.dumps(value)


def hyperparameter_args(params: Mapping[str, Any]) -> list[str]:
    """``flag=value`` per parameter (crayai's convention), unquoted.

    A flag containing a space splits there: ``"--optimizer lr"`` with 0.1
    gives the two arguments ``--optimizer`` and ``lr=0.1``.
    """
    args: list[str] = []
    for flag, value in params.items():
        head, _, tail = flag.rpartition(" ")
        if head:
            args.extend(head.split())
        args.append(f"{tail}={format_value(value)}")
    return args


def build_command(
    cmd: str,
    params: Mapping[str, Any],
    *,
    nodes_flag: str | None = None,
    nodes: int = 1,
    checkpoint_dir: str | None = None,
) -> str:
    """The full shell command for one evaluation.

    ``cmd`` is the user's command, run by a shell as written; every argument
    added here is quoted with :func:`shlex.quote`, so a value such as
    ``"; touch /tmp/x"`` reaches the program as one literal argument.
    ``@checkpoint`` in ``cmd`` becomes the checkpoint directory, quoted for where it
    stands: bare, or inside double or single quotes (see :mod:`._substitute`).
    ``@python`` (a whole word: not ``@python3``) becomes the driver's interpreter,
    ``sys.executable``, quoted the same way: the venv hyperdeme runs in, where a bare
    ``python3`` is whichever one PATH finds first.
    """
    cmd = substitute(cmd, PYTHON_TOKEN, sys.executable, whole_word=True)
    if checkpoint_dir is not None:
        cmd = substitute(cmd, CHECKPOINT_TOKEN, checkpoint_dir)
    args = hyperparameter_args(params)
    if nodes_flag is not None and nodes_flag not in params:
        args.extend(hyperparameter_args({nodes_flag: nodes}))
    if not args:
        return cmd
    return cmd + " " + " ".join(shlex.quote(arg) for arg in args)
