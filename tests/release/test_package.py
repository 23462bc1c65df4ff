"""The package as published: ``python -m build`` makes a wheel and an sdist that
``twine check --strict`` accepts, and the wheel installs into an empty venv whose
``hyperdeme --version`` prints ``hyperdeme.__version__``.

Offline by design: the wheel is built without build isolation (setuptools is in
the ``test`` extra) and installed with ``--no-deps --no-index``; its dependencies
come from this venv's site-packages, put on the new venv's path by a ``.pth``
line (a plain path line: the editable install's finder there is not activated,
so the import really is the installed wheel, as the test checks).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

import hyperdeme

ROOT = Path(__file__).parents[2]


def _tool(module: str) -> None:
    try:
        __import__(module)
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail(f"CI must check the package, but {module} is not installed")
        pytest.skip(f"{module} is not installed (pip install -e '.[release]')")


#: without this checkout's src on the path (scripts and pytest runs may set PYTHONPATH)
_ENVIRONMENT = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


def _run(*command: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [str(c) for c in command],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=_ENVIRONMENT,
        timeout=300,
    )
    assert done.returncode == 0, f"{command}: {done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _tool("build")
    _tool("twine")
    out, tree = tmp_path_factory.mktemp("dist"), tmp_path_factory.mktemp("tree")
    # a copy of what the sdist is made of, so the build leaves nothing in the checkout
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, tree / name)
    shutil.copytree(ROOT / "src", tree / "src", ignore=shutil.ignore_patterns("__pycache__"))
    # the sdist first, then the wheel from the sdist: a file the sdist lacks fails here
    _run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, tree)
    return out


def test_the_version_has_one_source() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" not in project
    assert project["dynamic"] == ["version"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", hyperdeme.__version__)
    released = re.findall(
        r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d\d-\d\d$",
        (ROOT / "CHANGELOG.md").read_text(),
        re.MULTILINE,
    )
    assert released[0] == hyperdeme.__version__  # the newest release is this version


def test_the_license_file_matches_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License\n")


def test_build_makes_a_wheel_and_an_sdist_twine_accepts(dist: Path) -> None:
    version = hyperdeme.__version__
    wheel = dist / f"hyperdeme-{version}-py3-none-any.whl"
    sdist = dist / f"hyperdeme-{version}.tar.gz"
    assert sorted(p.name for p in dist.iterdir()) == sorted([wheel.name, sdist.name])
    _run(sys.executable, "-m", "twine", "check", "--strict", wheel, sdist)
    names = zipfile.ZipFile(wheel).namelist()
    for packaged in ("hyperdeme/py.typed", "hyperdeme/_cli/report.css", "hyperdeme/_cli/report.js"):
        assert packaged in names
    assert f"hyperdeme-{version}.dist-info/licenses/LICENSE" in names


def test_the_wheel_installs_into_an_empty_venv_and_prints_its_version(
    dist: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    wheel = dist / f"hyperdeme-{hyperdeme.__version__}-py3-none-any.whl"
    _run(python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel)
    site = _run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").strip()
    (Path(site) / "zz_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    printed = subprocess.run(
        [venv / "bin" / "hyperdeme", "--version"],
        capture_output=True,
        text=True,
        env=_ENVIRONMENT,
        cwd=tmp_path,
        timeout=120,
    )
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.strip() == hyperdeme.__version__
    where = _run(python, "-c", "import hyperdeme; print(hyperdeme.__file__)", cwd=tmp_path)
    assert where.startswith(site), where  # the installed wheel, not this checkout


def test_the_readme_lists_every_extra_and_what_it_pulls() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    readme = (ROOT / "README.md").read_text()
    assert "pip install -e '.[plot]'" in readme
    listed = dict(re.findall(r"^\| `(\w+)` \| ([^|]+) \|", readme, re.MULTILINE))
    assert sorted(listed) == sorted(extras)
    for extra, requirements in extras.items():
        first = re.split(r"[\[<>=!~ ]", requirements[0])[0]
        assert first in listed[extra], f"README: the {extra} extra pulls {first}"
