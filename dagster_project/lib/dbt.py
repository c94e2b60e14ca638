"""dbt glue shared by every domain: the project handle, the translator, the manifest.

The translator derives everything from the dbt project itself, never from
model names: a source ``crm.contacts`` is the extract asset ``raw/crm/contacts``,
and a model's group is its folder path (``models/staging/crm`` -> ``staging_crm``,
``models/marts/cx`` -> ``marts_cx``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject

from dagster_project.lib.environment import dbt_target
from dagster_project.lib.settings import DBT_PROJECT_DIR

_DBT_INPUTS = ("models", "macros", "seeds", "tests", "dbt_project.yml", "profiles.yml")


def dbt_project() -> DbtProject:
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target=dbt_target())


def _newest_input_mtime(project_dir: Path) -> float:
    newest = 0.0
    for name in _DBT_INPUTS:
        path = project_dir / name
        files = [path] if path.is_file() else (p for p in path.rglob("*") if p.is_file())
        for f in files:
            newest = max(newest, f.stat().st_mtime)
    return newest


def manifest_is_stale(project: DbtProject) -> bool:
    manifest = project.manifest_path
    return not manifest.exists() or manifest.stat().st_mtime < _newest_input_mtime(Path(project.project_dir))


def ensure_manifest(project: DbtProject | None = None) -> Path:
    """Run ``dbt parse`` when the manifest is missing or older than the dbt sources.

    Dagster builds the asset graph from ``target/manifest.json``; a stale one would
    show yesterday's models. Parsing takes a few seconds and is skipped when fresh.
    """
    project = project or dbt_project()
    if manifest_is_stale(project):
        project_dir = Path(project.project_dir)
        dbt = shutil.which("dbt") or str(Path(sys.executable).parent / "dbt")
        result = subprocess.run(
            [dbt, "parse", "--quiet", "--profiles-dir", str(project_dir), "--target", project.target or "local"],
            cwd=project_dir,
            capture_output=True,
            text=True,
            env={**os.environ, "DO_NOT_TRACK": "1"},
            check=False,
        )
        if result.returncode != 0 or not project.manifest_path.exists():
            raise DbtParseError(f"dbt parse failed in {project_dir}:\n{(result.stdout + result.stderr).strip()}")
    return project.manifest_path


class JourneyDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt resource, minus two start-up costs of every build (about 2.7 s).

    - Before each `dbt build`, dagster-dbt runs `dbt --version` (about 1.7 s: a second Python
      start that imports dbt) to learn which engine it drives. When the `dbt` it will run is
      this environment's own console script, that is the installed dbt-core, whose version
      the package metadata gives at once. Any other `dbt` (another environment, dbt Fusion)
      is asked as before.
    - It also opens a dbt adapter in the Dagster process (about 1 s: it loads every macro),
      which serves only `fetch_column_metadata()` and `fetch_row_counts()` on the event
      stream. journey calls neither (the build itself runs in dbt's own process), so no
      adapter is opened; dagster-dbt runs without one, as it does for dbt Fusion.

    Both override private dagster-dbt members (dagster-dbt is pinned in constraints.txt);
    data_tests/test_definitions.py checks the version equals `dbt --version`'s.
    """

    def _initialize_dbt_core_adapter(self, args: Any) -> None:
        return None

    @cached_property
    def _cli_version(self) -> Any:
        from packaging import version

        found = shutil.which(self.dbt_executable)
        own = Path(sys.executable).parent / "dbt"
        if found and Path(found).resolve() == own.resolve():
            return version.parse(metadata.version("dbt-core"))
        return super()._cli_version


class DbtParseError(RuntimeError):
    """The dbt project does not parse (a YAML or Jinja error): nothing can run until it does."""


class JourneyDbtTranslator(DagsterDbtTranslator):
    """Sources map onto extract assets; groups follow the dbt folder layout."""

    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            schema = dbt_resource_props.get("schema", "raw")
            if schema == "raw":
                return dg.AssetKey(["raw", dbt_resource_props["source_name"], dbt_resource_props["name"]])
            return dg.AssetKey([schema, dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        # fqn = [project, layer, (subfolder...), model name]
        folders = fqn[1:-1]
        return "_".join(folders) if folders else "dbt"
