"""Project-wide constants: where things live and the fixed vocabulary of the data contract.

Numbers that a user may want to tune live in ``orchestration.yaml``; what is
here is fixed by ``CONTRACT.md`` (section numbers in the comments).
"""

from __future__ import annotations

import warnings
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

# Warehouse schemas (CONTRACT §3, §5).
RAW_SCHEMA = "raw"
AUDIT_SCHEMA = "audit"
MARTS_SCHEMA = "marts"

# Rows inserted into DuckDB per batch while streaming a landing file: large
# enough to amortise the round trip, small enough to keep memory flat.
LOAD_BATCH_LINES = 50_000

# Longest raw line kept verbatim in audit.quarantine (a megabyte-long garbage
# line is still quarantined, truncated, with its length in the reason).
QUARANTINE_RAW_LINE_MAX_CHARS = 10_000


def quiet_beta_warnings() -> None:
    """Dagster flags APIs we rely on on purpose (single-run backfill policy) as beta/preview on
    every import; that is noise for a user of the command (and of its extract's process)."""
    warnings.filterwarnings("ignore", message=".*(is currently in beta|is currently in preview).*")
