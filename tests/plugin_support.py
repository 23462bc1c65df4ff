"""Plug-ins installed for real: a tiny package with entry points, pip-installed into tmp.

The package is built by setuptools (the test extra pins one that builds wheels
itself; no build isolation, so offline) and pip-installed into a directory of its
own, which a test puts on ``PYTHONPATH`` of a ``python -m hyperdeme`` subprocess: the command then
finds the plug-in through ``importlib.metadata`` exactly as it would find one
installed with ``pip install``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["SRC", "install_plugin", "module_source", "plugin_environ"]

#: the plug-in modules the tests install (each imports only public names)
MODULES = Path(__file__).with_name("plugin_modules")
#: this checkout's source, to put after the plug-ins on a subprocess's PYTHONPATH
SRC = Path(__file__).parents[1] / "src"


def module_source(name: str) -> str:
    """The text of ``tests/plugin_modules/<name>.py``."""
    return (MODULES / f"{name}.py").read_text()


def plugin_environ(*sites: Path) -> dict[str, str]:
    """This process's environment with ``sites`` then this checkout on ``PYTHONPATH``."""
    path = os.pathsep.join([*map(str, sites), str(SRC)])
    return {**os.environ, "PYTHONPATH": path}


def install_plugin(
    tmp_path: Path, name: str, module_source: str, entry_points: dict[str, dict[str, str]]
) -> Path:
    """Install the distribution ``name`` (one module, ``name`` with ``-`` as ``_``, holding
    ``module_source``) declaring ``entry_points`` (group -> entry name -> ``module:attr``)
    into a new directory under ``tmp_path``; return that directory (for ``PYTHONPATH``)."""
    module = name.replace("-", "_")
    source = tmp_path / f"{name}-source"
    source.mkdir()
    (source / f"{module}.py").write_text(module_source)
    lines = [
        "[build-system]",
        'requires = ["setuptools>=77"]',
        'build-backend = "setuptools.build_meta"',
        "[project]",
        f'name = "{name}"',
        'version = "1.2.3"',
    ]
    lines += ["[tool.setuptools]", f'py-modules = ["{module}"]']
    for group, points in entry_points.items():
        lines.append(f'[project.entry-points."{group}"]')
        lines.extend(f'{key} = "{value}"' for key, value in points.items())
    (source / "pyproject.toml").write_text("\n".join(lines) + "\n")
    site = tmp_path / f"{name}-site"
    install = [
        sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
        "--no-build-isolation", "--target", str(site), str(source),
    ]  # fmt: skip
    environ = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(install, capture_output=True, text=True, env=environ, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"pip could not install {name}:\n{done.stdout}\n{done.stderr}")
    return site
