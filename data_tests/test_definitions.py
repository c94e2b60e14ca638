"""The Dagster Definitions load and the asset graph is what the design says (guards against drift)."""

from __future__ import annotations

import json
import shutil
from datetime import date

import dagster as dg

from dagster_project.lib.landing import ENTITIES


def _graph():
    from dagster_project.definitions import defs

    return defs, defs.get_repository_def().asset_graph


def test_every_landing_entity_is_a_daily_partitioned_extract_asset() -> None:
    _, graph = _graph()
    for e in ENTITIES:
        node = graph.get(dg.AssetKey(["raw", e.source, e.name]))
        assert node.group_name == f"raw_{e.source}"
        assert isinstance(node.partitions_def, dg.DailyPartitionsDefinition)


def test_dbt_models_sit_downstream_of_their_extract_assets() -> None:
    _, graph = _graph()
    staging = graph.get(dg.AssetKey(["staging", "stg_crm__contacts"]))
    assert dg.AssetKey(["raw", "crm", "contacts"]) in staging.parent_keys
    assert staging.group_name == "staging_crm"
    journey = graph.get(dg.AssetKey(["marts", "fct_customer_journey"]))
    assert journey.group_name == "marts_core"
    assert graph.get(dg.AssetKey(["marts", "mart_nps_daily"])).group_name == "marts_cx"
    assert graph.get(dg.AssetKey(["intermediate", "int_cart_events_identified"])).group_name == (
        "intermediate_identity"
    )
    upstream = graph.upstream_key_iterator(dg.AssetKey(["marts", "fct_customer_journey"]))
    assert dg.AssetKey(["intermediate", "int_calls_measured"]) in set(upstream)


def test_dbt_tests_are_asset_checks_and_jobs_exist() -> None:
    defs, graph = _graph()
    check_keys = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    assert ("marts/fct_customer_journey", "unique_fct_customer_journey_journey_event_id") in check_keys
    assert ("marts/dim_customers", "unique_dim_customers_customer_id") in check_keys
    # the LTV holdout check (a Python asset after dbt): warns, never blocks
    ltv_check = dg.AssetCheckKey(dg.AssetKey(["marts", "mart_ltv_model_checks"]), "ltv_holdout_error")
    assert ("marts/mart_ltv_model_checks", "ltv_holdout_error") in check_keys
    assert not graph.get_check_spec(ltv_check).blocking
    # mart_customer_ltv's privacy check (ERROR when it fails: the publish holds back), non-blocking like dbt's tests
    live_check = dg.AssetCheckKey(dg.AssetKey(["marts", "mart_customer_ltv"]), "customers_are_live_contacts")
    assert live_check in graph.asset_check_keys and not graph.get_check_spec(live_check).blocking
    assert dg.AssetKey(["intermediate", "int_customer_purchase_days"]) in graph.get(ltv_check.asset_key).parent_keys
    assert defs.resolve_job_def("extract_landing") is not None
    assert defs.resolve_job_def("build_warehouse") is not None


def test_the_dbt_resource_is_dagster_dbts_own() -> None:
    """No subclass overriding dagster-dbt's private members: the build runs through the public
    DbtCliResource, with this environment's dbt."""
    from dagster_dbt import DbtCliResource

    from dagster_project.definitions import defs
    from dagster_project.lib.dbt import dbt_executable

    assert type(defs.resources["dbt"]) is DbtCliResource
    assert defs.resources["dbt"].dbt_executable == dbt_executable()


def test_the_dbt_profile_opens_the_warehouse_the_vars_name(tmp_path) -> None:
    """The warehouse resource's file reaches dbt as the var warehouse_path, which wins over
    JOURNEY_WAREHOUSE (still the way to point a dbt command run by hand at a file)."""
    import os
    import subprocess

    from dagster_project.lib.dbt import with_warehouse
    from dagster_project.transform.assets import DBT_PROJECT

    wanted, other = tmp_path / "from-var.duckdb", tmp_path / "from-env.duckdb"
    env = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "JOURNEY_WAREHOUSE": str(other),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
    }
    command = [
        shutil.which("dbt"),
        "debug",
        "--vars",
        json.dumps(with_warehouse({}, str(wanted))),
        "--profiles-dir",
        str(DBT_PROJECT.project_dir),
        "--target",
        DBT_PROJECT.target or "local",
    ]
    done = subprocess.run(command, cwd=DBT_PROJECT.project_dir, env=env, capture_output=True, text=True)
    assert f"path: {wanted}" in done.stdout, done.stdout
    assert str(other) not in done.stdout


def _dbt_parse_log(target_path, dbt_vars: dict, warehouse: str) -> str:
    """`dbt parse` the way dagster-dbt runs a build in `target_path`; dbt's console output."""
    import json
    import os
    import shutil
    import subprocess

    from dagster_project.lib.dbt import with_warehouse
    from dagster_project.transform.assets import DBT_PROJECT

    env = {**os.environ, "DO_NOT_TRACK": "1", "DBT_TARGET_PATH": str(target_path), "DBT_LOG_PATH": str(target_path)}
    command = [
        shutil.which("dbt"),
        "parse",
        "--vars",
        json.dumps(with_warehouse(dbt_vars, warehouse)),
        "--profiles-dir",
        str(DBT_PROJECT.project_dir),
        "--target",
        DBT_PROJECT.target or "local",
    ]
    done = subprocess.run(command, cwd=DBT_PROJECT.project_dir, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_parse_ahead_leaves_a_partial_parse_the_build_can_use(tmp_path) -> None:
    """The journey command parses the dbt project with the build's vars while the extract
    runs; dbt, started later in that folder with the same vars, profile and target, does
    not parse again. With other vars it does (dbt checks that itself)."""
    import shutil

    from dagster_project.lib.config import load_config
    from dagster_project.lib.dbt import ParseAhead
    from dagster_project.transform.assets import DBT_PROJECT

    warehouse = str(tmp_path / "warehouse.duckdb")
    dbt_vars = load_config().dbt_vars(date(2026, 1, 1), (date(2026, 1, 1), date(2026, 1, 1)))
    parsed = ParseAhead(dbt_vars, warehouse, DBT_PROJECT).result()
    assert parsed is not None and (parsed / "partial_parse.msgpack").exists()
    try:
        other = tmp_path / "other"
        shutil.copytree(parsed, other)
        assert "Unable to do partial parsing" not in _dbt_parse_log(parsed, dbt_vars, warehouse)
        next_day = {**dbt_vars, "as_of": "2026-01-02", "window_end": "2026-01-02"}
        assert "Unable to do partial parsing because config vars" in _dbt_parse_log(other, next_day, warehouse)
    finally:
        shutil.rmtree(parsed, ignore_errors=True)


def test_parse_ahead_that_fails_hands_over_nothing(tmp_path) -> None:
    """A project dbt cannot parse: no folder for the build, which then parses (and reports
    the error) on its own."""
    from types import SimpleNamespace

    from dagster_project.lib.dbt import ParseAhead

    (tmp_path / "dbt_project.yml").write_text("name: [unclosed\n")
    broken = SimpleNamespace(project_dir=tmp_path, target="local")
    ahead = ParseAhead({"as_of": "2026-01-01"}, str(tmp_path / "w.duckdb"), broken)
    assert ahead.result() is None
    assert not ahead.target_path.exists()


def test_parse_ahead_no_build_used_is_removed(tmp_path) -> None:
    """A run whose build never started (an extract failure) leaves no parsed folder behind;
    one a build ran in is kept, like dagster-dbt's own per-run folders."""
    from dagster_project.lib.dbt import ParseAhead
    from dagster_project.transform.assets import DBT_PROJECT

    unused = ParseAhead({"as_of": "2026-01-01"}, str(tmp_path / "w.duckdb"), DBT_PROJECT)
    unused.discard_unless_used()  # straight away: the parse is stopped, then removed
    assert not unused.target_path.exists()
    used = ParseAhead({"as_of": "2026-01-01"}, str(tmp_path / "w.duckdb"), DBT_PROJECT)
    assert used.result() is not None
    used.used = True
    used.discard_unless_used()
    assert (used.target_path / "partial_parse.msgpack").exists()
    shutil.rmtree(used.target_path)


def test_dbt_build_writes_no_debug_file_log_unless_asked(tmp_path) -> None:
    """The build's command line turns dbt's debug file log off (the event stream and the
    compiled SQL keep what it repeats) unless DBT_LOG_LEVEL_FILE is set; dbt accepts it."""
    import json
    import os
    import subprocess

    from dagster_project.lib.config import load_config
    from dagster_project.transform.assets import DBT_PROJECT, dbt_build_args

    dbt_vars = load_config().dbt_vars(date(2026, 1, 1), (date(2026, 1, 1), date(2026, 1, 1)))
    args = dbt_build_args(dbt_vars, full_refresh=True, environ={})
    # JSON turns the support schedules' weekday keys into strings; the dbt models read them with |int
    assert args[:2] == ["build", "--vars"] and json.loads(args[2]) == json.loads(json.dumps(dbt_vars))
    assert "--full-refresh" in args and args[-2:] == ["--log-level-file", "none"]
    assert "--log-level-file" not in dbt_build_args(dbt_vars, False, {"DBT_LOG_LEVEL_FILE": "debug"})
    assert "--full-refresh" not in dbt_build_args(dbt_vars, False, {})

    env = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "JOURNEY_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
    }
    env.pop("DBT_LOG_LEVEL_FILE", None)
    command = [
        shutil.which("dbt"),
        *dbt_build_args(dbt_vars, False, env),
        "--select",
        "tag:no_such_tag",
        "--profiles-dir",
        str(DBT_PROJECT.project_dir),
        "--target",
        DBT_PROJECT.target or "local",
    ]
    done = subprocess.run(command, cwd=DBT_PROJECT.project_dir, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (tmp_path / "logs" / "dbt.log").exists()


def test_dbt_tests_do_not_block_the_whole_dbt_step() -> None:
    """A Dagster blocking check fails its step, and all dbt models are one step: dbt tests are
    non-blocking checks (dbt build skips the downstream of a failed test itself); the extract's
    quarantine and GX checks still block."""
    defs, graph = _graph()
    dbt_checks = [k for k in graph.asset_check_keys if k.asset_key.path[0] != "raw"]
    assert dbt_checks
    assert not any(graph.get_check_spec(k).blocking for k in dbt_checks)
    raw_check = dg.AssetCheckKey(dg.AssetKey(["raw", "crm", "orders"]), "quarantine_share")
    assert graph.get_check_spec(raw_check).blocking


def test_the_definitions_load_without_the_data_libraries() -> None:
    """The `journey` command holds the definitions while it waits beside dbt's DuckDB: pandas,
    numpy, scipy and Arrow (~110 MB) are imported by the steps that use them, not with it."""
    import subprocess
    import sys

    heavy = ["pandas", "numpy", "scipy", "pyarrow"]
    probe = (
        "import sys, warnings; warnings.simplefilter('ignore'); import dagster_project.definitions; "
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
