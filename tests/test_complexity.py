"""No function of the package above cyclomatic complexity 15, counted as radon counts.

ruff's C901 (at 15 in the lint) counts fewer branches: not boolean operators nor
comprehensions, so a function radon rates 22 passes it. This count is radon's
(``radon cc``): 1, plus 1 per ``if``, conditional expression, loop (and its
``else``), ``except`` (and ``try``'s ``else``), ``match`` case, comprehension
(and each of its ``if``), ``and``/``or`` operand after the first, and ``assert``.
A nested function is measured on its own.
"""

from __future__ import annotations

import ast
from pathlib import Path

import hyperdeme

LIMIT = 15
PACKAGE = Path(hyperdeme.__file__).parent
Function = ast.FunctionDef | ast.AsyncFunctionDef


def complexity(function: Function) -> int:
    return 1 + sum(_points(statement) for statement in function.body)


def _points(node: ast.AST) -> int:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return 0  # measured on its own
    if isinstance(node, ast.Assert):
        return 1
    return _own(node) + sum(_points(child) for child in ast.iter_child_nodes(node))


def _own(node: ast.AST) -> int:
    match node:
        case ast.If() | ast.IfExp():
            return 1
        case ast.For() | ast.AsyncFor() | ast.While():
            return 1 + bool(node.orelse)
        case ast.Try():
            return len(node.handlers) + bool(node.orelse)
        case ast.BoolOp():
            return len(node.values) - 1
        case ast.comprehension():
            return 1 + len(node.ifs)
        case ast.Match():
            return len([c for c in node.cases if not _is_wildcard(c.pattern)])
    return 0


def _is_wildcard(pattern: ast.pattern) -> bool:
    return isinstance(pattern, ast.MatchAs) and pattern.pattern is None


def functions(path: Path) -> list[tuple[str, Function]]:
    tree = ast.parse(path.read_text(), str(path))
    found = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    return [(f"{path.relative_to(PACKAGE.parent)}:{f.lineno} {f.name}", f) for f in found]


def test_no_function_is_above_complexity_15() -> None:
    scores = {
        name: complexity(function)
        for path in sorted(PACKAGE.rglob("*.py"))
        for name, function in functions(path)
    }
    assert len(scores) > 500  # the whole package was read
    assert {name: n for name, n in scores.items() if n > LIMIT} == {}


def test_the_count_is_radons() -> None:
    source = """
def f(a, b):
    if a and b or a:                      # 1 + 2
        return [x for x in a if x if b]   # 3
    for _ in a:                           # 1, + 1 for else
        pass
    else:
        pass
    try:                                  # 2 handlers + else
        pass
    except ValueError:
        pass
    except TypeError:
        pass
    else:
        pass
    assert a and b                        # 1, its operands not counted
    match a:                              # 2 cases, not the wildcard
        case 1:
            pass
        case 2:
            pass
        case _:
            pass
    def inner():                          # on its own
        if a:
            pass
    return b if a else a                  # 1
"""
    function = ast.parse(source).body[0]
    assert isinstance(function, ast.FunctionDef)
    assert complexity(function) == 1 + 3 + 3 + 2 + 3 + 1 + 2 + 1
