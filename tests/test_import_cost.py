"""What ``import hyperdeme`` loads: heavy modules are imported where first needed.

Not a timing test (``benchmarks/import_time.py`` measures the time): each check
runs in a fresh interpreter and lists which heavy modules are in
``sys.modules``, which does not depend on the machine's load.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from benchmarks import import_time

#: imported where first needed, never by ``import hyperdeme``: the benchmark's list and
#: the lighter modules whose deferral this test also keeps
HEAVY = (
    *import_time.HEAVY,
    "socket",
    "anyio.streams.memory",
    "anyio._core._synchronization",
    "anyio.abc",  # with typing_extensions: imported by the first process started
    "cmaes",  # when a CMA-ES search starts
    "optuna",  # an optional extra: when an Optuna search starts
)


def loaded_after(code: str, modules: tuple[str, ...] = HEAVY) -> list[str]:
    """The ``modules`` in ``sys.modules`` after a fresh interpreter ran ``code``."""
    probe = textwrap.dedent(code) + textwrap.dedent(f"""
        import json, sys
        print(json.dumps([m for m in {list(modules)!r} if m in sys.modules]))
        """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    found: list[str] = json.loads(done.stdout.splitlines()[-1])
    return found


def test_import_hyperdeme_loads_no_heavy_module() -> None:
    assert loaded_after("import hyperdeme") == []


def test_the_probe_sees_what_is_imported() -> None:
    """The check above can fail: importing a heavy module shows up."""
    assert loaded_after("import hyperdeme, numpy, tenacity") == ["numpy", "tenacity"]


def test_the_command_line_module_loads_no_heavy_module() -> None:
    # what the `hyperdeme` command imports before it parses its arguments
    assert loaded_after("import hyperdeme._cli, hyperdeme.hpo") == []


def test_a_search_space_with_conditions_never_imports_networkx() -> None:
    code = """
        import hyperdeme
        from hyperdeme import condition
        space = hyperdeme.Params(
            [["--a", 1.0, (0.0, 10.0)], ["--b", 3, (1, 5)], ["--opt", "sgd", ["sgd", "adam"]]],
            conditions=[condition.greater_than("--b", "--a", 5.0)],
        )
        space.add_conditions([condition.equals("--opt", "--b", 3, "adam")])
        assert not space.detect_cycle()
        space.serialize_graph()
        space.get_ordered_param_when_valid()
        space.get_dependency_graph_as_str()
        point = space.get_params(seed=1)
        space.active(point)
        space.allowed(point)
        """
    assert loaded_after(code, ("networkx",)) == []
    assert loaded_after(code + "space.graph\n", ("networkx",)) == ["networkx"]


def test_numpy_is_imported_when_a_strategy_draws() -> None:
    code = """
        import hyperdeme
        space = hyperdeme.Params([["--x", (0.0, 1.0)]])
        strategy = hyperdeme.RandomSearch(space, seed=1)
        """
    assert loaded_after(code, ("numpy",)) == []
    assert loaded_after(code + "strategy.ask(0)\n", ("numpy",)) == ["numpy"]


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_a_running_loop_is_seen_without_importing_asyncio_first(backend: str) -> None:
    code = f"""
        import anyio
        from hyperdeme._driver._blocking import loop_running
        assert not loop_running()
        async def main() -> bool:
            return loop_running()
        assert anyio.run(main, backend={backend!r})
        """
    loaded_after(code, ())
