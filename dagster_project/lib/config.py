"""Typed, validated view of ``orchestration.yaml``.

The file is data (crons, dates, thresholds, metric parameters); this module is
the only place that reads it. Validation happens once, at load time, so that a
typo in a key or a wrong type is a clear error naming the key instead of a
surprise three assets into a nightly run. The environment's overrides (``JOURNEY_CONFIG``,
``JOURNEY_LANDING``, ``JOURNEY_WAREHOUSE``) are read in lib/environment.py; secrets never live here.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dagster_project.lib.settings import PROJECT_ROOT

DEFAULT_CONFIG_PATH = PROJECT_ROOT / "orchestration.yaml"
TICKET_CHANNELS = ("EMAIL", "CHAT", "FORM", "PHONE", "MARKETPLACE", "SOCIAL")


class ConfigError(ValueError):
    """``orchestration.yaml`` is missing, unreadable or invalid."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as 'UTC' or 'Europe/Warsaw')") from exc
    return value


class PathsConfig(_Strict):
    landing: Path = Path("data/landing")
    warehouse: Path = Path("warehouse/journey.duckdb")


_MEMORY = re.compile(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)", re.IGNORECASE)


_SPARK_MEMORY = re.compile(r"\d+[kmgt]", re.IGNORECASE)


class SparkConfig(_Strict):
    """Spark local mode for ``warehouse.engine: spark`` (docs/spark.md): the session dbt starts
    (profiles.yml's ``spark`` output reads these from the environment lib/environment.py
    exports) and where its metastore, tables and Parquet lake live."""

    home: Path | None = None  # None: <warehouse file>.spark beside the warehouse
    master: str = "local[2]"
    driver_memory: str = "3g"
    shuffle_partitions: int = Field(default=4, ge=1)

    @field_validator("driver_memory")
    @classmethod
    def _driver_memory(cls, value: str) -> str:
        if not _SPARK_MEMORY.fullmatch(value.strip()):
            raise ValueError(f"{value!r}: a JVM size such as '3g' or '512m'")
        return value.strip()

    def home_for(self, warehouse: Path) -> Path:
        return (self.home or Path(f"{warehouse}.spark")).absolute()


class WarehouseConfig(_Strict):
    """DuckDB's resources for every connection the pipeline opens on the warehouse: the loader,
    dbt (profiles.yml reads them from the environment lib/environment.py exports), the Python
    marts and the publish. Past ``memory_limit`` DuckDB spills to ``temp_directory``.

    ``engine`` is where dbt builds the models: ``duckdb`` (the warehouse file) or ``spark``
    (the extract still loads into the file, then writes the loaded days to Spark's Parquet
    lake; see docs/spark.md)."""

    engine: Literal["duckdb", "spark"] = "duckdb"
    memory_limit: str = "3GB"
    threads: int | None = Field(default=None, ge=1)  # None: DuckDB's default, one per core
    temp_directory: Path | None = None  # None: DuckDB's default, <warehouse file>.tmp beside it
    # the `journey` command's extract in a process of its own (runner.py): auto = when the
    # window's landing files pass SEPARATE_EXTRACT_BYTES
    separate_extract: Literal["auto", "always", "never"] = "auto"
    spark: SparkConfig = SparkConfig()

    @field_validator("memory_limit")
    @classmethod
    def _memory(cls, value: str) -> str:
        if not _MEMORY.fullmatch(value.strip()):
            raise ValueError(f"{value!r}: a size such as '3GB', '512MB' or '2.5GiB'")
        return value.strip()

    def duckdb_config(self, warehouse: Path) -> dict[str, str]:
        """The settings as ``duckdb.connect(config=...)`` takes them, every one explicit."""
        temp = self.temp_directory or Path(f"{warehouse}.tmp")
        return {
            "memory_limit": self.memory_limit,
            "threads": str(self.threads or os.cpu_count() or 1),
            "temp_directory": str(temp.absolute()),
        }


class PartitionsConfig(_Strict):
    # None: the first partition is the oldest valid dt= folder of the landing zone
    # (lib/partitions.py); set it only to leave older days out of the partitions.
    start_date: date | None = None
    late_data_lookback_days: int = Field(default=7, ge=0, le=365)


class ReportingConfig(_Strict):
    timezone: str = "UTC"
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")

    _tz = field_validator("timezone")(_check_timezone)


class ScheduleConfig(_Strict):
    cron: str = "0 2 * * *"
    timezone: str = "UTC"
    enabled: bool = True

    _tz = field_validator("timezone")(_check_timezone)

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        import dagster as dg  # imported here: the command line loads this module before Dagster

        try:  # Dagster's own check of the schedule it will define (public API)
            dg.ScheduleDefinition(name="cron_check", cron_schedule=value, job_name="cron_check")
        except dg.DagsterInvalidDefinitionError:
            raise ValueError(f"{value!r} is not a valid cron expression (five fields, e.g. '0 2 * * *')") from None
        return value


class RetriesConfig(_Strict):
    max_retries: int = Field(default=2, ge=0, le=10)
    delay_seconds: float = Field(default=30, ge=0)
    backoff: Literal["linear", "exponential"] = "exponential"


class MetricsConfig(_Strict):
    """Metric parameters (docs/metrics.md explains each one), with their defaults.

    First-response targets are minutes: a reply exactly at the target is on time, so a
    target must be a whole number of seconds to be compared exactly.
    """

    cart_abandonment_window_hours: float = Field(default=24, gt=0)
    cart_recovery_days: int = Field(default=7, ge=0)
    service_level_seconds: int = Field(default=20, gt=0)
    first_call_resolution_days: int = Field(default=7, gt=0)
    churn_inactivity_days: int = Field(default=90, gt=0)
    # The LTV mart's prediction columns are named for 365 days (expected_purchases_365d,
    # predicted_clv_365d): another horizon would be mislabelled, so only 365 is accepted.
    ltv_horizon_days: int = 365
    sla_first_response_minutes: dict[str, float] = Field(
        default_factory=lambda: {"CHAT": 5, "SOCIAL": 60, "EMAIL": 1440, "MARKETPLACE": 1440, "FORM": 1440, "PHONE": 60}
    )
    sla_category_first_response_minutes: dict[str, float] = Field(default_factory=lambda: {"RETURN_REQUEST": 2880})
    # sentiment shifts, journey paths, funnels and touch attribution (docs/sentiment.md)
    journey_path_steps: int = Field(default=5, ge=1, le=10)
    journey_path_lookback_days: int = Field(default=30, gt=0)
    journey_path_top_n: int = Field(default=20, gt=0)
    cart_funnel_window_hours: float = Field(default=24, gt=0)
    service_funnel_window_days: int = Field(default=14, gt=0)
    attribution_lookback_days: int = Field(default=7, gt=0)
    # LTV holdout check and intervals (docs/service-marts.md): the models are refitted on the
    # orders up to ltv_holdout_weeks before as_of and must predict the repeat purchases of those
    # weeks; a relative error of the total above ltv_holdout_max_error makes the check warn.
    ltv_holdout_weeks: int = Field(default=26, ge=1, le=260)
    ltv_holdout_max_error: float = Field(default=0.15, gt=0)
    ltv_interval_draws: int = Field(default=200, ge=20, le=5000)  # parametric bootstrap draws (80 % intervals)

    @field_validator("ltv_horizon_days")
    @classmethod
    def _ltv_horizon(cls, value: int) -> int:
        if value != 365:
            raise ValueError(
                f"{value}: only 365 is supported (the LTV mart's columns are expected_purchases_365d and "
                "predicted_clv_365d)"
            )
        return value

    @field_validator("sla_first_response_minutes")
    @classmethod
    def _every_channel(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(TICKET_CHANNELS))
        missing = sorted(set(TICKET_CHANNELS) - set(value))
        if unknown:
            raise ValueError(f"unknown ticket channel(s) {unknown}; channels are {list(TICKET_CHANNELS)}")
        if missing:
            raise ValueError(f"missing a target for channel(s) {missing}")
        return _whole_seconds(value)

    @field_validator("sla_category_first_response_minutes")
    @classmethod
    def _category_targets(cls, value: dict[str, float]) -> dict[str, float]:
        return _whole_seconds(value)


def _whole_seconds(targets: dict[str, float]) -> dict[str, float]:
    """SLA targets in minutes, each positive and a whole number of seconds (0.5 = 30 s)."""
    for name, minutes in targets.items():
        if minutes <= 0:
            raise ValueError(f"{name}: SLA targets must be positive minutes")
        if abs(minutes * 60 - round(minutes * 60)) > 1e-9:
            raise ValueError(f"{name}: {minutes} min is not a whole number of seconds")
    return {name: int(m) if float(m).is_integer() else m for name, m in targets.items()}


# Keys that changed unit: an old file is refused with the new name instead of "unknown key".
_RENAMED_METRIC_KEYS = {
    "sla_first_response_hours": "sla_first_response_minutes",
    "sla_category_first_response_hours": "sla_category_first_response_minutes",
}


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS_OPEN = "always_open"  # the built-in schedule: open 24x7, business time = calendar time


class SupportScheduleConfig(_Strict):
    """Opening hours of one support team: per weekday a list of "HH:MM-HH:MM" local-time
    intervals (24:00 closes at midnight; a weekday not listed is closed), in ``timezone``,
    closed all day on the ``holidays``."""

    timezone: str
    hours: dict[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], list[str]]
    holidays: list[date] = Field(default_factory=list)

    _tz = field_validator("timezone")(_check_timezone)

    @field_validator("hours")
    @classmethod
    def _intervals(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for day, intervals in value.items():
            bounds = sorted(_parse_interval(day, text) for text in intervals)
            for (_, end), (start, _) in zip(bounds, bounds[1:], strict=False):
                if start < end:
                    raise ValueError(f"{day}: opening intervals overlap ({intervals})")
        return value

    def weekly_minutes(self) -> dict[int, list[tuple[int, int]]]:
        """ISO weekday (1 = Monday) -> sorted (open, close) minutes after local midnight."""
        return {
            _WEEKDAYS.index(day) + 1: sorted(_parse_interval(day, text) for text in intervals)
            for day, intervals in self.hours.items()
        }


def _parse_interval(day: str, text: str) -> tuple[int, int]:
    try:
        start_text, end_text = (part.strip() for part in text.split("-"))
        (sh, sm), (eh, em) = (map(int, t.split(":")) for t in (start_text, end_text))
    except ValueError:
        raise ValueError(f"{day}: {text!r} is not an interval like '09:00-17:00'") from None
    start, end = sh * 60 + sm, eh * 60 + em
    if not (0 <= sm < 60 and 0 <= em < 60 and 0 <= start < end <= 24 * 60):
        raise ValueError(f"{day}: {text!r} must open before it closes, within 00:00-24:00")
    return start, end


class SupportSchedulesConfig(_Strict):
    """Business hours for ticket SLAs: named ``schedules`` and which one each ticket ``channels``
    uses. A channel not listed (and a ticket without a channel) uses the built-in
    ``always_open`` (24x7), so without this section business minutes equal calendar minutes."""

    schedules: dict[str, SupportScheduleConfig] = Field(default_factory=dict)
    channels: dict[str, str] = Field(default_factory=dict)

    @field_validator("schedules")
    @classmethod
    def _names(cls, value: dict[str, SupportScheduleConfig]) -> dict[str, SupportScheduleConfig]:
        for name in value:
            if name == ALWAYS_OPEN or not re.fullmatch(r"[a-z][a-z0-9_]{0,40}", name):
                raise ValueError(f"{name!r}: a schedule name is lower-case letters, digits and _ (not {ALWAYS_OPEN})")
        return value

    @model_validator(mode="after")
    def _known(self) -> SupportSchedulesConfig:
        unknown = sorted(set(self.channels) - set(TICKET_CHANNELS))
        if unknown:
            raise ValueError(f"unknown ticket channel(s) {unknown}; channels are {list(TICKET_CHANNELS)}")
        for channel, name in self.channels.items():
            if name != ALWAYS_OPEN and name not in self.schedules:
                raise ValueError(f"channels.{channel}: no schedule named {name!r} (define it under schedules)")
        return self

    def dbt_vars(self) -> dict[str, Any]:
        """Schedules as dbt reads them (models/intermediate/service/int_support_schedule_intervals.sql)."""
        schedules: dict[str, Any] = {}  # always_open needs no calendar: its business time is calendar time
        for name, schedule in self.schedules.items():
            schedules[name] = {
                "timezone": schedule.timezone,
                "hours": {d: [list(i) for i in ivs] for d, ivs in schedule.weekly_minutes().items()},
                "holidays": sorted(h.isoformat() for h in schedule.holidays),
            }
        return {
            "support_schedules": schedules,
            # only the channels configured: dbt puts every other one on always_open, and the
            # default in dbt_project.yml is {} (data_tests/test_dbt_vars.py keeps them equal)
            "support_schedule_channels": dict(self.channels),
        }


class QualityConfig(_Strict):
    future_tolerance_minutes: int = Field(default=60, ge=0)
    # Deprecated and ignored: nothing is rejected only for being old any more. Still accepted
    # so that an existing orchestration.yaml keeps loading; remove it from yours.
    business_start_date: date | None = None
    quarantine_threshold: dict[str, float] = Field(default_factory=lambda: {"default": 0.05})
    volume_anomaly_band: float = Field(default=0.5, gt=0)
    severities: dict[str, Literal["WARN", "ERROR"]] = Field(default_factory=dict)

    @field_validator("quarantine_threshold")
    @classmethod
    def _thresholds(cls, value: dict[str, float]) -> dict[str, float]:
        if "default" not in value:
            raise ValueError("needs a 'default' share (per-source keys crm/calls/cart_events/reviews are optional)")
        allowed = {"default", "crm", "calls", "cart_events", "reviews"}
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise ValueError(f"unknown source(s) {unknown}; allowed keys are {sorted(allowed)}")
        if any(not 0 <= v <= 1 for v in value.values()):
            raise ValueError("thresholds are shares in [0, 1]")
        return value

    def threshold_for(self, source: str) -> float:
        return self.quarantine_threshold.get(source, self.quarantine_threshold["default"])


class ServingConfig(_Strict):
    """Where the marts are published for BI tools after every build whose blocking checks passed.

    ``snapshot`` and ``parquet`` default to a ``serving/`` folder beside the warehouse file
    (``serving/journey_marts.duckdb``, ``serving/parquet/``). PostgreSQL is published to only
    when the environment sets ``JOURNEY_PG_DSN``: a connection string never lives in this file.
    """

    snapshot: Path | None = None
    parquet: Path | None = None
    # the DuckDB storage format of the snapshot: v1.4.0 is what DuckDB 1.4 and later open
    storage_version: str = Field(default="v1.4.0", pattern=r"^v\d+\.\d+\.\d+$")
    postgres_schema: str = Field(default="marts", pattern=r"^[a-z_][a-z0-9_]{0,40}$")
    # how long the swap may wait for a BI query holding the old tables before the publish fails
    postgres_lock_timeout_seconds: float = Field(default=30, gt=0)

    def snapshot_path(self, warehouse: Path) -> Path:
        return _resolve(self.snapshot) if self.snapshot else warehouse.parent / "serving" / "journey_marts.duckdb"

    def parquet_path(self, warehouse: Path) -> Path:
        return _resolve(self.parquet) if self.parquet else warehouse.parent / "serving" / "parquet"


class JourneyConfig(_Strict):
    paths: PathsConfig = PathsConfig()
    warehouse: WarehouseConfig = WarehouseConfig()
    partitions: PartitionsConfig = PartitionsConfig()
    reporting: ReportingConfig = ReportingConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    retries: RetriesConfig = RetriesConfig()
    metrics: MetricsConfig = MetricsConfig()
    support_schedules: SupportSchedulesConfig = SupportSchedulesConfig()
    quality: QualityConfig = QualityConfig()
    serving: ServingConfig = ServingConfig()

    # The environment's overrides of the paths are applied by lib/environment.py journey_config().
    @property
    def landing_path(self) -> Path:
        return _resolve(self.paths.landing)

    @property
    def warehouse_path(self) -> Path:
        return _resolve(self.paths.warehouse)

    def dbt_vars(self, as_of: date | None = None, window: tuple[date, date] | None = None) -> dict[str, Any]:
        """The variables every dbt invocation receives (see dbt_project.yml for their defaults)."""
        m = self.metrics
        out: dict[str, Any] = {
            "late_data_lookback_days": self.partitions.late_data_lookback_days,
            "reporting_timezone": self.reporting.timezone,
            "reporting_currency": self.reporting.currency,
            "cart_abandonment_window_hours": m.cart_abandonment_window_hours,
            "cart_recovery_days": m.cart_recovery_days,
            "service_level_seconds": m.service_level_seconds,
            "first_call_resolution_days": m.first_call_resolution_days,
            "churn_inactivity_days": m.churn_inactivity_days,
            "sla_first_response_minutes": m.sla_first_response_minutes,
            "sla_category_first_response_minutes": m.sla_category_first_response_minutes,
            "journey_path_steps": m.journey_path_steps,
            "journey_path_lookback_days": m.journey_path_lookback_days,
            "journey_path_top_n": m.journey_path_top_n,
            "cart_funnel_window_hours": m.cart_funnel_window_hours,
            "service_funnel_window_days": m.service_funnel_window_days,
            "attribution_lookback_days": m.attribution_lookback_days,
            **self.support_schedules.dbt_vars(),
        }
        if as_of is not None:
            out["as_of"] = as_of.isoformat()
        if window is not None:
            out["window_start"], out["window_end"] = window[0].isoformat(), window[1].isoformat()
        return out


def _resolve(path: Path) -> Path:
    return path if path.is_absolute() else (Path.cwd() / path)


def _format_errors(path: Path, exc: ValidationError) -> str:
    lines = [f"{path}: invalid configuration"]
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; README.md lists every key)"
        lines.append(f"  - {key}: {msg}")
    return "\n".join(lines)


def parse_config(raw: dict[str, Any] | None, source: Path = DEFAULT_CONFIG_PATH) -> JourneyConfig:
    """Validate an already-parsed YAML mapping; ``source`` only names the file in errors."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of sections, got {type(raw).__name__}")
    metrics = raw.get("metrics")
    for old_key, new_key in _RENAMED_METRIC_KEYS.items():
        if isinstance(metrics, dict) and old_key in metrics:
            raise ConfigError(
                f"{source}: metrics.{old_key} was renamed to metrics.{new_key}: give the targets in minutes"
                " (e.g. CHAT: 5, EMAIL: 1440)"
            )
    try:
        return JourneyConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format_errors(source, exc)) from None


def load_config(path: Path | str | None = None) -> JourneyConfig:
    """Read and validate ``orchestration.yaml`` (the project's own by default; lib/environment.py
    journey_config() applies ``JOURNEY_CONFIG`` and the path overrides)."""
    path = Path(path or DEFAULT_CONFIG_PATH)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration file ({exc.strerror})") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_config(raw, path)
