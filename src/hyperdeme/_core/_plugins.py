"""Plug-ins found through entry points, as pytest and flake8 find theirs.

A package adds a launcher, a strategy or an early-stopping rule by declaring an
entry point in one of :data:`GROUPS` (``pyproject.toml``)::

    [project.entry-points."hyperdeme.launchers"]
    mine = "my_package.launcher:MyLauncher"     # a Launcher subclass taking LauncherOptions

    [project.entry-points."hyperdeme.strategies"]
    mine = "my_package.search:MySearch"         # a Strategy: (space, *, seed, **settings)

    [project.entry-points."hyperdeme.early_stopping"]
    mine = "my_package.rule:MyRule"             # an EarlyStopping: (**settings)

This module is the one lookup the library and the ``hyperdeme`` command share.
Entry points are listed without importing anything; a plug-in's module is
imported when its name is first used, so a broken plug-in costs only the runs
that ask for it, and says so in a :class:`~hyperdeme.ConfigError`.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from ._errors import ConfigError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

__all__ = ["GROUPS", "load_plugin", "plugins"]

LAUNCHERS = "hyperdeme.launchers"
STRATEGIES = "hyperdeme.strategies"
EARLY_STOPPING = "hyperdeme.early_stopping"
#: the entry-point groups hyperdeme reads
GROUPS = (LAUNCHERS, STRATEGIES, EARLY_STOPPING)


@functools.cache
def plugins(group: str) -> dict[str, EntryPoint]:
    """The entry points installed in ``group``, by name in sorted order (nothing imported).

    Read once per process: installing a plug-in takes effect in the next one.
    When two distributions declare one name, the first found wins, as in pytest.
    """
    from importlib.metadata import entry_points

    found: dict[str, EntryPoint] = {}
    for point in entry_points(group=group):
        found.setdefault(point.name, point)
    return dict(sorted(found.items()))


def load_plugin(group: str, name: str) -> object:
    """The object entry point ``name`` of ``group`` names, imported now.

    Raises :class:`~hyperdeme.ConfigError` naming the plug-in and its package
    when there is no such entry point or importing it fails.
    """
    point = plugins(group).get(name)
    if point is None:
        raise ConfigError(f"no plug-in {name!r} in the entry-point group {group!r}.", value=name)
    try:
        return point.load()
    except Exception as error:  # a broken plug-in is a configuration problem
        package = point.dist.name if point.dist is not None else "its package"
        raise ConfigError(
            f"the {group} plug-in {name!r} ({point.value}, from {package}) failed to "
            f"import: {type(error).__name__}: {error}.",
            value=name,
        ) from error
