"""A value put in place of a token in a shell command line, quoted for where it stands.

``@checkpoint`` may be written bare (``--ckpt @checkpoint``), inside double
quotes (``--ckpt="@checkpoint"``) or inside single quotes
(``'@checkpoint/model.pt'``). One quoting cannot serve all three: a path
quoted with :func:`shlex.quote` inside double quotes keeps its single quotes,
and inside single quotes it ends the quoting early. So the line is scanned with
the POSIX shell's quoting rules and each occurrence is replaced by the value
quoted for its context:

- bare: ``shlex.quote(value)``;
- in double quotes: the value with ``\\``, ``"``, ``$`` and a backquote escaped
  by a backslash (the characters that keep their meaning there);
- in single quotes: the quoting is closed, ``shlex.quote(value)`` inserted and
  the quoting opened again (``'...'\\''...'`` style; nothing can be escaped
  inside single quotes).

A backslash outside single quotes escapes the next character, as in the
shell, so ``\\@checkpoint`` is kept as written. Not modelled: ``$'...'``
(bash's ANSI-C quoting) and the fresh quoting context inside ``$(...)``; a
token there is quoted as for the context around it. Written by hand because
:mod:`shlex` splits a line into words but does not say where each character
of it stood.
"""

from __future__ import annotations

import shlex

__all__ = ["substitute"]

_DOUBLE_QUOTED_SPECIALS = str.maketrans({c: "\\" + c for c in '\\"$`'})


def _quoted(value: str, context: str) -> str:
    if context == '"':
        return value.translate(_DOUBLE_QUOTED_SPECIALS)
    if context == "'":
        return "'" + shlex.quote(value) + "'"
    return shlex.quote(value)


def _word_goes_on(line: str, end: int) -> bool:
    return end < len(line) and (line[end].isalnum() or line[end] == "_")


def substitute(line: str, token: str, value: str, *, whole_word: bool = False) -> str:
    """``line`` with every ``token`` replaced by ``value``, quoted for its context.

    ``whole_word``: only where no letter, digit or ``_`` follows the token (``@python``
    is a token, ``@python3`` or ``@python_path`` are not).
    """
    if token not in line:
        return line
    out: list[str] = []
    context = ""  # "", "'" or '"': the quoting the scan is in
    i = 0
    while i < len(line):
        char = line[i]
        if line.startswith(token, i) and not (whole_word and _word_goes_on(line, i + len(token))):
            out.append(_quoted(value, context))
            i += len(token)
            continue
        if char == "\\" and context != "'":  # escapes the next character as written
            out.append(line[i : i + 2])
            i += 2
            continue
        if char in "'\"" and context in ("", char):
            context = "" if context == char else char
        out.append(char)
        i += 1
    return "".join(out)
