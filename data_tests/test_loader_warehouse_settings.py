"""warehouse.* of orchestration.yaml (memory_limit, threads, temp_directory) on every DuckDB
connection the pipeline opens: the warehouse resource's (the loader, the Python marts, the
publish) and dbt's (profiles.yml reads what the pipeline exports)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib.config import ConfigError, parse_config
from dagster_project.lib.dbt import dbt_executable
from dagster_project.lib.environment import DUCKDB_ENV, resources_for
from dagster_project.lib.settings import DBT_PROJECT_DIR

_SHOW = (
    "select current_setting('memory_limit') as m, current_setting('threads') as t, "
    "current_setting('temp_directory') as d"
)


def _as_duckdb_shows(memory_limit: str) -> str:
    """DuckDB prints a limit in its own units ('3GB' -> '2.7 GiB'): ask it."""
    con = duckdb.connect()
    con.execute(f"set memory_limit = '{memory_limit}'")
    shown = con.execute("select current_setting('memory_limit')").fetchone()
    assert shown is not None
    return shown[0]


def _config(tmp_path: Path, warehouse: dict) -> tuple:
    raw = {"paths": {"landing": str(tmp_path / "landing"), "warehouse": str(tmp_path / "w.duckdb")}}
    return parse_config(raw | {"warehouse": warehouse}), tmp_path / "orchestration.yaml"


@pytest.fixture(autouse=True)
def _restore_env():
    saved = {name: os.environ.get(name) for name in DUCKDB_ENV.values()}
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def test_a_pipeline_connection_has_the_configured_limits(tmp_path: Path) -> None:
    config, path = _config(tmp_path, {"memory_limit": "1GB", "threads": 1, "temp_directory": str(tmp_path / "spill")})
    warehouse = resources_for(config, path)["warehouse"]
    with warehouse.connect() as con:
        assert con.execute(_SHOW).fetchone() == (_as_duckdb_shows("1GB"), 1, str(tmp_path / "spill"))
    with warehouse.connect(read_only=True) as con:
        assert con.execute(_SHOW).fetchone() == (_as_duckdb_shows("1GB"), 1, str(tmp_path / "spill"))


def test_the_defaults_are_3gb_every_core_and_a_folder_beside_the_warehouse(tmp_path: Path) -> None:
    config, path = _config(tmp_path, {})
    with resources_for(config, path)["warehouse"].connect() as con:
        assert con.execute(_SHOW).fetchone() == (
            _as_duckdb_shows("3GB"),
            os.cpu_count(),
            str(tmp_path / "w.duckdb.tmp"),
        )


def test_a_malformed_memory_limit_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="memory_limit"):
        _config(tmp_path, {"memory_limit": "lots"})
    with pytest.raises(ConfigError, match="threads"):
        _config(tmp_path, {"threads": 0})


def test_dbt_connections_have_the_configured_limits(tmp_path: Path) -> None:
    config, path = _config(tmp_path, {"memory_limit": "700MB", "threads": 1})
    resources_for(config, path)  # exports the settings, as the definitions do before any dbt step
    duckdb.connect(str(tmp_path / "w.duckdb")).close()
    result = subprocess.run(
        [
            dbt_executable(),
            "show",
            "--inline",
            _SHOW,
            "--output",
            "json",
            "--log-format",
            "json",
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
            "--vars",
            json.dumps({"warehouse_path": str(tmp_path / "w.duckdb")}),
        ],
        capture_output=True,
        text=True,
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, "DO_NOT_TRACK": "1"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    shown = [json.loads(line)["data"]["preview"] for line in result.stdout.splitlines() if '"preview"' in line]
    assert shown, result.stdout[-3000:]
    assert json.loads(shown[0]) == [{"m": _as_duckdb_shows("700MB"), "t": 1, "d": str(tmp_path / "w.duckdb.tmp")}]


def test_a_dbt_build_goes_on_after_a_model_spilled_to_disk(tmp_path: Path) -> None:
    """With a small memory limit, model `spills` sorts more than fits and writes to the temp
    folder; the next model opens a new dbt connection. dbt-duckdb used to SET the profile's
    settings again on every new cursor, and DuckDB refuses to set temp_directory once it has
    been used: at 1 M customers every model after the first spill failed."""
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text(
        "name: spill_check\nversion: '1.0'\nconfig-version: 2\nprofile: journey\nmodel-paths: [models]\n"
    )
    (project / "models" / "spills.sql").write_text(
        "{{ config(materialized='table') }}\nselect md5(cast(range as varchar)) as r from range(3000000) order by r\n"
    )
    (project / "models" / "after.sql").write_text("select count(*) as n from {{ ref('spills') }}\n")
    spill = tmp_path / "spill"
    env = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "JOURNEY_DUCKDB_MEMORY_LIMIT": "100MB",
        "JOURNEY_DUCKDB_THREADS": "1",
        "JOURNEY_DUCKDB_TEMP_DIRECTORY": str(spill),
    }
    result = subprocess.run(
        [
            dbt_executable(),
            "run",
            "--threads",
            "1",
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--project-dir",
            str(project),
            "--vars",
            json.dumps({"warehouse_path": str(tmp_path / "w.duckdb")}),
        ],
        capture_output=True,
        text=True,
        cwd=project,
        env=env,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # the first model's query does spill under these limits: after it, setting the temp
    # folder again is refused, which is what every later model's connection used to do
    con = duckdb.connect(
        str(tmp_path / "check.duckdb"), config={"memory_limit": "100MB", "threads": "1", "temp_directory": str(spill)}
    )
    con.execute("create table t as " + (project / "models" / "spills.sql").read_text().split("\n", 1)[1])
    with pytest.raises(duckdb.NotImplementedException, match="Cannot switch temporary directory"):
        con.cursor().execute(f"set temp_directory = '{spill}'")
    con.close()
