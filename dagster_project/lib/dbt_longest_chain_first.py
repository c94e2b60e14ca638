"""`dbt`, with its ready nodes taken longest remaining chain first: `python -m` this module.

dbt hands a free thread the ready node of the lowest topological level, ties by name
(``dbt.graph.queue.GraphQueue._get_scores``). In a one-day build that starts the monthly
marts, which sit a level or two down, before the next step of the longest chain of the
project (events identified -> carts -> the journey). At 1 M customers the carts then waited
4.5 s for a thread while the marts ran, and the journey, the last and biggest step, started
that much later; the marts have slack and could have run beside it.

Here a ready node's priority is instead the longest chain of nodes below it, down to the
end of the graph: the classic critical-path-first rule of list scheduling, with each model
counted once and each data test as a tenth (tests are small). dbt's run loop also takes
every ready node off its queue the moment it is ready and queues it for the thread pool,
first come, first served; here a node is taken off only when a thread is free, so the
priority decides. Only the order in which ready nodes are handed out changes: what runs,
and what waits for what, is dbt's as before.

It replaces private dbt-core members (dbt-core is pinned in constraints.txt); if they are
not where they are expected, dbt runs unchanged.
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
    """Patch dbt's queue: longest chain first, and a node is taken off it only when a thread is free."""
    try:
        from dbt.graph.queue import GraphQueue
        from dbt.task.runnable import GraphRunnableTask
    except ImportError:
        return
    if not all(callable(getattr(cls, name, None)) for cls, name in
               ((GraphQueue, "_get_scores"), (GraphQueue, "get"), (GraphRunnableTask, "run_queue"))):
        return
    dbt_get, dbt_run_queue = GraphQueue.get, GraphRunnableTask.run_queue

    def _get_scores(self: GraphQueue, graph: nx.DiGraph) -> Mapping[Hashable, float]:
        return longest_chain_scores(graph)

    def get(self: GraphQueue, block: bool = True, timeout: float | None = None) -> object:
        # dbt's run loop takes every ready node off the queue at once and hands it to the
        # thread pool, which runs them first come, first served: the order above would not
        # matter. Wait for a free thread first, so the best ready node is the one taken.
        threads = getattr(self, "journey_threads", None)
        if threads:
            with self.lock:
                while len(self.in_progress) >= threads:
                    self.some_task_done.wait()
        return dbt_get(self, block, timeout)

    def run_queue(self: GraphRunnableTask, pool: object) -> None:
        if self.job_queue is not None:
            self.job_queue.journey_threads = self.config.threads
        return dbt_run_queue(self, pool)

    GraphQueue._get_scores = _get_scores
    GraphQueue.get = get
    GraphRunnableTask.run_queue = run_queue


def main() -> None:
    from dbt.cli.main import cli

    _install()
    sys.argv[0] = "dbt"
    sys.exit(cli())


if __name__ == "__main__":
    main()
