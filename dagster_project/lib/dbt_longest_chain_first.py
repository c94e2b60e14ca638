"""`dbt`, with its ready nodes taken longest remaining chain first: `python -m` this module.

dbt hands a free thread the ready node of the lowest topological level, ties by name
(``dbt.graph.queue.GraphQueue._get_scores``). In a one-day build that starts the monthly
marts, which sit a level or two down, before the next step of the longest chain of the
project (events identified -> carts -> the journey). At 1 M customers the carts then waited
4.5 s for a thread while the marts ran, and the journey, the last and biggest step, started
that much later; the marts have slack and could have run beside it.

Here a ready node's priority is instead the longest chain of nodes below it, down to the
end of the graph: the classic critical-path-first rule of list scheduling, with each model
counted once and each data test as a tenth (tests are small). Only the order in which ready
nodes are handed out changes: what runs, and what waits for what, is dbt's as before.

It replaces a private dbt-core function (dbt-core is pinned in constraints.txt); if that
function is not where it is expected, dbt runs unchanged.
data_tests/test_definitions.py checks the order and that a build runs through it.
"""

from __future__ import annotations

import sys
from collections.abc import Hashable, Mapping

import networkx as nx

# How much a node counts in a chain: a model (or seed, snapshot) is one, a data test a tenth.
TEST_WEIGHT = 0.1


def _weight(node: Hashable) -> float:
    return TEST_WEIGHT if str(node).startswith("test.") else 1.0


def longest_chain_scores(graph: nx.DiGraph) -> Mapping[Hashable, float]:
    """Each node's score: minus the weighted length of the longest path from it to a sink.

    dbt's queue hands out the lowest score first, so the node heading the longest chain of
    remaining work goes first. Ties keep dbt's order (by unique id).
    """
    below: dict[Hashable, float] = {}
    for node in reversed(list(nx.topological_sort(graph))):
        below[node] = _weight(node) + max((below[child] for child in graph.successors(node)), default=0.0)
    return {node: -length for node, length in below.items()}


def _install() -> None:
    try:
        from dbt.graph.queue import GraphQueue
    except ImportError:
        return
    if not callable(getattr(GraphQueue, "_get_scores", None)):
        return

    def _get_scores(self: object, graph: nx.DiGraph) -> Mapping[Hashable, float]:
        return longest_chain_scores(graph)

    GraphQueue._get_scores = _get_scores


def main() -> None:
    from dbt.cli.main import cli

    _install()
    sys.argv[0] = "dbt"
    sys.exit(cli())


if __name__ == "__main__":
    main()
