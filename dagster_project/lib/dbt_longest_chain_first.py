"""`dbt`, with its ready nodes taken longest remaining chain first: `python -m` this module.

dbt hands a free thread the ready node of the lowest topological level, ties by name
(``dbt.graph.queue.GraphQueue._get_scores``). In a one-day build that starts the monthly
marts, which sit a level or two down, before the next step of the longest chain of the
project (events identified -> carts -> the journey). At 1 M customers the carts then waited
4.5 s for a thread while the marts ran, and the journey, the last and biggest step, started
that much later; the marts have slack and could have run beside it.

Here a ready node's priority is instead the longest chain of work below it, down to the
end of the graph: the classic critical-path-first rule of list scheduling. A node's work is
its typical seconds in a one-day build: `meta.build_seconds` for the few big models, which
say so in their YAML, else a small default (a model 0.3 s, a data test 0.03 s). dbt's run loop also takes
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

# What a node costs in a chain, in typical seconds of a one-day build: a model's
# `meta.build_seconds` when it has one (the few big ones, measured at 1 M customers), else
# DEFAULT_MODEL_SECONDS; a data test TEST_SECONDS. Only the order of ready nodes uses them,
# so a stale figure costs speed, never correctness.
DEFAULT_MODEL_SECONDS = 0.3
TEST_SECONDS = 0.03


def node_seconds(unique_id: str, meta: Mapping[str, object] | None) -> float:
    if unique_id.startswith("test."):
        return TEST_SECONDS
    seconds = (meta or {}).get("build_seconds")
    return float(seconds) if isinstance(seconds, int | float) else DEFAULT_MODEL_SECONDS


def longest_chain_scores(graph: nx.DiGraph, seconds: Mapping[Hashable, float]) -> dict[Hashable, float]:
    """Each node's score: minus the seconds of the longest chain from it to the end of the graph.

    dbt's queue hands out the lowest score first, so the node heading the longest chain of
    remaining work goes first. Ties keep dbt's order (by unique id).
    """
    below: dict[Hashable, float] = {}
    for node in reversed(list(nx.topological_sort(graph))):
        below[node] = seconds[node] + max((below[child] for child in graph.successors(node)), default=0.0)
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
        def meta(unique_id: str) -> Mapping[str, object] | None:
            node = self.manifest.nodes.get(unique_id)
            return getattr(getattr(node, "config", None), "meta", None)

        return longest_chain_scores(graph, {node: node_seconds(str(node), meta(str(node))) for node in graph})

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
