"""The daily partitioning shared by every partitioned asset: one partition per ``dt=`` day."""

from __future__ import annotations

import dagster as dg

from dagster_project.lib.config import get_config


def daily_partitions() -> dg.DailyPartitionsDefinition:
    # end_offset=1: today's partition exists, so a folder exported today can be loaded today.
    return dg.DailyPartitionsDefinition(
        start_date=get_config().partitions.start_date.isoformat(), timezone="UTC", end_offset=1
    )
