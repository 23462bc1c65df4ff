"""The reference site (scripts/docs): it builds with warnings as errors, every public
name has a page made from its docstring, the generated pages follow the code (the
CLI's parser, the keyword declarations), broken links fail the build, and headless
Chromium renders the front page and a reference page."""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import hyperdeme
from headless import dump_dom, headless
from hyperdeme._cli._main import _parser

ROOT = Path(__file__).parents[2]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_docs", ROOT / "scripts" / "_docs.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


docs = _generator()


def _needs_mkdocs() -> None:
    if importlib.util.find_spec("mkdocstrings_handlers") is None:
        if os.environ.get("CI"):
            pytest.fail("CI must build the docs, but the docs extra is not installed")
        pytest.skip("mkdocs-material and mkdocstrings are not installed (the docs extra)")


def _build(root: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [root / "scripts" / "docs", "--python", sys.executable, "--site-dir", site],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _needs_mkdocs()
    out = tmp_path_factory.mktemp("site")
    built = _build(ROOT, out)
    assert built.returncode == 0, built.stdout + built.stderr
    return out


def _raw(page: Path) -> str:
    """The text of the page's article, without its markup."""
    html = page.read_text()
    article = re.search(r"<article.*?</article>", html, re.DOTALL)
    return " ".join(re.sub(r"<[^>]+>", " ", article.group(0) if article else html).split())


def _text(page: Path) -> str:
    """The words of the page's article."""
    return _words(_raw(page))


def _words(text: str) -> str:
    # a reST role shows its target (its last part after ~), as scripts/_docs_roles.py does
    text = re.sub(r":\w+:`~[\w.]*?(\w+)`", r"\1", text)
    text = re.sub(r":\w+:`([\w.]+)`", r"\1", text)
    return " ".join(re.findall(r"\w+", text))  # words only: markup spaces punctuation


def _own_docstring(value: object) -> str:
    """The docstring ``value`` itself has (not its type's or a base class's)."""
    doc = vars(value).get("__doc__") if isinstance(value, type) else None
    if not isinstance(value, type) and type(value).__doc__ != value.__doc__:
        doc = value.__doc__
    return inspect.cleandoc(doc or "")


def test_every_public_name_has_a_page_made_from_its_docstring(site: Path) -> None:
    for name in hyperdeme.__all__:
        page = site / "reference" / name / "index.html"
        assert page.is_file(), f"no page for hyperdeme.{name}"
        html = page.read_text()
        assert f'id="hyperdeme.{name}"' in html, f"mkdocstrings rendered nothing for {name}"
        text = _text(page)
        first = _words(_own_docstring(getattr(hyperdeme, name)).split("\n")[0])
        if first:
            assert " ".join(first.split()[:4]) in text, (name, text[:300])
        else:  # an alias (Parameter = Range | Choice): griffe reads the string under it
            assert len(text.split()) > 12, f"hyperdeme.{name}'s page says nothing: {text}"
    index = (site / "reference" / "index.html").read_text()
    assert all(f'href="{name}/"' in index for name in hyperdeme.__all__)


def test_each_public_subpackage_has_a_page_with_each_of_its_names(site: Path) -> None:
    import importlib
    import pkgutil

    found = [
        f"hyperdeme.{module.name}"
        for module in pkgutil.iter_modules(hyperdeme.__path__)
        if module.ispkg and not module.name.startswith("_")
    ]
    assert sorted(found) == sorted(docs.SUBPACKAGES)
    for package in found:
        html = (site / "reference" / package / "index.html").read_text()
        for name in importlib.import_module(package).__all__:
            assert f'id="{package}.{name}"' in html, f"{package}.{name}"


def test_the_cli_page_has_every_command_and_option_of_the_parser(site: Path) -> None:
    page = _raw(site / "cli" / "index.html")
    parser = _parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for name, command in commands.choices.items():
        assert f"hyperdeme {name}" in page
        for action in command._actions:
            for flag in action.option_strings:
                assert flag in page, (name, flag)


def test_the_guide_and_the_site_have_the_keyword_tables_of_the_code(site: Path) -> None:
    guide = (ROOT / "docs" / "guide.md").read_text()
    assert docs.guide_with_tables(guide) == guide, (
        "docs/guide.md's keyword tables are not the code's: run "
        "python scripts/_docs.py --write-guide"
    )
    page = _raw(site / "keywords" / "index.html")
    for name in inspect.signature(hyperdeme.Evaluator).parameters:
        if name != "cmd":
            assert name in page


def test_the_keyword_tables_give_each_time_its_unit() -> None:
    rows = {
        row[0].strip("`"): row
        for row in docs.keyword_rows(hyperdeme.Evaluator, docs._owners()[0][2])
    }
    assert rows["timeout"][3] == "minutes"
    assert rows["alloc_timeout"][3] == "minutes"
    for seconds in ("eval_timeout", "grace_period", "retry_delay"):
        assert rows[seconds][3] == "seconds", seconds
    assert rows["eval_timeout"][2] == "`0.0`"
    assert rows["grace_period"][2] == "`5.0`"
    # a new keyword that is a time (its name says so) must declare its unit
    for _, owner, configs, skip in docs._owners():
        for name, _, _, unit, _ in docs.keyword_rows(owner, configs, skip=skip):
            if re.search(r"timeout|delay|period|seconds|minutes", name):
                assert unit, f"{name} of {owner.__name__} is a time without a unit"


def test_the_experiment_file_page_lists_the_keys_the_cli_checks(site: Path) -> None:
    from hyperdeme._cli._experiment import OPTIMIZERS, TOP_KEYS
    from hyperdeme._cli._search_space import CONDITION_KEYS, PARAMETER_KEYS

    page = _raw(site / "toml" / "index.html")
    for key in (*TOP_KEYS, *OPTIMIZERS, *PARAMETER_KEYS, *CONDITION_KEYS):
        assert key in page, key


def test_a_broken_link_fails_the_build(tmp_path: Path) -> None:
    _needs_mkdocs()
    root = tmp_path / "checkout"
    (root / "scripts").mkdir(parents=True)
    for name in ("docs", "_docs.py", "_docs_roles.py"):
        shutil.copy(ROOT / "scripts" / name, root / "scripts" / name)
    shutil.copy(ROOT / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(ROOT / "docs", root / "docs")
    (root / "src").symlink_to(ROOT / "src")
    with (root / "docs" / "index.md").open("a") as index:
        index.write("\nSee [the journal](guide.md#no-such-section).\n")
    built = _build(root, tmp_path / "site")
    assert built.returncode != 0
    assert "does not contain an anchor '#no-such-section'" in built.stdout + built.stderr


@pytest.mark.parametrize("page", ["index.html", "reference/Evaluator/index.html"])
def test_headless_chromium_renders_the_pages(site: Path, tmp_path: Path, page: str) -> None:
    uri = (site / page).as_uri()
    dom = dump_dom(uri, tmp_path / "profile")
    # the theme's script ran (it marks the root element) and the navigation is there
    assert re.search(r"<html[^>]*class=\"[^\"]*js", dom) or "md-nav" in dom
    assert "API reference" in dom
    shot = tmp_path / "page.png"
    subprocess.run(
        [
            *headless(tmp_path / "profile"),
            "--hide-scrollbars",
            "--window-size=1280,1100",
            f"--screenshot={shot}",
            uri,
        ],
        capture_output=True,
        timeout=60,
        check=True,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000  # a blank page is a few kB


def test_docstring_roles_become_links_or_code(site: Path) -> None:
    roles = re.compile(r":(?:class|func|meth|attr|mod|data|exc|obj):")
    for page in (site / "reference").glob("*/index.html"):
        assert not roles.search(_raw(page)), f"a reST role shows as it is in {page}"
    evaluator = (site / "reference" / "Evaluator" / "index.html").read_text()
    # :class:`~hyperdeme.ASHA` in Evaluator's docstring: a link to ASHA's page
    assert 'href="../ASHA/#hyperdeme.ASHA"><code>ASHA</code></a>' in evaluator


def test_signatures_show_defaults_as_values(site: Path) -> None:
    # Evaluator's defaults are written as the declarations' (``= _L.grace_period``)
    text = _raw(site / "reference" / "Evaluator" / "index.html").replace(" ", "")
    assert "grace_period:float=5.0" in text
    for name in hyperdeme.__all__:
        page = site / "reference" / name / "index.html"
        assert not re.search(r"=_[A-Z]\w*\.\w+", _raw(page).replace(" ", "")), page
