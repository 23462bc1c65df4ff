"""The dependency graph of conditions: parent flag -> dependent flag.

Every flag is a node (in spec order); each edge holds, under ``"conditions"``,
the list of conditions from that parent to that dependent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import networkx as nx  # type: ignore[import-untyped,unused-ignore]

from ._conditions import Condition
from ._errors import ConditionError

__all__ = ["build_graph", "check_acyclic", "find_cycle", "serialize", "topological_order"]


def build_graph(flags: Sequence[str], conditions: Iterable[Condition]) -> Any:
    """A ``networkx.DiGraph`` of ``flags`` with one edge per (parent, dependent) pair."""
    graph = nx.DiGraph()
    graph.add_nodes_from(flags)
    for condition in conditions:
        edge = (condition.parent_param, condition.dependent_param)
        if graph.has_edge(*edge):
            graph.edges[edge]["conditions"].append(condition)
        else:
            graph.add_edge(*edge, conditions=[condition])
    return graph


def find_cycle(graph: Any) -> list[str] | None:
    """The flags of one cycle in order, first repeated at the end, or None if acyclic."""
    try:
        edges = nx.find_cycle(graph, orientation="original")
    except nx.NetworkXNoCycle:
        return None
    cycle = [str(edge[0]) for edge in edges]
    return [*cycle, cycle[0]]


def check_acyclic(graph: Any) -> None:
    """Raise ConditionError naming the cycle's flags if ``graph`` has a cycle."""
    cycle = find_cycle(graph)
    if cycle is not None:
        raise ConditionError(
            f"conditions form a cycle: {' -> '.join(cycle)}; "
            "a parameter cannot depend on itself, even through others"
        )


def topological_order(graph: Any, flags: Sequence[str]) -> list[str]:
    """Every node, parents before dependents, ties broken by position in ``flags``."""
    position = {flag: i for i, flag in enumerate(flags)}
    return [
        str(node)
        for node in nx.lexicographical_topological_sort(
            graph, key=lambda node: (position.get(node, len(position)), str(node))
        )
    ]


def serialize(graph: Any) -> dict[str, Any]:
    """A JSON-able form: ``{"nodes": [flag, ...], "edges": [{"parent", "dependent",
    "conditions": [condition.to_dict(), ...]}, ...]}``."""
    edges = []
    for parent, dependent, data in graph.edges(data=True):
        conditions = data.get("conditions", [])
        edges.append(
            {
                "parent": parent,
                "dependent": dependent,
                "conditions": [
                    c.to_dict() if isinstance(c, Condition) else str(c) for c in conditions
                ],
            }
        )
    return {"nodes": list(graph.nodes), "edges": edges}
