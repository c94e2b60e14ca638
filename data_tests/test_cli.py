"""The `journey` command's guards and failure reporting, run as a user runs it (a subprocess).

- a dbt model that fails blocks only its own downstream; the run exits 1 naming it;
- a run killed earlier (left STARTED in the Dagster instance) is marked failed by the next one;
- history older than any configured date loads (the partitions start at the oldest dt=);
- --as-of outside the landing zone's days, and a warehouse path that cannot be a DuckDB file,
  are usage errors (one line, exit 2) found before anything runs.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from conftest import run_journey
from landing_builder import LandingBuilder, call, contact, order, owner, product, review, track

from dagster_project.lib.config import parse_config
from dagster_project.lib.dbt import failed_nodes, skipped_nodes
from dagster_project.orchestration.recovery import HOST_TAG, PID_TAG, fail_abandoned_runs, process_tags
from dagster_project.runner import RunnerError, _partition_window, check_as_of

D1, D2 = "2024-08-01", "2024-08-02"  # older than the start_date the shipped config used to have


def _landing(root: Path) -> Path:
    """Two days of clean data in every source, nothing a check would fail on."""
    b = LandingBuilder(root)
    b.add("crm", "contacts", D1, contact("1", f"{D1} 09:00", email="ana@example.com", phone="501 234 567"))
    b.add("crm", "products", D1, product("P-1", f"{D1} 00:00", category="footwear", price="50.00"))
    b.add("crm", "owners", D1, owner("301", "ola@shop.example"))
    b.add("crm", "orders", D1, order("880", "1", f"{D1} 12:00", total="100.00", items=[("P-1", "50.00", "2")]))
    b.add("crm", "orders", D2, order("881", "1", f"{D2} 12:00", total="50.00", items=[("P-1", "50.00", "1")]))
    b.add("calls", "calls", D1, call(812345, f"{D1} 10:00"))
    b.add(
        "cart_events",
        "tracks",
        D1,
        track(
            "m-1",
            "Product Added",
            f"{D1}T11:15:00+02:00",
            anonymous_id="a-7",
            cart_id="c-1",
            product_id="P-1",
            price=50.0,
            quantity=1,
            currency="EUR",
        ),
    )
    b.add("reviews", "reviews", D2, review("rv-1", f"{D2} 07:00", stars=4))
    return b.write()


def _materializations(instance: dg.DagsterInstance, key: str) -> int:
    return len(instance.fetch_materializations(dg.AssetKey.from_user_string(key), limit=100).records)


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    return int(done.stdout)


def test_a_failed_dbt_model_blocks_only_its_downstream_and_a_killed_run_is_failed(tmp_path: Path) -> None:
    landing, warehouse = _landing(tmp_path / "landing"), tmp_path / "w.duckdb"
    instance = dg.DagsterInstance.get()  # the session's Dagster home, shared with the subprocess
    # a run of a journey process that died (kill -9): still STARTED in the instance
    ghost = instance.create_run_for_job(
        dg.GraphDefinition(name="ghost", node_defs=[]).to_job(),
        status=dg.DagsterRunStatus.STARTED,
        tags={PID_TAG: str(_dead_pid()), HOST_TAG: socket.gethostname()},
    )
    assert instance.get_run_by_id(ghost.run_id).status == dg.DagsterRunStatus.STARTED

    first = run_journey("run", "--landing", str(landing), "--warehouse", str(warehouse))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "partitions 2024-08-01 .. 2024-08-02" in first.stdout  # history older than 2025 loads
    assert f"Marked failed: 1 run(s) left unfinished by a journey process that was killed ({ghost.run_id})" in (
        first.stdout
    )
    assert instance.get_run_by_id(ghost.run_id).status == dg.DagsterRunStatus.FAILURE

    ltv_before = _materializations(instance, "marts/mart_customer_ltv")
    carts_before = _materializations(instance, "marts/mart_cart_abandonment_daily")
    # break one incremental cart model: its held table no longer matches its SQL (on_schema_change=fail)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("alter table intermediate.int_cart_events_identified add column tampered integer")
    second = run_journey("run", "--landing", str(landing), "--warehouse", str(warehouse))
    assert second.returncode == 1
    out = second.stdout
    assert "dbt failed: model.journey.int_cart_events_identified (error): " in out
    assert "out of sync" in out  # dbt's own message, not "The dbt CLI process with command ..."
    assert "Not built: " in out and "marts/mart_cart_abandonment_daily" in out
    assert "Result: FAILED" in out
    # the CRM-only LTV mart was built; the cart mart downstream of the failure was not
    assert _materializations(instance, "marts/mart_customer_ltv") == ltv_before + 1
    assert _materializations(instance, "marts/mart_cart_abandonment_daily") == carts_before


def test_as_of_outside_the_landing_days_is_a_usage_error(tmp_path: Path) -> None:
    landing = _landing(tmp_path / "landing")
    warehouse = str(tmp_path / "w.duckdb")
    later = run_journey("run", "--landing", str(landing), "--warehouse", warehouse, "--as-of", "2030-01-01")
    assert later.returncode == 2
    assert later.stderr.strip() == (
        "journey run: error: --as-of 2030-01-01 is after the newest dt= folder 2024-08-02; "
        "pass --allow-future-as-of to measure as of a day with no data yet"
    )
    earlier = run_journey(
        "backfill",
        "--landing",
        str(landing),
        "--warehouse",
        warehouse,
        "--start",
        D1,
        "--end",
        D2,
        "--as-of",
        "2024-07-01",
    )
    assert earlier.returncode == 2
    assert earlier.stderr.strip() == (
        "journey backfill: error: --as-of 2024-07-01 is before the first partition 2024-08-01: "
        "there is no data to measure"
    )
    assert not Path(warehouse).exists()


def test_check_as_of_allows_a_future_day_only_on_request() -> None:
    check_as_of(date(2030, 1, 1), "2024-08-01", "2024-08-02", allow_future=True)
    check_as_of(date(2024, 8, 2), "2024-08-01", "2024-08-02", allow_future=False)
    with pytest.raises(RunnerError, match="after the newest"):
        check_as_of(date(2024, 8, 3), "2024-08-01", "2024-08-02", allow_future=False)
    with pytest.raises(RunnerError, match="before the first partition"):
        check_as_of(date(2024, 7, 31), "2024-08-01", "2024-08-02", allow_future=True)


@pytest.mark.parametrize("kind", ["directory", "under_a_file", "not_duckdb"])
def test_an_unusable_warehouse_is_a_usage_error_before_the_run(tmp_path: Path, kind: str) -> None:
    landing = _landing(tmp_path / "landing")
    if kind == "directory":
        warehouse = tmp_path / "w.duckdb"
        warehouse.mkdir()
        expected = f"warehouse {warehouse} is a directory, not a DuckDB file"
    elif kind == "under_a_file":
        (tmp_path / "plain").write_text("x")
        warehouse = tmp_path / "plain" / "w.duckdb"
        expected = f"warehouse {warehouse} lies under {tmp_path / 'plain'}, which is a file, not a directory"
    else:
        warehouse = tmp_path / "w.duckdb"
        warehouse.write_bytes(b"not a database, just bytes\n" * 500)
        expected = f"warehouse {warehouse} cannot be opened as a DuckDB database ("
    done = run_journey("run", "--landing", str(landing), "--warehouse", str(warehouse), timeout=120)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith(f"journey run: error: {expected}")
    assert "Traceback" not in done.stderr


def test_days_before_an_explicit_start_date_are_reported_not_loaded(tmp_path: Path, monkeypatch) -> None:
    config = parse_config({"partitions": {"start_date": "2024-08-02"}})
    days, notes = _partition_window(config, ["2024-07-30", "2024-08-01", "2024-08-02", "2999-01-01"])
    assert days == ["2024-08-02"]
    assert notes[0] == (
        "Not loaded: 2 dt= day(s) before partitions.start_date 2024-08-02 (2024-07-30 .. 2024-08-01); "
        "remove start_date from orchestration.yaml to load them"
    )
    assert notes[1].startswith("Not loaded: 1 dt= day(s) after today ") and notes[1].endswith(": 2999-01-01")


def test_without_start_date_the_first_partition_is_the_oldest_valid_dt(tmp_path: Path) -> None:
    from dagster_project.lib.partitions import first_partition_date, today_utc

    landing = _landing(tmp_path / "landing")
    (landing / "crm" / "contacts" / "dt=2024-02-30").mkdir()  # not a date: not a partition
    (landing / "crm" / "contacts" / "dt=garbage").mkdir()
    assert first_partition_date(parse_config({"paths": {"landing": str(landing)}})) == date(2024, 8, 1)
    assert first_partition_date(parse_config({"paths": {"landing": str(tmp_path / "empty")}})) == today_utc()
    started = {"paths": {"landing": str(landing)}, "partitions": {"start_date": "2025-01-01"}}
    assert first_partition_date(parse_config(started)) == date(2025, 1, 1)


def test_options_win_over_the_environment_which_wins_over_the_file(tmp_path: Path, monkeypatch) -> None:
    """lib/environment.py journey_config: the one place the paths' overrides are read."""
    from dagster_project.lib.environment import journey_config

    config_file = tmp_path / "orchestration.yaml"
    config_file.write_text("paths:\n  landing: from-file\n  warehouse: from-file.duckdb\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JOURNEY_LANDING", raising=False)
    monkeypatch.setenv("JOURNEY_WAREHOUSE", str(tmp_path / "from-env.duckdb"))
    config = journey_config(config_file)
    assert (config.landing_path, config.warehouse_path) == (tmp_path / "from-file", tmp_path / "from-env.duckdb")
    config = journey_config(config_file, Path("option"), tmp_path / "option.duckdb")
    assert (config.landing_path, config.warehouse_path) == (tmp_path / "option", tmp_path / "option.duckdb")


def test_failed_and_skipped_dbt_nodes_from_run_results() -> None:
    run_results = {
        "results": [
            {"unique_id": "model.journey.a", "status": "success", "message": "OK"},
            {"unique_id": "model.journey.b", "status": "error", "message": "Runtime Error\n  Conversion  failed"},
            {"unique_id": "test.journey.not_null_a_x", "status": "fail", "message": "Got 3 results"},
            {"unique_id": "test.journey.unique_a_x", "status": "warn", "message": "Got 1 result"},
            {"unique_id": "model.journey.c", "status": "skipped", "message": None},
        ]
    }
    failures = failed_nodes(run_results)
    assert [(f.unique_id, f.status, f.message) for f in failures] == [
        ("model.journey.b", "error", "Runtime Error Conversion failed"),
        ("test.journey.not_null_a_x", "fail", "Got 3 results"),
    ]
    assert [f.is_test for f in failures] == [False, True]
    assert skipped_nodes(run_results) == ["model.journey.c"]


def test_a_python_asset_holds_back_when_a_check_on_its_input_failed() -> None:
    """The gate mart_customer_ltv uses: a non-blocking ERROR check that failed on an input
    earlier in the same run stops the asset (and so its own downstream), nothing else."""
    from dagster_project.orchestration.selection import failed_checks_upstream

    @dg.asset(check_specs=[dg.AssetCheckSpec("rows_ok", asset="tested")])
    def tested():
        yield dg.MaterializeResult()
        yield dg.AssetCheckResult(check_name="rows_ok", passed=False, severity=dg.AssetCheckSeverity.ERROR)

    @dg.asset
    def other() -> None:
        return None

    def gated(name: str, dep: str) -> dg.AssetsDefinition:
        @dg.asset(name=name, deps=[dep], output_required=False)
        def _gated(context):  # untyped: the hint of a nested asset is not resolvable here
            if not failed_checks_upstream(context):
                yield dg.MaterializeResult()

        return _gated

    @dg.asset(deps=["after_tested"])
    def further() -> None:
        return None

    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [tested, other, gated("after_tested", "tested"), gated("after_other", "other"), further],
            instance=instance,
            raise_on_error=False,
        )
    built = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert built == {"tested", "other", "after_other"}
    assert result.success


def test_definitions_load_without_the_venv_on_path(tmp_path: Path) -> None:
    """`.venv/bin/python -m ...` with a PATH that lacks the venv: the dbt resource uses the dbt
    installed next to the interpreter."""
    script = (
        "import shutil, sys\n"
        "from pathlib import Path\n"
        "from dagster_project.definitions import defs\n"
        "dbt = defs.resources['dbt']\n"
        "assert shutil.which('dbt') is None, shutil.which('dbt')\n"
        "assert Path(dbt.dbt_executable) == Path(sys.executable).parent / 'dbt', dbt.dbt_executable\n"
        "import subprocess\n"
        "print(subprocess.run([dbt.dbt_executable, '--version'], capture_output=True, text=True).stdout)\n"
    )
    env = {**os.environ, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert re.search(r"installed: \d+\.\d+\.\d+", done.stdout), done.stdout  # found without PATH


def test_only_runs_of_dead_journey_processes_are_failed(tmp_path: Path) -> None:
    job = dg.GraphDefinition(name="some_job", node_defs=[]).to_job()
    host = socket.gethostname()
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        dead = instance.create_run_for_job(
            job, status=dg.DagsterRunStatus.STARTED, tags={PID_TAG: str(_dead_pid()), HOST_TAG: host}
        )
        alive = instance.create_run_for_job(job, status=dg.DagsterRunStatus.STARTED, tags=process_tags())
        other_host = instance.create_run_for_job(
            job, status=dg.DagsterRunStatus.STARTED, tags={PID_TAG: str(_dead_pid()), HOST_TAG: host + "-other"}
        )
        ui_run = instance.create_run_for_job(job, status=dg.DagsterRunStatus.STARTED)
        assert fail_abandoned_runs(instance) == [dead.run_id]
        status = {
            r: instance.get_run_by_id(r).status for r in (dead.run_id, alive.run_id, other_host.run_id, ui_run.run_id)
        }
        assert status == {
            dead.run_id: dg.DagsterRunStatus.FAILURE,
            alive.run_id: dg.DagsterRunStatus.STARTED,
            other_host.run_id: dg.DagsterRunStatus.STARTED,
            ui_run.run_id: dg.DagsterRunStatus.STARTED,
        }
        failure = instance.all_logs(dead.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
        assert "ended without finishing this run" in failure[0].message
        assert fail_abandoned_runs(instance) == []


def test_unreadable_partition_names_are_reported_not_fatal(tmp_path: Path) -> None:
    from dagster_project.runner import _landing_days

    landing = _landing(tmp_path / "landing")
    (landing / "crm" / "orders" / "dt=garbage").mkdir()
    (landing / "crm" / "orders" / "dt=2025-02-30").mkdir()
    days, notes = _landing_days(landing)
    assert days == [D1, D2]
    assert [n.split(": ")[1] for n in notes] == [
        str(landing / "crm" / "orders" / "dt=2025-02-30"),
        str(landing / "crm" / "orders" / "dt=garbage"),
    ]
    assert all(n.startswith("Not loaded: ") and "bad_partition" in n for n in notes)
