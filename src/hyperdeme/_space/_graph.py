"""The dependency graph of conditions: parent flag -> dependent flag.

Every flag is a node (in spec order); each edge holds the conditions from that
parent to that dependent. The graph is kept in plain dicts, so building a
search space never imports networkx; :func:`to_networkx` gives crayai's
``networkx.DiGraph`` (each edge's ``"conditions"`` attribute lists its
conditions) when a user asks for it.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._core._errors import ConditionError
from ._conditions import Condition

__all__ = ["Graph", "check_acyclic", "find_cycle", "serialize", "to_networkx"]


@dataclass(slots=True)
class Graph:
    """Nodes in spec order; ``edges[(parent, dependent)]`` lists their conditions."""

    nodes: list[str]
    edges: dict[tuple[str, str], list[Condition]] = field(default_factory=dict)

    @classmethod
    def build(cls, flags: Sequence[str], conditions: Iterable[Condition]) -> Graph:
        graph = cls(list(flags))
        for condition in conditions:
            edge = (condition.parent_param, condition.dependent_param)
            graph.edges.setdefault(edge, []).append(condition)
        return graph

    def successors(self) -> dict[str, list[str]]:
        following: dict[str, list[str]] = {node: [] for node in self.nodes}
        for parent, dependent in self.edges:
            following.setdefault(parent, []).append(dependent)
            following.setdefault(dependent, [])
        return following

    def topological_order(self) -> list[str]:
        """Every node, parents before dependents, ties broken by spec position."""
        following = self.successors()
        position = {node: i for i, node in enumerate(following)}
        waiting = dict.fromkeys(following, 0)
        for _, dependent in self.edges:
            waiting[dependent] += 1
        ready = [(position[node], node) for node, count in waiting.items() if count == 0]
        heapq.heapify(ready)
        order: list[str] = []
        while ready:
            _, node = heapq.heappop(ready)
            order.append(node)
            for dependent in following[node]:
                waiting[dependent] -= 1
                if waiting[dependent] == 0:
                    heapq.heappush(ready, (position[dependent], dependent))
        return order


def find_cycle(graph: Graph | Any) -> list[str] | None:
    """The flags of one cycle in order, first repeated at the end, or None if acyclic.

    ``graph`` is a :class:`Graph` or any ``networkx.DiGraph`` (crayai's API).
    """
    following = (
        graph.successors()
        if isinstance(graph, Graph)
        else {str(node): [str(n) for n in graph.successors(node)] for node in graph.nodes}
    )
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in following.get(node, ()):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found is not None:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in following:
        if node not in state:
            found = visit(node)
            if found is not None:
                return found
    return None


def check_acyclic(graph: Graph) -> None:
    """Raise ConditionError naming the cycle's flags if ``graph`` has a cycle."""
    cycle = find_cycle(graph)
    if cycle is not None:
        raise ConditionError(
            f"conditions form a cycle: {' -> '.join(cycle)}; "
            "a parameter cannot depend on itself, even through others",
            value=cycle,
        )


def to_networkx(graph: Graph) -> Any:
    """The graph as a ``networkx.DiGraph`` (networkx is imported here, on first use)."""
    import networkx as nx  # type: ignore[import-untyped,unused-ignore]

    digraph = nx.DiGraph()
    digraph.add_nodes_from(graph.nodes)
    for (parent, dependent), conditions in graph.edges.items():
        digraph.add_edge(parent, dependent, conditions=list(conditions))
    return digraph


def serialize(graph: Graph | Any) -> dict[str, Any]:
    """A JSON-able form: ``{"nodes": [flag, ...], "edges": [{"parent", "dependent",
    "conditions": [condition.to_dict(), ...]}, ...]}``; ``graph`` as for :func:`find_cycle`."""
    nodes = list(graph.nodes)
    if isinstance(graph, Graph):
        edges_data = [(p, d, {"conditions": c}) for (p, d), c in graph.edges.items()]
    else:
        edges_data = list(graph.edges(data=True))
    edges = []
    for parent, dependent, data in edges_data:
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
    return {"nodes": nodes, "edges": edges}
