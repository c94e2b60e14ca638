"""Schedule, sensors, retry policy and blocked-downstream selection, evaluated with Dagster's test helpers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from landing_builder import LandingBuilder, review

from dagster_project.lib.config import RetriesConfig
from dagster_project.lib.environment import WarehouseResource, is_transient, retry_delay_seconds, warehouse_problem
from dagster_project.orchestration.definitions import landing_changes, scheduled_partition
from dagster_project.orchestration.selection import blocked_downstream


def _defs():
    from dagster_project.definitions import defs

    return defs


def test_nightly_schedule_loads_yesterday_utc() -> None:
    repository = _defs().get_repository_def()
    schedule = repository.get_schedule_def("nightly")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Europe/Warsaw"
    # 02:00 in Warsaw on 3 March is 01:00 UTC: the latest complete UTC day is 2 March
    moment = datetime(2025, 3, 3, 2, 0, tzinfo=ZoneInfo("Europe/Warsaw"))
    # no repository_def: the partitions start at the oldest dt= of whatever landing zone the
    # definitions loaded with, which need not reach back to this made-up date
    context = dg.build_schedule_context(scheduled_execution_time=moment)
    request = schedule(context)  # the schedule's function, without the tick's partition validation
    assert request.partition_key == "2025-03-02"
    assert request.job_name in (None, "extract_landing")


def test_scheduled_partition_around_midnight() -> None:
    # 00:30 in Warsaw on 3 March is 23:30 UTC on 2 March: yesterday in UTC is 1 March
    assert scheduled_partition(datetime(2025, 3, 3, 0, 30, tzinfo=ZoneInfo("Europe/Warsaw"))) == "2025-03-01"


def test_landing_sensor_sees_new_days_and_redeliveries(tmp_path: Path) -> None:
    b = LandingBuilder(tmp_path).add("reviews", "reviews", "2025-03-01", review("a", "2025-03-01 07:00", stars=5))
    b.write()
    first = landing_changes(tmp_path, {}, "2025-01-01")
    assert list(first) == ["2025-03-01"]
    assert landing_changes(tmp_path, first, "2025-01-01") == {}  # nothing new
    new_day = tmp_path / "reviews" / "reviews" / "dt=2025-03-02"
    new_day.mkdir(parents=True)
    (new_day / "part-0001.jsonl").write_text("{}\n")
    redelivered = tmp_path / "reviews" / "reviews" / "dt=2025-03-01" / "part-0002.jsonl"
    redelivered.write_text("{}\n")
    later = time.time() + 10
    os.utime(redelivered, (later, later))
    assert sorted(landing_changes(tmp_path, first, "2025-01-01")) == ["2025-03-01", "2025-03-02"]
    assert landing_changes(tmp_path, {}, "2025-03-02").keys() == {"2025-03-02"}  # before start_date: ignored
    (tmp_path / "reviews" / "reviews" / "dt=2025-02-30").mkdir()  # not a date: left to the extract's report
    assert sorted(landing_changes(tmp_path, {})) == ["2025-03-01", "2025-03-02"]


_SENSOR_SCRIPT = """
import dagster as dg
from dagster_project.definitions import defs

repository = defs.get_repository_def()
print(repository.get_job("extract_landing").partitions_def.get_first_partition_key())
sensor = repository.get_sensor_def("new_landing_folders")
with dg.instance_for_test() as instance:
    result = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, repository_def=repository))
    print(",".join(r.partition_key for r in result.run_requests))
    context = dg.build_sensor_context(instance=instance, cursor=result.cursor, repository_def=repository)
    print(len(sensor.evaluate_tick(context).run_requests))
"""


def test_landing_sensor_evaluation_requests_extract_runs(tmp_path: Path) -> None:
    """Definitions loaded on a landing zone whose history starts on 1 March: the partitions start
    there (no start_date in orchestration.yaml) and the sensor asks for that day, once."""
    landing = tmp_path / "landing"
    b = LandingBuilder(landing).add("reviews", "reviews", "2025-03-01", review("a", "2025-03-01 07:00", stars=5))
    b.add("reviews", "reviews", "2025-03-02", review("b", "2025-03-02 07:00", stars=4)).write()
    (landing / "reviews" / "reviews" / "dt=garbage").mkdir()  # not a day: neither a partition nor a request
    env = {**os.environ, "JOURNEY_LANDING": str(landing)}
    done = subprocess.run(
        [sys.executable, "-c", _SENSOR_SCRIPT], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2025-03-01", "2025-03-01,2025-03-02", "0"]


def test_a_failed_source_blocks_exactly_its_downstream() -> None:
    defs = _defs()
    graph = defs.resolve_asset_graph()
    build = set(defs.resolve_job_def("build_warehouse").asset_layer.selected_asset_keys)
    remaining, blocked = blocked_downstream(graph, build, [dg.AssetKey(["raw", "reviews", "reviews"])])
    removed = set(blocked["raw/reviews/reviews"])
    expected = {"staging/stg_reviews__reviews", "intermediate/int_reviews_identified", "marts/fct_customer_journey"}
    assert expected <= removed
    remaining_names = {k.to_user_string() for k in remaining}
    assert {"marts/dim_customers", "marts/mart_nps_daily", "audit/quarantine_summary"} <= remaining_names
    assert not removed & remaining_names


def test_retry_delays_come_from_config() -> None:
    linear = RetriesConfig(max_retries=3, delay_seconds=5, backoff="linear")
    exponential = RetriesConfig(max_retries=3, delay_seconds=5, backoff="exponential")
    assert [retry_delay_seconds(linear, n) for n in range(3)] == [5, 10, 15]
    assert [retry_delay_seconds(exponential, n) for n in range(3)] == [5, 10, 20]
    # no blanket policy: only a transient error asks for a retry
    assert _defs().resolve_job_def("extract_landing").op_retry_policy is None


def test_only_a_lock_conflict_or_busy_io_is_transient(tmp_path: Path) -> None:
    import errno

    import duckdb

    path = tmp_path / "w.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; c = duckdb.connect({str(path)!r}); print('ok', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        with pytest.raises(duckdb.Error) as locked:
            duckdb.connect(str(path))
        assert is_transient(locked.value)
        assert warehouse_problem(path) is None  # worth waiting for, not a usage error
        with pytest.raises(dg.RetryRequested) as retry, WarehouseResource(path=str(path)).connect():
            pass
        assert retry.value.max_retries == 2
    finally:
        holder.communicate("")
    assert is_transient(OSError(errno.EBUSY, "busy"))
    assert not is_transient(OSError(errno.ENOSPC, "no space left"))
    (tmp_path / "garbage.duckdb").write_bytes(b"this is not a database" * 100)
    with pytest.raises(duckdb.Error) as corrupt:
        duckdb.connect(str(tmp_path / "garbage.duckdb"))
    assert not is_transient(corrupt.value)


def test_warehouse_problems_are_found_before_the_run(tmp_path: Path) -> None:
    (tmp_path / "folder.duckdb").mkdir()
    folder = tmp_path / "folder.duckdb"
    assert warehouse_problem(folder) == f"warehouse {folder} is a directory, not a DuckDB file"
    (tmp_path / "afile").write_text("x")
    assert "lies under" in warehouse_problem(tmp_path / "afile" / "sub" / "w.duckdb")
    (tmp_path / "bad.duckdb").write_bytes(b"\0garbage" * 1000)
    assert "cannot be opened as a DuckDB database" in warehouse_problem(tmp_path / "bad.duckdb")
    assert warehouse_problem(tmp_path / "new" / "w.duckdb") is None  # created by the run


def test_the_build_plan_is_the_build_job_minus_the_blocked_downstream() -> None:
    """orchestration/plan.py: what both the journey command and the sensors launch."""
    from dagster_project.orchestration.plan import plan_build

    defs = _defs()
    graph = defs.resolve_asset_graph()
    build = set(defs.resolve_job_def("build_warehouse").asset_layer.selected_asset_keys)
    clean = plan_build(graph, [], "2025-03-01", "2025-03-02", as_of=None, full_refresh=True)
    assert set(clean.assets) == build and not clean.blocked and not clean.tags()
    ops = clean.run_config("/tmp/parsed").to_config_dict()["ops"]
    assert ops["journey_dbt"]["config"] == {
        "window_start": "2025-03-01",
        "window_end": "2025-03-02",
        "full_refresh": True,
        "parsed_target_path": "/tmp/parsed",
    }
    assert ops["marts__mart_customer_ltv"]["config"] == {}  # as_of: the newest day loaded

    orders = dg.AssetKey(["raw", "crm", "orders"])
    blocked = plan_build(graph, [orders], "2025-03-02", "2025-03-02", as_of="2025-03-02")
    remaining, expected = blocked_downstream(graph, build, [orders])
    assert set(blocked.assets) == remaining and blocked.blocked == expected
    assert dg.AssetKey(["marts", "mart_customer_ltv"]) not in blocked.assets  # its config is left out too
    assert set(blocked.run_config().to_config_dict()["ops"]) == {"journey_dbt"}
    assert blocked.tags() == {"journey/blocked": "raw/crm/orders"}


def test_the_sensor_after_an_extract_launches_the_plan(tmp_path: Path) -> None:
    """After a successful extract of one day, the sensor requests exactly the plan of that
    day, measured as of it: the journey command's plan function, not a copy of it."""
    from dagster_project.orchestration.plan import plan_build

    defs = _defs()
    sensor = defs.get_repository_def().get_sensor_def("build_after_extract")
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        run = instance.create_run_for_job(
            defs.resolve_job_def("extract_landing"),
            status=dg.DagsterRunStatus.SUCCESS,
            tags={"dagster/partition": "2025-03-02"},
        )
        context = dg.build_run_status_sensor_context(
            sensor_name=sensor.name,
            dagster_instance=instance,
            dagster_run=run,
            dagster_event=dg.DagsterEvent(event_type_value="PIPELINE_SUCCESS", job_name=run.job_name),
        )
        request = sensor(context)
    expected = plan_build(defs.resolve_asset_graph(), [], "2025-03-02", "2025-03-02", as_of="2025-03-02")
    assert isinstance(request, dg.RunRequest)
    assert request.asset_selection == list(expected.assets)
    assert request.run_config == expected.run_config().to_config_dict()
    assert request.run_config["ops"]["journey_dbt"]["config"] == {
        "as_of": "2025-03-02",
        "window_start": "2025-03-02",
        "window_end": "2025-03-02",
        "full_refresh": False,
    }


def test_backfill_with_end_before_start_is_a_usage_error_before_anything_starts() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dagster_project.cli", "backfill", "--start", "2025-03-02", "--end", "2025-03-01"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "journey backfill: error: --end 2025-03-01 is before --start 2025-03-02"
