"""Plug-ins installed for real: a one-module distribution with entry points, built by pip."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["install_plugin"]


def install_plugin(
    tmp_path: Path, name: str, module_source: str, entry_points: dict[str, dict[str, str]]
) -> Path:
    """Install the distribution ``name`` into ``tmp_path / "site"``; return that directory.

    Its one module, ``name`` with ``-`` as ``_``, holds ``module_source``;
    ``entry_points`` maps each group to its ``{entry-point name: "module:object"}``.
    Put the returned directory on ``PYTHONPATH`` (or ``sys.path``) to see the plug-in.
    Offline: no build isolation, no index, no dependencies; built by the
    backend in ``plugin_backend.py`` (this environment's setuptools cannot build
    wheels).
    """
    module = name.replace("-", "_")
    project = tmp_path / f"{name}-project"
    project.mkdir(parents=True)
    (project / f"{module}.py").write_text(module_source)
    groups = "".join(
        f'\n[project.entry-points."{group}"]\n'
        + "".join(f'{point} = "{target}"\n' for point, target in points.items())
        for group, points in entry_points.items()
    )
    shutil.copy(Path(__file__).with_name("plugin_backend.py"), project)
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "plugin_backend"\nbackend-path = ["."]\n\n'
        f'[project]\nname = "{name}"\nversion = "0.1.0"\n{groups}'
    )
    site = tmp_path / "site"
    pip = subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
            "--no-build-isolation", "--no-index", "--target", str(site), str(project),
        ],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert pip.returncode == 0, f"pip could not install {name}:\n{pip.stderr}"
    return site
