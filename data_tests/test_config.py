"""orchestration.yaml is validated at load time with errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from dagster_project.lib.config import ConfigError, load_config, parse_config


def test_project_config_loads_with_contract_defaults() -> None:
    config = load_config()
    m = config.metrics
    assert (m.cart_abandonment_window_hours, m.cart_recovery_days, m.service_level_seconds) == (24, 7, 20)
    assert (m.first_call_resolution_days, m.churn_inactivity_days) == (7, 90)
    assert m.sla_first_response_minutes == {
        "CHAT": 5,
        "SOCIAL": 60,
        "EMAIL": 1440,
        "MARKETPLACE": 1440,
        "FORM": 1440,
        "PHONE": 60,
    }
    assert m.sla_category_first_response_minutes == {"RETURN_REQUEST": 2880}
    assert config.reporting.currency == "EUR"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({"metrics": {"cart_window_hours": 3}}, "metrics.cart_window_hours: unknown key"),
        ({"schedule": {"cron": "every night"}}, "schedule.cron"),
        ({"metrics": {"churn_inactivity_days": "ninety"}}, "metrics.churn_inactivity_days"),
        ({"reporting": {"timezone": "Mars/Olympus"}}, "reporting.timezone"),
        ({"metrics": {"sla_first_response_minutes": {"FAX": 1}}}, "unknown ticket channel"),
        ({"metrics": {"sla_category_first_response_minutes": {"RETURN_REQUEST": 0}}}, "positive minutes"),
        ({"metrics": {"sla_category_first_response_minutes": {"RETURN_REQUEST": 0.001}}}, "whole number of seconds"),
        ({"quality": {"quarantine_threshold": {"default": 2}}}, "quality.quarantine_threshold"),
        ({"reporting": {"currency": "euro"}}, "reporting.currency"),
        ({"warehouse": {"engine": "snowflake"}}, "warehouse.engine"),
        ({"warehouse": {"separate_extract": "sometimes"}}, "warehouse.separate_extract"),
        ({"warehouse": {"spark": {"driver_memory": "3 GB"}}}, "warehouse.spark.driver_memory"),
        (["not", "a", "mapping"], "must be a mapping"),
    ],
)
def test_invalid_config_names_the_key(raw: object, fragment: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(raw)  # type: ignore[arg-type]
    assert fragment in str(error.value)


def test_unreadable_and_invalid_yaml_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("metrics: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_dbt_vars_carry_parameters_and_as_of() -> None:
    from datetime import date

    dbt_vars = load_config().dbt_vars(date(2025, 3, 2))
    assert dbt_vars["as_of"] == "2025-03-02"
    assert dbt_vars["cart_abandonment_window_hours"] == 24
    assert dbt_vars["sla_first_response_minutes"]["CHAT"] == 5
    assert dbt_vars["sla_category_first_response_minutes"] == {"RETURN_REQUEST": 2880}
    assert not any(key.endswith("_hours") and key.startswith("sla_") for key in dbt_vars)


@pytest.mark.parametrize("old_key", ["sla_first_response_hours", "sla_category_first_response_hours"])
def test_sla_hours_keys_are_refused_with_their_new_name(old_key: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config({"metrics": {old_key: {"RETURN_REQUEST": 48}}}, Path("orchestration.yaml"))
    message = str(error.value)
    assert "\n" not in message
    assert f"metrics.{old_key} was renamed to metrics.{old_key.replace('_hours', '_minutes')}" in message


def test_sla_minutes_keep_fractions_of_whole_seconds() -> None:
    targets = {"CHAT": 0.5, "SOCIAL": 60, "EMAIL": 1440, "MARKETPLACE": 1440, "FORM": 1440, "PHONE": 60.0}
    m = parse_config({"metrics": {"sla_first_response_minutes": targets}}).metrics
    assert m.sla_first_response_minutes["CHAT"] == 0.5  # 30 s
    assert m.sla_first_response_minutes["PHONE"] == 60 and isinstance(m.sla_first_response_minutes["PHONE"], int)


def test_the_extract_runs_apart_when_its_window_is_large(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster_project import runner

    landing = tmp_path / "landing"
    for source, entity, day, size in [
        ("crm", "orders", "2025-01-01", 300),
        ("crm", "orders", "2025-01-02", 500),
        ("calls", "calls", "2025-01-02", 200),
        ("calls", "calls", "2025-01-03", 4000),  # outside the window
    ]:
        folder = landing / source / entity / f"dt={day}"
        folder.mkdir(parents=True)
        (folder / "part-0.jsonl").write_bytes(b"x" * size)
    (landing / "crm" / "orders" / "dt=garbage").mkdir()  # not a partition: not counted, no error

    def plan(mode: str) -> runner._Plan:
        raw = {"paths": {"landing": str(landing)}, "warehouse": {"separate_extract": mode}}
        return runner._Plan(parse_config(raw), tmp_path / "o.yaml", "2025-01-01", "2025-01-02", None, False)

    assert runner.window_bytes(landing, "2025-01-01", "2025-01-02") == 1000
    monkeypatch.setattr(runner, "SEPARATE_EXTRACT_BYTES", 999)
    assert runner.separate_extract(plan("auto"))
    monkeypatch.setattr(runner, "SEPARATE_EXTRACT_BYTES", 1000)
    assert not runner.separate_extract(plan("auto"))
    assert runner.separate_extract(plan("always"))
    monkeypatch.setattr(runner, "SEPARATE_EXTRACT_BYTES", 1)
    assert not runner.separate_extract(plan("never"))
