"""dbt_project.yml's `vars` defaults against what the config object hands dbt.

Dagster passes `JourneyConfig.dbt_vars()` to every dbt command with --vars; dbt_project.yml's
defaults apply when dbt is run by hand. The two must agree, or a model gives one number in
the pipeline and another in a standalone `dbt build`. The defaults of the config object
(no orchestration.yaml at all) are compared, key by key.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml

from dagster_project.lib.config import JourneyConfig

DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project" / "dbt_project.yml"


def _dbt_defaults() -> dict[str, Any]:
    return yaml.safe_load(DBT_PROJECT.read_text())["vars"]


def test_dbt_project_var_defaults_equal_the_config_defaults() -> None:
    handed = JourneyConfig().dbt_vars()
    defaults = _dbt_defaults()
    shared = sorted(set(handed) & set(defaults))
    assert len(shared) >= 15, shared  # every metric parameter (19 keys when this test was written)
    drift = {
        key: {"dbt_project.yml": defaults[key], "config": handed[key]} for key in shared if defaults[key] != handed[key]
    }
    assert not drift, f"dbt_project.yml vars differ from JourneyConfig().dbt_vars(): {drift}"


def test_every_var_dagster_passes_has_a_dbt_default() -> None:
    """A var only the pipeline sets would make a hand-run dbt fail or fall back to a default
    written in the model; the run's own vars (as_of and the window) are included."""
    handed = JourneyConfig().dbt_vars(date(2025, 3, 2), (date(2025, 3, 1), date(2025, 3, 2)))
    missing = sorted(set(handed) - set(_dbt_defaults()))
    assert not missing, f"vars handed to dbt without a default in dbt_project.yml: {missing}"


def test_the_comparison_sees_a_changed_default() -> None:
    """The check above is not vacuous: a config with another SLA target differs from dbt's default."""
    changed = JourneyConfig.model_validate({"metrics": {"service_level_seconds": 30}}).dbt_vars()
    assert changed["service_level_seconds"] != _dbt_defaults()["service_level_seconds"]
