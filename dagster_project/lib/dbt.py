"""dbt glue shared by every domain: the project handle, the translator, the manifest.

The translator derives everything from the dbt project itself, never from
model names: a source ``crm.contacts`` is the extract asset ``raw/crm/contacts``,
and a model's group is its folder path (``models/staging/crm`` -> ``staging_crm``,
``models/marts/cx`` -> ``marts_cx``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject

from dagster_project.lib.environment import dbt_target
from dagster_project.lib.settings import DBT_PROJECT_DIR

_DBT_INPUTS = ("models", "macros", "seeds", "tests", "dbt_project.yml", "profiles.yml")
# The var profiles.yml reads the DuckDB file from (else JOURNEY_WAREHOUSE, for dbt run by hand).
WAREHOUSE_VAR = "warehouse_path"


def with_warehouse(dbt_vars: Mapping[str, Any], warehouse: str) -> dict[str, Any]:
    """A build's ``--vars``: the metric parameters plus the warehouse file the profile opens,
    so the path travels on the command line of that one dbt process, not in the environment."""
    return {**dbt_vars, WAREHOUSE_VAR: warehouse}


def dbt_project() -> DbtProject:
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target=dbt_target())


# Models whose table a Python asset writes (macros/python_asset.sql): declared to dbt for its
# docs and the semantic layer, left out of the dbt step (transform/assets.py).
PYTHON_ASSET_MODELS = "config.materialized:python_asset"


@dataclass(frozen=True)
class DeclaredTable:
    """A dbt model as its yml declares it: the description and the columns (name, ``data_type``,
    description), for the Python asset that writes its table (a ``python_asset`` model)."""

    description: str
    columns: dg.TableSchema


def declared_table(model: str, project: DbtProject | None = None) -> DeclaredTable:
    project = project or dbt_project()
    manifest = json.loads(Path(project.manifest_path).read_text())
    node = manifest["nodes"].get(f"model.{manifest['metadata']['project_name']}.{model}")
    if node is None:
        raise KeyError(f"dbt model {model} is not in {project.manifest_path}")
    columns = [
        dg.TableColumn(
            name, (column.get("data_type") or "").upper(), description=" ".join(column["description"].split())
        )
        for name, column in node["columns"].items()
    ]
    return DeclaredTable(" ".join(node["description"].split()), dg.TableSchema(columns=columns))


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


def dbt_executable() -> str:
    """The ``dbt`` installed next to the running Python, else ``dbt`` from PATH.

    The venv's own dbt is the one whose version this project pins; preferring it also lets
    the definitions load from the venv's Python when the venv is not on PATH (a service
    started as ``.venv/bin/python -m ...``, a cron job).
    """
    own = Path(sys.executable).parent / "dbt"
    return str(own) if own.is_file() else "dbt"


def _parse_command(project: DbtProject, *extra: str) -> list[str]:
    dbt = shutil.which(dbt_executable()) or dbt_executable()
    project_dir = str(project.project_dir)
    return [dbt, "parse", "--quiet", "--profiles-dir", project_dir, "--target", project.target or "local", *extra]


def ensure_manifest(project: DbtProject | None = None) -> Path:
    """Run ``dbt parse`` when the manifest is missing or older than the dbt sources.

    Dagster builds the asset graph from ``target/manifest.json``; a stale one would
    show yesterday's models. Parsing takes a few seconds and is skipped when fresh.
    """
    project = project or dbt_project()
    if manifest_is_stale(project):
        project_dir = Path(project.project_dir)
        result = subprocess.run(
            _parse_command(project),
            cwd=project_dir,
            capture_output=True,
            text=True,
            env={**os.environ, "DO_NOT_TRACK": "1"},
            check=False,
        )
        if result.returncode != 0 or not project.manifest_path.exists():
            raise DbtParseError(f"dbt parse failed in {project_dir}:\n{(result.stdout + result.stderr).strip()}")
    return project.manifest_path


class ParseAhead:
    """``dbt parse`` with the vars of a build that has not started yet, in the background.

    A build's ``--vars`` carry its partition window, so they change every night, and dbt
    re-parses the whole project whenever its vars change (about 3.4 s, on top of dbt's own
    start-up): its partial-parse file is only valid for the vars it was written with. The
    ``journey`` command starts this parse before the extract, which leaves one core idle,
    and hands the folder to the build (``DbtBuildConfig.parsed_target_path``). dbt then
    finds a ``partial_parse.msgpack`` written with its own vars, profile and files and
    skips the parse. Nothing depends on the guess being right: dbt checks the vars, the
    profile, the target and every file's hash itself, and parses in full on any difference
    (a guessed ``as_of`` that turned out wrong costs the parse, nothing else).
    """

    def __init__(self, dbt_vars: Mapping[str, Any], warehouse: str, project: DbtProject | None = None) -> None:
        project = project or dbt_project()
        self.target_path = Path(project.project_dir) / "target" / f"journey-parsed-{uuid.uuid4().hex[:12]}"
        self.used = False  # set by the caller once a build ran in target_path
        env = {
            **os.environ,
            "DO_NOT_TRACK": "1",
            "DBT_TARGET_PATH": str(self.target_path),
            "DBT_LOG_PATH": str(self.target_path),
        }
        # the vars the build passes, the warehouse among them: the profile is part of what dbt checks
        self._process = subprocess.Popen(
            _parse_command(project, "--vars", json.dumps(with_warehouse(dbt_vars, warehouse))),
            cwd=project.project_dir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )

    def result(self) -> Path | None:
        """Wait for the parse; its target folder, or None when it failed (the build then
        parses on its own and reports the error)."""
        if self._process.wait() == 0 and (self.target_path / "partial_parse.msgpack").exists():
            return self.target_path
        shutil.rmtree(self.target_path, ignore_errors=True)
        return None

    def discard_unless_used(self) -> None:
        """Stop the parse if it still runs and remove its folder, unless a build ran in it
        (``used``; the folder then holds that build's artifacts and log, as dagster-dbt's
        own per-run folders do)."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        if not self.used:
            shutil.rmtree(self.target_path, ignore_errors=True)


@dataclass(frozen=True)
class DbtNodeFailure:
    """One dbt node that ended in error (a model, seed or snapshot) or failed (an ERROR test)."""

    unique_id: str
    status: str  # dbt's result status: error | fail
    message: str

    @property
    def is_test(self) -> bool:
        return self.unique_id.startswith("test.")


def failed_nodes(run_results: Mapping[str, Any]) -> list[DbtNodeFailure]:
    """The nodes of a dbt invocation's ``run_results.json`` that stopped their downstream.

    dbt's statuses: ``error`` (a model's SQL failed, or a test could not run) and ``fail``
    (a test of ERROR severity found rows); ``warn`` tests and ``skipped`` nodes are not
    failures of their own.
    """
    failures = []
    for result in run_results.get("results", []):
        if result.get("status") in ("error", "fail"):
            message = " ".join((result.get("message") or "").split())
            failures.append(DbtNodeFailure(result["unique_id"], result["status"], message or "no message"))
    return failures


def skipped_nodes(run_results: Mapping[str, Any]) -> list[str]:
    """Nodes dbt did not run because a node upstream of them failed."""
    return [r["unique_id"] for r in run_results.get("results", []) if r.get("status") == "skipped"]


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

    def get_asset_check_spec(
        self, asset_spec: dg.AssetSpec, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetCheckSpec | None:
        """dbt tests as asset checks that do not block at the Dagster level.

        A Dagster blocking check fails its whole step, and every dbt model is one step: one
        failing test would stop every mart. dbt build already skips the models downstream of
        a failing ERROR test, and a Python asset downstream of a tested model holds back on
        its own (orchestration/selection.py ``failed_checks_upstream``); an ERROR failure
        still fails the ``journey`` command.
        """
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or not spec.blocking:
            return spec
        return dg.AssetCheckSpec(
            spec.name,
            asset=spec.asset_key,
            description=spec.description,
            additional_deps=spec.additional_deps,
            blocking=False,
            metadata=spec.metadata,
            automation_condition=spec.automation_condition,
            partitions_def=spec.partitions_def,
        )

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        # fqn = [project, layer, (subfolder...), model name]
        folders = fqn[1:-1]
        return "_".join(folders) if folders else "dbt"
