"""Launchers installed as packages of their own, found through ``hyperdeme.launchers``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import hyperdeme
from hyperdeme._core._plugins import LAUNCHERS, plugins
from hyperdeme.launchers import LauncherOptions, create, registered
from hyperdeme.launchers._local import LocalLauncher
from hyperdeme.launchers._registry import _FACTORIES
from plugin_support import install_plugin, module_source

PLUG_INS = ("mine", "notone", "broken", "local")


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    tmp = tmp_path_factory.mktemp("plugins")
    points = {"mine": "hd_mark:MarkLauncher", "notone": "hd_mark:NOT_A_LAUNCHER"}
    return [
        install_plugin(
            tmp, "hd-mark", module_source("mark_launcher"),
            {LAUNCHERS: {**points, "local": "hd_mark:MarkLauncher"}},
        ),
        install_plugin(tmp, "hd-broken", module_source("broken"), {LAUNCHERS: {"broken": "x:Y"}}),
    ]  # fmt: skip


@pytest.fixture
def installed(sites: list[Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The plug-ins on sys.path, as if pip-installed in this environment."""
    for site in sites:
        monkeypatch.syspath_prepend(str(site))
    plugins.cache_clear()
    yield
    plugins.cache_clear()
    for name in PLUG_INS[:-1]:
        _FACTORIES.pop(name, None)
    sys.modules.pop("hd_mark", None)


@pytest.mark.usefixtures("installed")
def test_installed_launchers_are_listed_without_importing_them() -> None:
    assert {"mine", "notone", "broken", "local", "k8s"} <= set(registered())
    assert "hd_mark" not in sys.modules
    assert "hd_broken" not in sys.modules


@pytest.mark.usefixtures("installed")
async def test_an_evaluator_naming_an_installed_launcher_runs_through_it(tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    evaluator = hyperdeme.Evaluator(
        f"{sys.executable} -c 'import sys; print(\"FoM:\", sys.argv[1][4:])'",
        launcher="mine", launcher_options={"marks": str(marks)},
        run_path=str(tmp_path / "run"), src_path=str(tmp_path),
    )  # fmt: skip
    result = await hyperdeme.optimize(
        hyperdeme.RandomOptimizer(evaluator, num_iters=3, seed=1, name="mine"),
        hyperdeme.Params([["--x", 0.5, (0.0, 1.0)]]),
    )
    assert [t.status for t in result.trials] == [hyperdeme.Status.OK] * 3
    assert sorted(p.name for p in marks.iterdir()) == ["1-1", "2-1", "3-1"]
    assert _FACTORIES["mine"].name == "mine"  # type: ignore[attr-defined]


@pytest.mark.usefixtures("installed")
def test_an_installed_launcher_checks_its_launcher_options() -> None:
    with pytest.raises(hyperdeme.ConfigTypeError) as caught:
        hyperdeme.Evaluator("true", launcher="mine", launcher_options={"mraks": "/tmp"})
    assert str(caught.value) == (
        "launcher 'mine' got unknown launcher_options key(s) 'mraks' (did you mean "
        "'marks'?); allowed: marks."
    )
    with pytest.raises(hyperdeme.ConfigTypeError, match=r"launcher 'mine' cannot use .*'marks'"):
        hyperdeme.Evaluator("true", launcher="mine")  # marks is required


@pytest.mark.usefixtures("installed")
def test_a_broken_plugin_is_a_config_error_naming_it_and_its_package() -> None:
    assert "broken" in registered()
    with pytest.raises(hyperdeme.ConfigError) as caught:
        hyperdeme.Evaluator("true", launcher="broken")
    message = str(caught.value)
    assert "plug-in 'broken' (x:Y, from hd-broken) failed to import" in message


@pytest.mark.usefixtures("installed")
def test_an_entry_point_must_name_a_launcher_class() -> None:
    with pytest.raises(hyperdeme.ConfigError, match=r"'notone' .* names 42, which is not a "):
        hyperdeme.Evaluator("true", launcher="notone")


@pytest.mark.usefixtures("installed")
def test_a_built_in_launcher_is_not_replaced_by_a_plugin_of_its_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # as in a new process: the built-in backend's module not imported yet
    monkeypatch.delitem(_FACTORIES, "local")
    monkeypatch.delitem(sys.modules, LocalLauncher.__module__)
    launcher = create("local", LauncherOptions())
    assert type(launcher).__module__ == LocalLauncher.__module__
    assert "hd_mark" not in sys.modules


@pytest.mark.usefixtures("installed")
def test_an_unknown_name_lists_built_in_and_installed_launchers() -> None:
    with pytest.raises(hyperdeme.ConfigError) as caught:
        hyperdeme.Evaluator("true", launcher="nope")
    listed = str(caught.value).split("one of ")[1].split(";")[0].split(", ")
    # other tests may have registered launchers in this process: the listing holds them too
    assert {"broken", "k8s", "local", "mine", "notone", "pbs", "slurm", "urika"} <= set(listed)
    assert listed[2:] == sorted(listed[2:])
