"""What the build may run after an extract: everything except the downstream of failed blocking checks.

Shared by ``journey run`` / ``backfill`` and by the nightly sensor, so a source over
its quarantine threshold blocks exactly its own downstream, whichever way the
run was launched. (Dagster's own blocking would skip the whole dbt multi-asset
when any one source fails; this keeps the other sources' marts fresh.)
"""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg


def blocked_downstream(
    graph: dg.AssetGraph | object, build_keys: set[dg.AssetKey], failed_raw: Iterable[dg.AssetKey]
) -> tuple[set[dg.AssetKey], dict[str, list[str]]]:
    """Return (keys still to build, blocked raw asset -> the build keys it removed)."""
    remaining = set(build_keys)
    blocked: dict[str, list[str]] = {}
    for key in sorted(set(failed_raw), key=lambda k: k.to_user_string()):
        downstream = set(dg.AssetSelection.assets(key).downstream(include_self=False).resolve(graph))
        blocked[key.to_user_string()] = sorted(k.to_user_string() for k in downstream & remaining)
        remaining -= downstream
    return remaining, blocked


def failed_blocking_checks(instance: dg.DagsterInstance, run_id: str) -> set[dg.AssetKey]:
    """Assets of a finished run whose checks failed at ERROR severity."""
    records = instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    failed = set()
    for record in records:
        evaluation = record.dagster_event.event_specific_data
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
            failed.add(evaluation.asset_key)
    return failed


def failed_checks_upstream(context: dg.AssetExecutionContext) -> list[str]:
    """The checks failed at ERROR severity, earlier in this run, on the assets this asset reads.

    dbt tests are not blocking at the Dagster level (a blocking check fails the whole dbt
    step, which would stop every mart), so an asset computed in Python after the dbt build
    asks here and holds back, as dbt build does for the models downstream of a failed test.
    """
    upstream = set(context.assets_def.asset_deps[context.asset_key])
    records = context.instance.all_logs(context.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    failed = []
    for record in records:
        evaluation = record.dagster_event.event_specific_data
        if (
            evaluation.asset_key in upstream
            and not evaluation.passed
            and evaluation.severity == dg.AssetCheckSeverity.ERROR
        ):
            failed.append(f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}")
    return sorted(failed)


def only_check_failures(instance: dg.DagsterInstance, run_id: str) -> bool:
    """True when every failed step of the run failed only because of its own blocking checks."""
    records = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    errors = [r.dagster_event.event_specific_data.error for r in records]
    return all(e is not None and e.cls_name == "DagsterAssetCheckFailedError" for e in errors)
