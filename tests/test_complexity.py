"""No function of the package above cyclomatic complexity 15, counted by radon.

ruff's C901 (at 15 in the lint) counts fewer branches than radon: not boolean
operators nor comprehensions, so a function radon rates 22 passes it. This test
asks radon itself (``radon cc``), the tool the issue named, for every function
and method of the package.
"""

from __future__ import annotations

from pathlib import Path

from radon.complexity import cc_visit
from radon.visitors import Class, Function

import hyperdeme

LIMIT = 15
PACKAGE = Path(hyperdeme.__file__).parent


def functions(source: str) -> list[Function]:
    """Every function and method radon finds in ``source``, nested ones included."""
    found: list[Function] = []
    pending = list(cc_visit(source))
    while pending:
        block = pending.pop()
        if isinstance(block, Class):
            pending.extend(block.methods)
            pending.extend(block.inner_classes)
        else:
            found.append(block)
            pending.extend(block.closures)
    return found


def test_no_function_is_above_the_limit() -> None:
    blocks = [
        (path, block)
        for path in sorted(PACKAGE.rglob("*.py"))
        for block in functions(path.read_text())
    ]
    assert len(blocks) > 500  # the whole package was read
    too_complex = [
        f"{path.relative_to(PACKAGE.parent)}:{block.lineno} {block.fullname} {block.complexity}"
        for path, block in blocks
        if block.complexity > LIMIT
    ]
    assert too_complex == [], "split these functions (radon cc above 15):\n" + "\n".join(
        too_complex
    )


def test_radon_counts_boolean_operators_and_comprehensions() -> None:
    # the reason this test exists beside ruff's C901: a function C901 passes, radon does not
    conditions = " and ".join(f"x{i}" for i in range(16))
    source = f"def f({', '.join(f'x{i}' for i in range(16))}):\n    return {conditions}\n"
    (block,) = functions(source)
    assert block.complexity > LIMIT
