"""The one place that maps the environment to paths, dbt targets and resources.

``JOURNEY_ENV`` names the environment (local, ci, prod); the dbt target of the
same name is used. Paths come from ``orchestration.yaml`` unless the
environment overrides them (``JOURNEY_LANDING``, ``JOURNEY_WAREHOUSE``), which
is how the ``journey`` command's ``--landing`` and ``--warehouse`` reach the
assets. Local and CI use an embedded DuckDB file.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb

from dagster_project.lib.config import JourneyConfig, RetriesConfig, get_config

ENVIRONMENTS = ("local", "ci", "prod")


def current_environment() -> str:
    env = os.environ.get("JOURNEY_ENV", "local")
    if env not in ENVIRONMENTS:
        raise ValueError(f"JOURNEY_ENV={env!r}: expected one of {', '.join(ENVIRONMENTS)}")
    return env


def dbt_target() -> str:
    return os.environ.get("JOURNEY_DBT_TARGET") or ("ci" if current_environment() == "ci" else "local")


# Errors worth a retry: another process holds the DuckDB file's lock (a UI run, a second
# `journey`), or the file system is momentarily busy. Anything else (a folder where the file
# should be, a file that is not DuckDB, a full disk) fails at once: a retry only repeats it.
_LOCK_CONFLICT = ("could not set lock", "conflicting lock")
_TRANSIENT_ERRNOS = (errno.EAGAIN, errno.EBUSY, errno.EINTR)


def is_transient(exc: BaseException) -> bool:
    """True for an error that may go away by itself: a lock held by another process, I/O busy."""
    if isinstance(exc, duckdb.Error):
        return any(marker in str(exc).lower() for marker in _LOCK_CONFLICT)
    return isinstance(exc, OSError) and exc.errno in _TRANSIENT_ERRNOS


def retry_delay_seconds(retries: RetriesConfig, retry_number: int) -> float:
    """Wait before retry ``retry_number + 1``: ``delay_seconds``, then growing linearly or doubling."""
    factor = 2**retry_number if retries.backoff == "exponential" else retry_number + 1
    return retries.delay_seconds * factor


def transient_retry(exc: BaseException) -> dg.RetryRequested:
    """Ask Dagster to rerun the current step after a transient error, as ``retries.*`` of
    orchestration.yaml say; after the last retry the step fails with this error."""
    retries = get_config().retries
    try:
        retry_number = dg.OpExecutionContext.get().retry_number
    except dg.DagsterInvariantViolationError:  # outside a step (a plain Python call): the first delay
        retry_number = 0
    return dg.RetryRequested(
        max_retries=retries.max_retries, seconds_to_wait=retry_delay_seconds(retries, retry_number)
    )


def warehouse_problem(path: Path) -> str | None:
    """Why the warehouse file cannot be used, in one line, or None when it can (or is only
    locked by another process: that is worth waiting for).

    Checked once before a run starts, so that a path that is a folder, lies under a regular
    file, or holds something that is not a DuckDB database is a clear usage error instead
    of a step that fails (or, before, was retried) deep inside the run.
    """
    if path.is_dir():
        return f"warehouse {path} is a directory, not a DuckDB file"
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                return f"warehouse {path} lies under {parent}, which is a file, not a directory"
            if not os.access(parent, os.W_OK | os.X_OK) and not path.exists():
                return f"warehouse {path} cannot be created: {parent} is not writable"
            break
    if not path.exists():
        return None
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        if is_transient(exc):
            return None
        cause = " ".join(str(exc).split())
        return f"warehouse {path} cannot be opened as a DuckDB database ({cause})"
    con.close()
    return None


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file. Connections are short-lived: DuckDB allows one writing
    process per file, and dbt runs as a subprocess between our assets. A lock held by
    another process asks Dagster for a retry (``retries.*``); other errors fail the step."""

    path: str

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            con = duckdb.connect(self.path, read_only=read_only)
        except (duckdb.Error, OSError) as exc:
            if is_transient(exc):
                raise transient_retry(exc) from exc
            raise
        try:
            yield con
        finally:
            con.close()

    def newest_loaded_dt(self) -> date | None:
        """The newest ``dt`` that delivered at least one file: the contract's default ``as_of``."""
        if not Path(self.path).exists():
            return None
        with self.connect(read_only=True) as con:
            exists = con.execute(
                "select count(*) from information_schema.tables "
                "where table_schema = 'audit' and table_name = 'load_counts'"
            ).fetchone()
            if not exists or not exists[0]:
                return None
            row = con.execute("select max(dt) from audit.load_counts where files > 0").fetchone()
        return row[0] if row else None

    def resolve_as_of(self, configured: str | None) -> date:
        """``as_of`` from run config (YYYY-MM-DD), else the newest loaded day; fails when nothing is loaded."""
        if configured:
            return date.fromisoformat(configured)
        newest = self.newest_loaded_dt()
        if newest is None:
            raise dg.Failure("Nothing has been loaded yet: materialize the raw extract assets first.")
        return newest


class LandingResource(dg.ConfigurableResource):
    """The landing zone root."""

    root: str


class JourneySettingsResource(dg.ConfigurableResource):
    """Gives assets the validated ``orchestration.yaml`` (loaded once per process)."""

    def config(self) -> JourneyConfig:
        return get_config()


def resources_for(config: JourneyConfig | None = None) -> dict[str, dg.ConfigurableResource]:
    config = config or get_config()
    return {
        "warehouse": WarehouseResource(path=str(config.warehouse_path)),
        "landing": LandingResource(root=str(config.landing_path)),
        "settings": JourneySettingsResource(),
    }
