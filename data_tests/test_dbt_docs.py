"""The dbt models' YAML against what the models really produce.

Every model has one YAML beside it. For the marts (schema `marts`, what BI tools and the
semantic layer read) every column must be described: unit, formula and edge cases, so a user
of a mart never needs the SQL. A column listed in a YAML but not produced by its model is a
stale description (a renamed or dropped column) and fails too, in every layer.

The columns a model produces are read from a warehouse built with `dbt build --empty` (zero
rows, every model and seed): the relations dbt created, not the YAML, are the truth.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dagster_project.extract.loader import ensure_schemas
from dagster_project.lib.landing import ENTITIES

ROOT = Path(__file__).resolve().parents[1]
DBT = str(Path(sys.executable).parent / "dbt")


@pytest.fixture(scope="module")
def built_models(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Every model node of the manifest, with `produced`: its relation's columns, in order."""
    folder = tmp_path_factory.mktemp("docs")
    warehouse = folder / "docs.duckdb"
    con = duckdb.connect(str(warehouse))
    ensure_schemas(con, ENTITIES)
    con.close()
    command = ["build", "--empty", "--resource-type", "model", "--resource-type", "seed", "--profiles-dir", "."]
    paths = ["--target-path", str(folder / "target"), "--log-path", str(folder / "logs")]
    built = subprocess.run(
        [DBT, *command, *paths, "--vars", json.dumps({"as_of": "2025-03-31"})],
        cwd=ROOT / "dbt_project",
        capture_output=True,
        text=True,
        timeout=900,
        env=os.environ | {"JOURNEY_WAREHOUSE": str(warehouse), "DO_NOT_TRACK": "1"},
    )
    assert built.returncode == 0, built.stdout[-4000:]
    manifest = json.loads((folder / "target" / "manifest.json").read_text())
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "order by table_schema, table_name, ordinal_position"
        ).fetchall()
    finally:
        con.close()
    produced: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in rows:
        produced.setdefault((schema, table), []).append(column.lower())
    models = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["config"].get("materialized") == "ephemeral":
            continue
        relation = (node["schema"], node["alias"] or node["name"])
        assert relation in produced, f"{node['name']}: no relation {relation} after the build"
        models.append(node | {"produced": produced[relation]})
    assert len(models) >= 30, len(models)  # every model of the project (43 when this test was written)
    return models


def _marts(models: list[dict[str, Any]]) -> list[dict[str, Any]]:
    marts = [node for node in models if node["schema"] == "marts"]
    assert len(marts) >= 20, [node["name"] for node in marts]
    return marts


def test_every_mart_column_is_described(built_models: list[dict[str, Any]]) -> None:
    """Each column of each relation in schema marts has a non-empty description in its model's YAML."""
    undescribed = [
        f"{node['name']}.{column} ({node['patch_path'] or 'no yml'})"
        for node in _marts(built_models)
        for column in node["produced"]
        if not (node["columns"].get(column) or {}).get("description", "").strip()
    ]
    assert not undescribed, "mart columns without a description:\n" + "\n".join(undescribed)


def test_yml_lists_only_columns_the_model_produces(built_models: list[dict[str, Any]]) -> None:
    """A column in a model's YAML that its relation does not have (renamed, dropped, misspelt)."""
    stale = [
        f"{node['name']}.{column}"
        for node in built_models
        for column in node["columns"]
        if column.lower() not in node["produced"]
    ]
    assert not stale, "YAML columns the model does not produce:\n" + "\n".join(stale)


def test_every_model_has_its_yml_beside_it_with_its_grain(built_models: list[dict[str, Any]]) -> None:
    """One `<model>.yml` in the model's folder, whose description names the grain ("One row per ...")."""
    misplaced = []
    for node in built_models:
        sql = Path(node["original_file_path"])
        expected = f"journey://{sql.with_suffix('.yml').as_posix()}"
        if node["patch_path"] != expected:
            misplaced.append(f"{node['name']}: {node['patch_path']} (expected {expected})")
        elif "one row per" not in node["description"].lower():
            misplaced.append(f"{node['name']}: description does not say 'One row per ...'")
    assert not misplaced, "\n".join(misplaced)
