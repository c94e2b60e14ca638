"""The one place that maps the environment to configuration, paths, dbt targets and resources.

Every environment variable the project reads for itself is read here: ``JOURNEY_ENV``
names the environment (local, ci, prod; the dbt target of the same name is used),
``JOURNEY_CONFIG`` the ``orchestration.yaml`` to load, ``JOURNEY_LANDING`` and
``JOURNEY_WAREHOUSE`` override its paths. :func:`journey_config` turns them (or the
``journey`` command's ``--config``, ``--landing`` and ``--warehouse``, which win) into one
validated config object, and :func:`resources_for` into the Dagster resources that carry
the paths to the assets. Local and CI use an embedded DuckDB file.
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

from dagster_project.lib.config import (
    DEFAULT_CONFIG_PATH,
    JourneyConfig,
    PathsConfig,
    RetriesConfig,
    SparkConfig,
    WarehouseConfig,
    load_config,
)
from dagster_project.lib.spark import LocalSpark, for_config

ENVIRONMENTS = ("local", "ci", "prod")


def current_environment() -> str:
    env = os.environ.get("JOURNEY_ENV", "local")
    if env not in ENVIRONMENTS:
        raise ValueError(f"JOURNEY_ENV={env!r}: expected one of {', '.join(ENVIRONMENTS)}")
    return env


def dbt_target() -> str:
    return os.environ.get("JOURNEY_DBT_TARGET") or ("ci" if current_environment() == "ci" else "local")


def config_file(config_path: Path | None = None) -> Path:
    """The ``orchestration.yaml`` to load: ``config_path``, else ``JOURNEY_CONFIG``, else the project's."""
    return Path(config_path or os.environ.get("JOURNEY_CONFIG") or DEFAULT_CONFIG_PATH).absolute()


def journey_config(
    config_path: Path | None = None, landing: Path | None = None, warehouse: Path | None = None
) -> JourneyConfig:
    """The validated configuration this process runs with, its paths absolute.

    Each argument wins over its environment variable (``JOURNEY_CONFIG``, ``JOURNEY_LANDING``,
    ``JOURNEY_WAREHOUSE``), which wins over ``orchestration.yaml``; a relative path is taken
    from the current directory. Raises ``ConfigError`` for a missing or invalid file.
    """
    config = load_config(config_file(config_path))
    paths = PathsConfig(
        landing=Path(landing or os.environ.get("JOURNEY_LANDING") or config.paths.landing).absolute(),
        warehouse=Path(warehouse or os.environ.get("JOURNEY_WAREHOUSE") or config.paths.warehouse).absolute(),
    )
    return config.model_copy(update={"paths": paths})


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


def transient_retry(exc: BaseException, retries: RetriesConfig) -> dg.RetryRequested:
    """Ask Dagster to rerun the current step after a transient error, as ``retries.*`` of
    orchestration.yaml say; after the last retry the step fails with this error."""
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
    # retries.* of orchestration.yaml (resources_for); the defaults are RetriesConfig's
    max_retries: int = RetriesConfig().max_retries
    retry_delay_seconds: float = RetriesConfig().delay_seconds
    retry_backoff: str = RetriesConfig().backoff
    # warehouse.* of orchestration.yaml: applied to every connection (the loader, the Python
    # marts, the publish open theirs here; dbt reads them from the environment, see below)
    memory_limit: str = WarehouseConfig().memory_limit
    threads: int | None = None
    temp_directory: str | None = None

    # warehouse.engine and warehouse.spark.*: where dbt builds the models (docs/spark.md)
    engine: str = "duckdb"
    spark_home: str | None = None
    spark_master: str = SparkConfig().master
    spark_driver_memory: str = SparkConfig().driver_memory
    spark_shuffle_partitions: int = SparkConfig().shuffle_partitions

    def spark(self) -> LocalSpark | None:
        """Spark, when it is the engine."""
        if self.engine != "spark":
            return None
        home = Path(self.spark_home) if self.spark_home else SparkConfig().home_for(Path(self.path))
        return LocalSpark(home, self.spark_master, self.spark_driver_memory, self.spark_shuffle_partitions)

    @contextmanager
    def tables(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A DuckDB connection where ``intermediate.*`` and ``marts.*`` are the engine's tables:
        the warehouse file itself on DuckDB; on Spark, an in-memory database with a view over
        the files of each of Spark's tables (lib/spark.py), with the same memory limit."""
        spark = self.spark()
        if spark is None:
            with self.connect() as con:
                yield con
            return
        con = duckdb.connect(config=self.duckdb_config())
        try:
            spark.attach(con)
            yield con
        finally:
            con.close()

    def duckdb_config(self) -> dict[str, str]:
        warehouse = WarehouseConfig(
            memory_limit=self.memory_limit,
            threads=self.threads,
            temp_directory=Path(self.temp_directory) if self.temp_directory else None,
        )
        return warehouse.duckdb_config(Path(self.path))

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            con = duckdb.connect(self.path, read_only=read_only, config=self.duckdb_config())
        except (duckdb.Error, OSError) as exc:
            if is_transient(exc):
                retries = RetriesConfig(
                    max_retries=self.max_retries, delay_seconds=self.retry_delay_seconds, backoff=self.retry_backoff
                )
                raise transient_retry(exc, retries) from exc
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
    """Gives assets the validated ``orchestration.yaml`` of the run: the file and the paths
    the process was started with (:func:`journey_config`), so the UI, the daemon and the
    ``journey`` command read the same settings the same way."""

    config_path: str
    landing: str
    warehouse: str

    def config(self) -> JourneyConfig:
        return journey_config(Path(self.config_path), Path(self.landing), Path(self.warehouse))


# dbt opens the warehouse in its own process: profiles.yml's `settings:` read these.
DUCKDB_ENV = {
    "memory_limit": "JOURNEY_DUCKDB_MEMORY_LIMIT",
    "threads": "JOURNEY_DUCKDB_THREADS",
    "temp_directory": "JOURNEY_DUCKDB_TEMP_DIRECTORY",
}


def export_duckdb_settings(config: JourneyConfig) -> None:
    """Put ``warehouse.*`` in this process's environment, which every dbt process it starts
    inherits, so dbt's connections have the same memory limit, threads and spill folder."""
    settings = config.warehouse.duckdb_config(config.warehouse_path)
    os.environ.update({DUCKDB_ENV[key]: value for key, value in settings.items()})


def export_spark_settings(config: JourneyConfig) -> None:
    """Put ``warehouse.spark.*`` in this process's environment for the Spark session of every
    dbt process it starts (profiles.yml's ``spark`` output), as for the DuckDB settings."""
    os.environ.update(for_config(config).environment())


def warehouse_resource(config: JourneyConfig) -> WarehouseResource:
    """The warehouse resource of one configuration: its file, retries, DuckDB settings and engine."""
    retries, warehouse = config.retries, config.warehouse
    return WarehouseResource(
        path=str(config.warehouse_path),
        max_retries=retries.max_retries,
        retry_delay_seconds=retries.delay_seconds,
        retry_backoff=retries.backoff,
        memory_limit=warehouse.memory_limit,
        threads=warehouse.threads,
        temp_directory=str(warehouse.temp_directory) if warehouse.temp_directory else None,
        engine=warehouse.engine,
        spark_home=str(warehouse.spark.home_for(config.warehouse_path)),
        spark_master=warehouse.spark.master,
        spark_driver_memory=warehouse.spark.driver_memory,
        spark_shuffle_partitions=warehouse.spark.shuffle_partitions,
    )


def resources_for(config: JourneyConfig, config_path: Path) -> dict[str, dg.ConfigurableResource]:
    """The resources of every asset for one configuration (:func:`journey_config`): the paths
    travel to the assets here, and to dbt through the warehouse resource (transform/assets.py);
    the DuckDB and Spark settings through the environment (:func:`export_duckdb_settings`,
    :func:`export_spark_settings`)."""
    export_duckdb_settings(config)
    if config.warehouse.engine == "spark":
        export_spark_settings(config)
    return {
        "warehouse": warehouse_resource(config),
        "landing": LandingResource(root=str(config.landing_path)),
        "settings": JourneySettingsResource(
            config_path=str(config_path), landing=str(config.landing_path), warehouse=str(config.warehouse_path)
        ),
    }
