"""What ``journey generate`` is asked to do, how that is checked, and what it reports back."""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from dagster_project.generator import entities as E


@dataclass(frozen=True)
class GeneratorOptions:
    """Options of one generator run; the same options and seed always give the same bytes."""

    out: Path
    customers: int = 2000
    days: int = 60
    seed: int = 42
    start_date: date = date(2025, 1, 1)
    gzip: bool = False
    late_rate: float = 0.02  # share of cart events delivered 1-5 days after they happened
    duplicate_rate: float = 0.01  # share of cart events / calls re-sent (same messageId / id), CRM records re-sent
    malformed_rate: float = 0.001  # share of lines written malformed (see messiness.py for the kinds)
    progress: bool = True
    # Advanced: customers simulated per chunk (None: sized so memory stays flat). Chunks are the
    # unit of parallelism and of randomness, so a different value gives different (equally valid) bytes.
    chunk_customers: int | None = None


# Landing zones far larger than this are surely a typo (and would fill the disk).
_MAX_CUSTOMERS = 100_000_000
_MAX_DAYS = 3660
# The first week of 2015 is left for the history that precedes the run (business start 2015-01-01).
_EARLIEST_START = date(2015, 1, 8)


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(".")


def validate_options(o: GeneratorOptions) -> None:
    """Raise ValueError with a message a user can act on; nothing is written."""
    for name in ("customers", "days"):
        value = getattr(o, name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"--{name} must be a whole number, got {value!r}")
        if value <= 0:
            raise ValueError(f"--{name} must be positive, got {value}")
    if o.customers > _MAX_CUSTOMERS:
        raise ValueError(f"--customers {o.customers:,} is more than the generator supports ({_MAX_CUSTOMERS:,})")
    if o.days > _MAX_DAYS:
        raise ValueError(f"--days {o.days:,} is more than the generator supports ({_MAX_DAYS:,}, about ten years)")
    if o.chunk_customers is not None and (not isinstance(o.chunk_customers, int) or o.chunk_customers <= 0):
        raise ValueError(f"chunk_customers must be a positive whole number, got {o.chunk_customers!r}")
    if isinstance(o.seed, bool) or not isinstance(o.seed, int):
        raise ValueError(f"--seed must be a whole number, got {o.seed!r}")
    if not isinstance(o.start_date, date):
        raise ValueError(f"--start-date must be a date, got {o.start_date!r}")
    if o.start_date < _EARLIEST_START:
        raise ValueError(
            f"--start-date must be {_EARLIEST_START} or later, got {o.start_date}: the generated "
            "history reaches back before it, and the loader quarantines timestamps before 2015"
        )
    for name in ("late_rate", "duplicate_rate", "malformed_rate"):
        value = getattr(o, name)
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise ValueError(f"--{name.replace('_', '-')} must be a number, got {value!r}")
        if not 0 <= value <= 1:
            raise ValueError(f"--{name.replace('_', '-')} must be a share between 0 and 1, got {value}")
    out = Path(o.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file, not a directory")
    if out.is_dir():
        taken = [
            name
            for (source, entity), name in zip(E.FOLDERS, E.NAMES, strict=True)
            if (out / source / entity).is_dir() and any((out / source / entity).iterdir())
        ]
        if taken:
            raise ValueError(
                f"--out {out} already holds a landing zone ({', '.join(taken[:3])}"
                f"{', ...' if len(taken) > 3 else ''}); choose a new directory or remove it first"
            )
    parent = _nearest_existing(out)
    if not parent.is_dir():
        raise ValueError(f"--out {out} cannot be created: {parent} is not a directory")
    try:  # a real probe: permission bits say nothing for root or on a read-only mount
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as exc:
        raise ValueError(f"--out {out} is not writable ({parent}: {exc.strerror or exc})") from None


@dataclass
class GenerationSummary:
    """What a run wrote: lines, bytes and malformed lines per entity (``source/entity``)."""

    out: Path
    rows: dict[str, int] = field(default_factory=dict)
    bytes_per_entity: dict[str, int] = field(default_factory=dict)
    malformed: dict[str, int] = field(default_factory=dict)
    malformed_kinds: dict[str, int] = field(default_factory=dict)  # "source/entity:kind" -> lines
    duplicates: dict[str, int] = field(default_factory=dict)
    late_events: int = 0
    files: int = 0
    seconds: float = 0.0

    @property
    def lines(self) -> int:
        return sum(self.rows.values())

    @property
    def bytes_written(self) -> int:
        return sum(self.bytes_per_entity.values())

    @property
    def malformed_lines(self) -> int:
        return sum(self.malformed.values())

    def __str__(self) -> str:
        size = self.bytes_written
        unit = next(u for u, limit in (("B", 2**10), ("KB", 2**20), ("MB", 2**30), ("GB", 2**80)) if size < limit)
        scaled = size / {"B": 1, "KB": 2**10, "MB": 2**20, "GB": 2**30}[unit]
        return (
            f"wrote {self.lines:,} lines ({scaled:,.1f} {unit}) in {self.files:,} files under {self.out} "
            f"in {self.seconds:,.1f} s: {self.malformed_lines:,} malformed, "
            f"{sum(self.duplicates.values()):,} re-sent, {self.late_events:,} late cart events"
        )
