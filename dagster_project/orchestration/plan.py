"""What a build runs, decided in one place for both ways of launching it.

After an extract, the build runs every asset of the build selection (everything below
the raw layer) except the downstream of a source whose blocking check failed, for the
window of ``dt=`` days the extract loaded, measured as of a day. The ``journey`` command
(dagster_project/runner.py, in its own process) and the sensors after a scheduled or
sensed extract (orchestration/definitions.py) both call :func:`plan_build` and launch
what it returns: the same assets, the same run config, the same tags.

The window reaches the dbt step as run config (``DbtBuildConfig``), not as a Dagster
partition of the dbt assets: docs/decisions.md says why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import dagster as dg

from dagster_project.lib.landing import ENTITIES
from dagster_project.marts.assets import LtvConfig, mart_customer_ltv
from dagster_project.orchestration.selection import blocked_downstream
from dagster_project.transform.assets import DbtBuildConfig, journey_dbt

BUILD_JOB_NAME = "build_warehouse"
RAW_GROUPS = tuple(f"raw_{source}" for source in dict.fromkeys(e.source for e in ENTITIES))
# Everything downstream of the raw layer: dbt models and tests, the Python marts, the publish step.
BUILD_SELECTION = dg.AssetSelection.all() - dg.AssetSelection.groups(*RAW_GROUPS)

# Dagster's system tags of a partitioned run (one day, or a range from a single-run backfill).
PARTITION_TAG = "dagster/partition"
PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"
BLOCKED_TAG = "journey/blocked"


@dataclass(frozen=True)
class BuildPlan:
    """One build: the assets to materialize and the configuration of the steps that run them."""

    assets: tuple[dg.AssetKey, ...]  # sorted; empty when every build asset is blocked
    blocked: dict[str, list[str]] = field(default_factory=dict)  # failed raw asset -> build assets left out
    window_start: str | None = None  # dt= days the incremental dbt models re-read (YYYY-MM-DD)
    window_end: str | None = None
    as_of: str | None = None  # None: the newest day loaded (WarehouseResource.resolve_as_of)
    full_refresh: bool = False

    def run_config(self, parsed_target_path: str | None = None, **extra: object) -> dg.RunConfig:
        """The run config of the build job; ``parsed_target_path`` is the journey command's
        ahead-of-time dbt parse (lib/dbt.py ParseAhead); ``extra`` more RunConfig fields (loggers)."""
        ops: dict[str, dg.Config] = {
            journey_dbt.op.name: DbtBuildConfig(
                as_of=self.as_of,
                window_start=self.window_start,
                window_end=self.window_end,
                full_refresh=self.full_refresh,
                parsed_target_path=parsed_target_path,
            )
        }
        if mart_customer_ltv.key in self.assets:
            ops[mart_customer_ltv.op.name] = LtvConfig(as_of=self.as_of)
        return dg.RunConfig(ops=ops, **extra)  # type: ignore[arg-type]

    def tags(self) -> dict[str, str]:
        return {BLOCKED_TAG: ",".join(self.blocked)} if self.blocked else {}


def plan_build(
    graph: dg.AssetGraph | object,
    failed_raw: Iterable[dg.AssetKey],
    window_start: str | None,
    window_end: str | None,
    as_of: str | None,
    full_refresh: bool = False,
) -> BuildPlan:
    """The build after an extract of ``window_start``..``window_end`` whose blocking checks
    failed on ``failed_raw``: the build selection minus their downstream."""
    build_keys = set(BUILD_SELECTION.resolve(graph))
    remaining, blocked = blocked_downstream(graph, build_keys, failed_raw)
    return BuildPlan(
        assets=tuple(sorted(remaining, key=lambda k: k.to_user_string())),
        blocked=blocked,
        window_start=window_start,
        window_end=window_end,
        as_of=as_of,
        full_refresh=full_refresh,
    )


def extract_window(tags: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(first, last) ``dt=`` day of an extract run, from its partition tags."""
    single = tags.get(PARTITION_TAG)
    return single or tags.get(PARTITION_RANGE_START_TAG), single or tags.get(PARTITION_RANGE_END_TAG)


def extract_range_tags(first_dt: str, last_dt: str) -> dict[str, str]:
    """The tags that make one run of the extract job load ``first_dt``..``last_dt`` (a single-run backfill)."""
    return {PARTITION_RANGE_START_TAG: first_dt, PARTITION_RANGE_END_TAG: last_dt}
