"""The daily partitioning shared by every partitioned asset: one partition per ``dt=`` day.

The first partition is ``partitions.start_date`` when orchestration.yaml sets it, else the
oldest valid ``dt=`` folder of the landing zone (a shop's whole history loads on the first
run, however old), else today (an empty landing zone). The last is today, UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg

from dagster_project.lib.config import JourneyConfig

_DT = re.compile(r"\d{4}-\d{2}-\d{2}")


def is_partition_name(text: str) -> bool:
    """True for a real calendar date written YYYY-MM-DD (``2025-02-30``, ``garbage``,
    ``2025-01-07.bak`` are not)."""
    if not _DT.fullmatch(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def valid_partitions(landing: Path) -> list[str]:
    """The valid ``dt=`` days present under any entity folder of ``landing``, sorted."""
    from dagster_project.lib.landing import partitions_present  # only valid dates (lib/landing.py inventory)

    return partitions_present(landing)


def today_utc() -> date:
    return datetime.now(UTC).date()


def last_partition_date() -> date:
    """The newest day a partition exists for: today in UTC (a folder exported today loads today)."""
    return today_utc()


def first_partition_date(config: JourneyConfig) -> date:
    if config.partitions.start_date is not None:
        return config.partitions.start_date
    present = valid_partitions(config.landing_path)
    return min(date.fromisoformat(present[0]), today_utc()) if present else today_utc()


def daily_partitions(config: JourneyConfig) -> dg.DailyPartitionsDefinition:
    # end_offset=1: today's partition exists, so a folder exported today can be loaded today.
    return dg.DailyPartitionsDefinition(
        start_date=first_partition_date(config).isoformat(), timezone="UTC", end_offset=1
    )
