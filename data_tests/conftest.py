"""Shared fixtures: an isolated Dagster home, a fresh dbt manifest, and a way to run `journey`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))  # landing_builder
pytest_plugins = ("postgres_fixture",)  # a real PostgreSQL server: the postgres_dsn fixture


@pytest.fixture(scope="session", autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory) -> None:
    home = tmp_path_factory.mktemp("dagster_home")
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ["DO_NOT_TRACK"] = "1"
    bin_dir = str(Path(sys.executable).parent)
    os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    from filelock import FileLock

    from dagster_project.lib.dbt import dbt_project, ensure_manifest

    # with pytest-xdist every worker runs this fixture: one parses, the others wait for it
    target = dbt_project().manifest_path.parent
    target.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target / ".manifest.lock")):
        ensure_manifest()


def run_journey(*args: str, timeout: int = 900, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed `journey` command in a subprocess (a fresh Dagster process, as a user would)."""
    return subprocess.run(
        [sys.executable, "-m", "dagster_project.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=os.environ.copy() if env is None else env,
    )


# The test files that run whole pipelines, longest first (test_pipeline_e2e holds the Spark
# equality test; durations from CI). pytest-xdist hands whole files to its workers in
# collection order (`--no-loadscope-reorder` in pyproject.toml: by default it would start
# with the files that hold the most tests), so starting with these lets the short files
# fill in at the end and the two workers finish together.
LONGEST_FIRST = (
    "test_pipeline_e2e.py",
    "test_backfill_idempotency.py",
    "test_publish_e2e.py",
    "test_hardening_e2e.py",
    "test_cli.py",
    "test_dbt_unit_tests.py",
    "test_semantic_layer.py",
    "test_report.py",
    "test_generated_e2e.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
