"""The one place that maps the environment to paths, dbt targets and resources.

``JOURNEY_ENV`` names the environment (local, ci, prod); the dbt target of the
same name is used. Paths come from ``orchestration.yaml`` unless the
environment overrides them (``JOURNEY_LANDING``, ``JOURNEY_WAREHOUSE``), which
is how the ``journey`` command's ``--landing`` and ``--warehouse`` reach the
assets. Local and CI use an embedded DuckDB file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb

from dagster_project.lib.config import JourneyConfig, get_config

ENVIRONMENTS = ("local", "ci", "prod")


def current_environment() -> str:
    env = os.environ.get("JOURNEY_ENV", "local")
    if env not in ENVIRONMENTS:
        raise ValueError(f"JOURNEY_ENV={env!r}: expected one of {', '.join(ENVIRONMENTS)}")
    return env


def dbt_target() -> str:
    return os.environ.get("JOURNEY_DBT_TARGET") or ("ci" if current_environment() == "ci" else "local")


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file. Connections are short-lived: DuckDB allows one writing
    process per file, and dbt runs as a subprocess between our assets."""

    path: str

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(self.path, read_only=read_only)
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
