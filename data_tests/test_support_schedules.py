"""orchestration.yaml support_schedules: validation and what dbt receives (docs/service-marts.md)."""

from __future__ import annotations

import pytest

from dagster_project.lib.config import ConfigError, load_config, parse_config

OFFICE = {
    "timezone": "Europe/Warsaw",
    "hours": {"mon": ["09:00-12:00", "13:00-17:00"], "sat": ["10:00-24:00"]},
    "holidays": ["2025-05-01"],
}


def test_without_the_section_every_channel_is_always_open() -> None:
    # dbt gets only the configured channels (equal to dbt_project.yml's {} default);
    # int_tickets_measured puts every channel not listed on the built-in always_open schedule
    dbt_vars = parse_config({}).dbt_vars()
    assert dbt_vars["support_schedules"] == {}
    assert dbt_vars["support_schedule_channels"] == {}


def test_a_schedule_becomes_minutes_after_local_midnight_per_iso_weekday() -> None:
    config = parse_config({"support_schedules": {"schedules": {"office": OFFICE}, "channels": {"EMAIL": "office"}}})
    dbt_vars = config.dbt_vars()
    # Monday = 1: 09:00 is minute 540, 12:00 720, 13:00 780, 17:00 1020; Saturday = 6, 24:00 = 1440
    assert dbt_vars["support_schedules"] == {
        "office": {
            "timezone": "Europe/Warsaw",
            "hours": {1: [[540, 720], [780, 1020]], 6: [[600, 1440]]},
            "holidays": ["2025-05-01"],
        }
    }
    assert dbt_vars["support_schedule_channels"] == {"EMAIL": "office"}  # CHAT & co.: always_open in dbt


def test_the_shipped_file_puts_email_form_marketplace_on_office_hours() -> None:
    channels = load_config().dbt_vars()["support_schedule_channels"]
    assert {c for c, s in channels.items() if s == "office"} == {"EMAIL", "FORM", "MARKETPLACE"}


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"schedules": {"office": {**OFFICE, "timezone": "Mars/Olympus"}}}, "unknown time zone"),
        ({"schedules": {"office": {**OFFICE, "hours": {"mon": ["17:00-09:00"]}}}}, "must open before it closes"),
        ({"schedules": {"office": {**OFFICE, "hours": {"mon": ["9-17"]}}}}, "is not an interval"),
        ({"schedules": {"office": {**OFFICE, "hours": {"mon": ["09:00-13:00", "12:00-17:00"]}}}}, "overlap"),
        ({"schedules": {"office": {**OFFICE, "hours": {"monday": ["09:00-17:00"]}}}}, "hours.monday"),
        ({"schedules": {"office": OFFICE}, "channels": {"EMAIL": "ofice"}}, "no schedule named 'ofice'"),
        ({"schedules": {"office": OFFICE}, "channels": {"FAX": "office"}}, "unknown ticket channel"),
        ({"schedules": {"Office Hours": OFFICE}}, "schedule name"),
        ({"schedules": {"always_open": OFFICE}}, "schedule name"),
        ({"schedules": {"office": {**OFFICE, "holidays": ["2025-02-30"]}}}, "holidays"),
    ],
)
def test_a_wrong_schedule_is_refused_at_load_time(section: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config({"support_schedules": section})


def test_ltv_check_keys_have_defaults_and_bounds() -> None:
    metrics = parse_config({}).metrics
    assert (metrics.ltv_holdout_weeks, metrics.ltv_holdout_max_error, metrics.ltv_interval_draws) == (26, 0.15, 200)
    with pytest.raises(ConfigError, match="ltv_holdout_weeks"):
        parse_config({"metrics": {"ltv_holdout_weeks": 0}})
