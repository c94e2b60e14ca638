"""The ``journey`` command: a thin front door over Dagster.

``run`` and ``backfill`` launch Dagster materializations of the project's jobs
in this process, recorded in the Dagster instance (``DAGSTER_HOME``, by default
``.dagster_home`` in the project), so the UI shows them like any other run.
``generate`` writes a synthetic landing zone. Errors a user can fix (a bad date,
a missing landing zone, an invalid config) are one clear line and exit code 2;
a failed run or a failed blocking check is exit code 1.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from dagster_project.lib.settings import PROJECT_ROOT, quiet_beta_warnings

if TYPE_CHECKING:
    from dagster_project.lib.config import JourneyConfig

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
_DEFAULT_DAGSTER_YAML = "telemetry:\n  enabled: false\n"


class UsageError(Exception):
    """A problem the user can fix from the command line."""


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in YYYY-MM-DD form") from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a share between 0 and 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="journey",
        description="journey: the customer-experience warehouse (landing zone -> DuckDB -> dbt -> CX marts).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    gen = sub.add_parser("generate", help="write a synthetic landing zone in the contract's shapes")
    gen.add_argument("--out", type=Path, required=True, help="landing zone root to write (created if missing)")
    gen.add_argument("--customers", type=_positive_int, default=2000, help="number of customers (default 2000)")
    gen.add_argument("--days", type=_positive_int, default=60, help="number of days to simulate (default 60)")
    gen.add_argument("--seed", type=int, default=42, help="random seed; same seed, same bytes (default 42)")
    gen.add_argument("--start-date", type=_iso_date, default=date(2025, 1, 1), help="first day (default 2025-01-01)")
    gen.add_argument("--gzip", action="store_true", help="write .jsonl.gz instead of .jsonl")
    gen.add_argument("--late-rate", type=_rate, default=0.02, help="share of cart events arriving days late")
    gen.add_argument("--duplicate-rate", type=_rate, default=0.01, help="share of events and records re-sent")
    gen.add_argument("--malformed-rate", type=_rate, default=0.001, help="share of lines written malformed")
    gen.add_argument("--no-progress", action="store_true", help="no progress bar")

    def add_paths(p: argparse.ArgumentParser) -> None:
        p.add_argument("--landing", type=Path, help="landing zone root (default: orchestration.yaml paths.landing)")
        p.add_argument("--warehouse", type=Path, help="DuckDB file (default: orchestration.yaml paths.warehouse)")
        p.add_argument("--config", type=Path, help="orchestration.yaml to use (default: the project's)")
        p.add_argument("--verbose", action="store_true", help="show Dagster's and dbt's logs")
        p.add_argument(
            "--engine",
            choices=("duckdb", "spark"),
            help="where dbt builds the models (default: orchestration.yaml warehouse.engine; docs/spark.md)",
        )

    run = sub.add_parser("run", help="load every partition present and build everything, checks included")
    add_paths(run)
    run.add_argument("--as-of", type=_iso_date, help="last day the run covers (default: the newest dt= present)")
    run.add_argument(
        "--allow-future-as-of",
        action="store_true",
        help="accept an --as-of after the newest dt= present (days without data count as silence)",
    )
    run.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild the incremental dbt models from scratch (dbt --full-refresh)",
    )

    backfill = sub.add_parser("backfill", help="reload a range of daily partitions, then rebuild downstream")
    add_paths(backfill)
    backfill.add_argument("--start", type=_iso_date, required=True, help="first dt= day to reload")
    backfill.add_argument("--end", type=_iso_date, required=True, help="last dt= day to reload (inclusive)")
    backfill.add_argument("--as-of", type=_iso_date, help="as_of of the rebuild (default: the newest dt= loaded)")
    backfill.add_argument(
        "--allow-future-as-of", action="store_true", help="accept an --as-of after the newest dt= present"
    )

    report = sub.add_parser("report", help="write the CX scorecard as a static HTML page (serving/report.html)")
    report.add_argument(
        "--warehouse",
        type=Path,
        help="DuckDB file (default: orchestration.yaml paths.warehouse); "
        "the published snapshot beside it is read when present",
    )
    report.add_argument("--config", type=Path, help="orchestration.yaml to use (default: the project's)")
    report.add_argument("--out", type=Path, help="HTML file to write (default: report.html beside the snapshot)")

    ui = sub.add_parser("ui", help="start the Dagster UI (dagster dev) on this project")
    ui.add_argument("--port", type=int, default=3000)
    ui.add_argument("--host", default="127.0.0.1")
    return parser


def prepare_environment(args: argparse.Namespace) -> None:
    """Point the Dagster instance where it belongs (``DAGSTER_HOME``, by default the project's
    ``.dagster_home``), before Dagster loads. The configuration and the paths do not travel
    through the environment: :func:`_config` hands them to the runner."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT / ".dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        project_yaml = PROJECT_ROOT / ".dagster_home" / "dagster.yaml"
        text = project_yaml.read_text() if project_yaml.exists() else _DEFAULT_DAGSTER_YAML
        (home / "dagster.yaml").write_text(text)
    # dbt is a console script of this environment; make sure a subprocess finds it.
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def _cmd_generate(args: argparse.Namespace) -> int:
    from dagster_project.generator import GeneratorOptions, generate_landing_zone, validate_options

    options = GeneratorOptions(
        out=args.out,
        customers=args.customers,
        days=args.days,
        seed=args.seed,
        start_date=args.start_date,
        gzip=args.gzip,
        late_rate=args.late_rate,
        duplicate_rate=args.duplicate_rate,
        malformed_rate=args.malformed_rate,
        progress=not args.no_progress,
    )
    try:
        validate_options(options)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    summary = generate_landing_zone(options)
    print(summary)
    return EXIT_OK


def _config(args: argparse.Namespace) -> tuple[JourneyConfig, Path]:
    """The configuration the options (else the environment, else orchestration.yaml) give, and its file."""
    from dagster_project.lib.config import ConfigError
    from dagster_project.lib.environment import config_file, journey_config

    try:
        config = journey_config(args.config, getattr(args, "landing", None), args.warehouse)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    if getattr(args, "engine", None):
        config = config.model_copy(update={"warehouse": config.warehouse.model_copy(update={"engine": args.engine})})
    return config, config_file(args.config)


def _cmd_pipeline(args: argparse.Namespace) -> int:
    from dagster_project import runner

    config, config_path = _config(args)
    if config.warehouse.engine == "spark":
        from dagster_project.lib.spark import unavailable

        reason = unavailable()
        if reason:
            raise UsageError(f"the spark engine cannot start: {reason}")
    if args.command == "run":
        outcome = runner.run_all(
            config,
            config_path,
            as_of=args.as_of,
            verbose=args.verbose,
            full_refresh=args.full_refresh,
            allow_future_as_of=args.allow_future_as_of,
        )
    else:
        outcome = runner.backfill(
            config,
            config_path,
            args.start,
            args.end,
            as_of=args.as_of,
            verbose=args.verbose,
            allow_future_as_of=args.allow_future_as_of,
        )
    print(outcome.report())
    return EXIT_OK if outcome.succeeded else EXIT_FAILED


def _cmd_report(args: argparse.Namespace) -> int:
    import duckdb

    from dagster_project.publish.report import build_report, report_source

    config, _ = _config(args)
    warehouse = config.warehouse_path
    snapshot = config.serving.snapshot_path(warehouse)
    source = report_source(snapshot, warehouse)
    if not source.is_file():
        raise UsageError(f"neither a published snapshot ({snapshot}) nor a warehouse ({warehouse}): run journey run")
    out = args.out.resolve() if args.out else snapshot.parent / "report.html"
    try:
        summary = build_report(source, out, currency=config.reporting.currency)
    except LookupError as exc:
        raise UsageError(str(exc)) from None
    except duckdb.Error as exc:  # e.g. the warehouse is locked by a running build
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"journey report: error: cannot read {source}: {first_line}", file=sys.stderr)
        return EXIT_FAILED
    print(f"Report: {summary.path} ({summary.months} months, read from {summary.source})")
    return EXIT_OK


def _cmd_ui(args: argparse.Namespace) -> int:
    from dagster_project.lib.dbt import ensure_manifest

    ensure_manifest()
    dagster = Path(sys.executable).parent / "dagster"
    argv = [str(dagster), "dev", "-m", "dagster_project.definitions", "-h", args.host, "-p", str(args.port)]
    os.execv(str(dagster), argv)
    return EXIT_OK  # not reached


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    prepare_environment(args)
    quiet_beta_warnings()
    if args.command == "backfill" and args.end < args.start:  # before the GX worker starts below
        return _usage_error(args, f"--end {args.end} is before --start {args.start}")
    if args.command in ("run", "backfill"):
        from dagster_project.quality import gx_worker

        # before the imports of Dagster and dbt below: GX's import, ~2 s, runs meanwhile on the
        # core this process leaves idle (quality/gx_worker.py)
        gx_worker.start()
    from dagster_project.lib.dbt import DbtParseError
    from dagster_project.runner import RunnerError

    try:
        if args.command == "generate":
            return _cmd_generate(args)
        if args.command == "ui":
            return _cmd_ui(args)
        if args.command == "report":
            return _cmd_report(args)
        return _cmd_pipeline(args)
    except (UsageError, RunnerError, DbtParseError) as exc:
        return _usage_error(args, exc)


def _usage_error(args: argparse.Namespace, problem: object) -> int:
    print(f"journey {args.command}: error: {problem}", file=sys.stderr)
    return EXIT_USAGE


def console_main() -> NoReturn:
    """The ``journey`` console script: :func:`main`, then a normal interpreter exit (the atexit
    handlers close what a step left open: the GX worker, temporary folders, connections)."""
    sys.exit(main())


if __name__ == "__main__":
    sys.exit(main())
