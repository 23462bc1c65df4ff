"""A griffe extension for the reference site (``mkdocs.yml``): the docstrings' reST roles
(``:class:`~hyperdeme.ASHA```), which mkdocstrings would print as they are, become
Markdown: a link to the name's page when it is a public name of ``hyperdeme`` or of one of
its public subpackages (every one has a page, so the link resolves), else the name as code
(``~`` keeps its last part). And signatures show the value of a default written as a
private name (``_E.src_path``), as Python has it."""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|mod|data|exc|obj):`(~?)([\w.]+)`")


#: the public subpackages whose names have pages too (scripts/_docs.py's SUBPACKAGES)
_SUBPACKAGES = ("hpo", "strategies", "launchers", "early_stopping")


def _public() -> frozenset[str]:
    """What has a page: ``X`` for ``hyperdeme.X``, ``strategies.X`` for a subpackage's."""
    import hyperdeme  # this checkout's: scripts/docs puts src first on PYTHONPATH

    names = set(hyperdeme.__all__) | set(_SUBPACKAGES)
    for package in _SUBPACKAGES:
        module = importlib.import_module(f"hyperdeme.{package}")
        names |= {f"{package}.{name}" for name in module.__all__}
    return frozenset(names)


def markdown_roles(text: str, public: frozenset[str]) -> str:
    def replace(match: re.Match[str]) -> str:
        short, target = match.group(1), match.group(2)
        shown = target.rsplit(".", 1)[-1] if short else target
        name = target.removeprefix("hyperdeme.")
        if target.startswith("hyperdeme.") and name in public:
            return f"[`{shown}`][hyperdeme.{name}]"
        return f"`{shown}`"

    return _ROLE.sub(replace, text)


class RolesToMarkdown(griffe.Extension):
    def __init__(self) -> None:
        super().__init__()
        self.public = _public()

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown_roles(obj.docstring.value, self.public)


def runtime_default(function_path: str, parameter: str) -> str | None:
    """The repr of a parameter's default as Python has it, for a default written as a
    private name (``src_path: str = _E.src_path``, the declaration's value), or None."""
    parts = function_path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            target: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attribute in parts[cut:]:
                target = getattr(target, attribute)
            default = inspect.signature(target).parameters[parameter].default
        except (AttributeError, KeyError, TypeError, ValueError):
            return None
        return None if default is inspect.Parameter.empty else repr(default)
    return None


class RuntimeDefaults(griffe.Extension):
    """Signatures show a default written as ``_E.src_path`` as its value (``''``)."""

    def on_function_instance(self, *, func: griffe.Function, **kwargs: Any) -> None:
        for parameter in func.parameters:
            if str(parameter.default or "").startswith("_"):
                value = runtime_default(func.path, parameter.name)
                if value is not None:
                    parameter.default = value
