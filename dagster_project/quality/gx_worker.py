"""Great Expectations validation of one partition frame, in a worker process when started.

Importing GX 1.x costs about 2 s of one core (it loads every expectation, scipy.stats,
altair and sqlalchemy), paid by a process at its first validation. The ``journey`` command
calls :func:`start` first thing, before it imports Dagster and dbt: a worker process
imports GX on the second core, which the command's own start-up leaves idle, and the
extract's ``gx_suite`` checks then send it each partition's frame. Without :func:`start`
(the Dagster UI and daemon, the tests), :func:`validate` runs GX in the calling process.

This module imports nothing heavy, so the worker loads only it and GX. The worker is
started with ``spawn``, not ``fork``: by the time of a fork the caller may hold threads
and DuckDB connections.
"""

from __future__ import annotations

import atexit
import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import cache
from typing import Any

from dagster_project.lib.memory import release_unused_memory
from dagster_project.lib.processes import end_with_parent

_worker: ProcessPoolExecutor | None = None


def start() -> None:
    """Start the worker and its import of GX now; later calls do nothing."""
    global _worker
    if _worker is not None:
        return
    _worker = ProcessPoolExecutor(
        max_workers=1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(os.getpid(),),
    )
    _worker.submit(int)  # the pool spawns at its first task: spawn and import now, not at the first check


def stop(wait: bool = True) -> None:
    """Stop the worker (at exit at the latest); validations then run in this process.

    ``wait=False`` returns at once and lets the worker exit in the background (its
    interpreter's teardown takes ~0.7 s).
    """
    global _worker
    if _worker is not None:
        _worker.shutdown(wait=wait, cancel_futures=True)
        _worker = None


atexit.register(stop)  # a no-op unless a worker runs


def validate(frame: Any, expectations: list[dict[str, Any]], sample_size: int) -> list[dict[str, Any]]:
    """Validate a pandas frame with GX 1.x in one batch; one plain dict per expectation.

    In the worker when it runs (an error raised by GX reaches the caller the same way);
    in this process when it does not, or when it died (killed, out of memory).
    """
    return submit(frame, expectations, sample_size).result()


def submit(frame: Any, expectations: list[dict[str, Any]], sample_size: int) -> Pending:
    """Start validating ``frame`` in the worker and return at once: the caller reads the next
    frame meanwhile. Without a worker, the validation runs when its result is asked for."""
    return Pending(frame, expectations, sample_size)


class Pending:
    """One validation: under way in the worker, or to run in this process (:func:`submit`)."""

    def __init__(self, frame: Any, expectations: list[dict[str, Any]], sample_size: int) -> None:
        # the frame is kept until the result is in: a worker that dies leaves it to this process
        self._args: tuple[Any, list[dict[str, Any]], int] | None = (frame, expectations, sample_size)
        self._future = None
        if _worker is not None:
            try:
                self._future = _worker.submit(_validate, frame, expectations, sample_size)
            except BrokenProcessPool:  # it died after an earlier validation
                stop()

    def result(self) -> list[dict[str, Any]]:
        """The outcomes, one plain dict per expectation (waits for the worker)."""
        if self._args is None:
            raise RuntimeError("the result of this validation was already taken")
        try:
            if self._future is not None:
                try:
                    return self._future.result()
                except BrokenProcessPool:
                    stop()
            return _validate(*self._args)
        finally:
            self._args = self._future = None


def _start_worker(parent_pid: int) -> None:
    end_with_parent(parent_pid)  # never outlive a command killed with kill -9
    import great_expectations  # noqa: F401


def _validate(frame: Any, expectations: list[dict[str, Any]], sample_size: int) -> list[dict[str, Any]]:
    try:
        return _run_suite(frame, expectations, sample_size)
    finally:
        # the worker lives for the whole command: without this it keeps the largest frame it
        # ever validated (1.1 GB resident after the cart events of the 1 M-customer year)
        del frame
        release_unused_memory()


@cache
def _context() -> Any:
    """One ephemeral GX context per process. A new context per validation kept ~5 MB each in
    GX's internals: the worker grew from 0.3 to 1.2 GB over the ~100 chunks of the 1 M-customer
    year's extract."""
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False, "metric_calculations": False}
    return context


# expectations (as sorted JSON) -> (batch definition, suite), for this process's life
_suites: dict[str, tuple[Any, Any]] = {}


def _prepared(expectations: list[dict[str, Any]]) -> tuple[Any, Any]:
    """(batch definition, suite) for these expectations, built once per process and reused:
    each distinct list of expectations gets a pandas data source and a suite of its own."""
    key = json.dumps(expectations, sort_keys=True)
    if key not in _suites:
        import great_expectations as gx
        from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

        name = f"suite_{len(_suites)}"
        batch_definition = (
            _context()
            .data_sources.add_pandas(name)
            .add_dataframe_asset("partition")
            .add_batch_definition_whole_dataframe("whole")
        )
        suite = gx.ExpectationSuite(name=name)
        for spec in expectations:
            suite.add_expectation(ExpectationConfiguration(**spec).to_domain_obj())
        _suites[key] = (batch_definition, suite)
    return _suites[key]


def _run_suite(frame: Any, expectations: list[dict[str, Any]], sample_size: int) -> list[dict[str, Any]]:
    batch_definition, suite = _prepared(expectations)
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(suite, result_format={"result_format": "SUMMARY", "partial_unexpected_count": sample_size})
    outcomes = []
    for item in result.results:
        config = item.expectation_config
        outcomes.append(
            {
                "expectation": config.type,
                "column": config.kwargs.get("column")
                or config.kwargs.get("column_list")
                or [config.kwargs.get("column_A"), config.kwargs.get("column_B")],
                "severity": (config.meta or {}).get("severity", "ERROR"),
                "success": bool(item.success),
                "unexpected_count": int(item.result.get("unexpected_count") or 0),
                "sample": [str(v) for v in (item.result.get("partial_unexpected_list") or [])][:sample_size],
                "error": (item.exception_info or {}).get("exception_message") if not item.success else None,
            }
        )
    return outcomes
