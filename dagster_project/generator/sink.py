"""Where simulated records go: one chunk's lines, bucketed by (entity, dt), with the configured messiness.

``emit`` serialises a record once with orjson and appends it to the buffer of
the UTC day its export was written; at the duplicate rate it also files a
re-sent copy (same id, the same or a later day). Records whose export day is
past the end of the run are not written: they have not been exported yet.

Each line is also, at the malformed rate, a candidate for a corrupted copy.
When the chunk is taken (``take``) each bucket gets its candidates' corrupted
copies appended, within a cap (``MALFORMED_MAX_PARTITION_SHARE``, or twice the
rate if higher) of the whole partition's lines. A partition is the sum of one
bucket per chunk, and chunks are alike, so its size is estimated as the
bucket's times the number of chunks: a partition too small to hold one bad
line under the cap gets none, a larger one at most ``ceil(cap x lines)`` per
bucket. A quiet day's small partition is so never pushed over the loader's
quarantine threshold by a single bad line, unless the rate asks for it.

Buffers are ``bytearray``s rather than lists of lines: keeping millions of
small ``bytes`` objects alive costs more in allocation than serialising them.
"""

from __future__ import annotations

import math
import random
from typing import Any

import orjson

from dagster_project.generator import entities as E
from dagster_project.generator import messiness
from dagster_project.generator import settings as S
from dagster_project.generator.clock import DAY, Clock

# Entities with re-sends: CRM change-data-capture objects, calls and Segment events
# (owners are full snapshots re-written anyway; reviews are pulled, not pushed).
_RESENT = frozenset({E.CONTACTS, E.PRODUCTS, E.ORDERS, E.TICKETS, E.FEEDBACK, E.CALLS, E.TRACKS})
# Bucket key = entity * _KEY + day.
_KEY = 1_000_000
_TRACKS_KEY = E.TRACKS * _KEY
# Written by chunk 0 alone (reference data): their buckets are whole partitions.
_FIRST_CHUNK_ONLY = frozenset({E.PRODUCTS, E.OWNERS})


class Sink:
    def __init__(
        self, clock: Clock, duplicate_rate: float, malformed_rate: float, rng: random.Random, chunks: int
    ) -> None:
        self.clock = clock
        self.chunks = chunks
        self.t0 = clock.t0
        self.days = clock.days
        self.duplicate_rate = duplicate_rate
        self.malformed_rate = malformed_rate
        self.malformed_cap = max(S.MALFORMED_MAX_PARTITION_SHARE, 2 * malformed_rate)
        self.rng = rng
        self.buckets: dict[int, bytearray] = {}
        self.counts: dict[int, int] = {}
        self.candidates: dict[int, list[bytes]] = {}
        self.rows = [0] * len(E.FOLDERS)
        self.duplicates = [0] * len(E.FOLDERS)
        self.malformed = [0] * len(E.FOLDERS)
        self.malformed_kinds: dict[str, int] = {}
        self.late = 0

    def _put(self, key: int, line: bytes) -> None:
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = bytearray()
            self.counts[key] = 0
        bucket += line
        bucket += b"\n"
        self.counts[key] += 1
        if self.malformed_rate and self.rng.random() < self.malformed_rate:
            self.candidates.setdefault(key, []).append(line)

    def emit(self, entity: int, day: int, record: dict[str, Any]) -> None:
        """File ``record`` in the export of ``day`` (and maybe a re-send)."""
        if day >= self.days:
            return
        if day < 0:
            raise ValueError(f"{E.NAMES[entity]} record exported before the first day: {record}")
        line = orjson.dumps(record)
        self._put(entity * _KEY + day, line)
        self.rows[entity] += 1
        if entity in _RESENT and self.rng.random() < self.duplicate_rate:
            later = min(self.days - 1, day + int(self.rng.random() * (S.RESEND_MAX_DAYS + 1)))
            self._put(entity * _KEY + later, line)
            self.rows[entity] += 1
            self.duplicates[entity] += 1

    def emit_track(self, record: dict[str, Any], received: float, late: bool) -> None:
        """File a Segment event in the day it was received; a re-send arrives again later."""
        day = int((received - self.t0) // DAY)
        if day >= self.days:
            return
        if day < 0:
            raise ValueError(f"Segment event received before the first day: {record}")
        self._put(_TRACKS_KEY + day, orjson.dumps(record))
        self.rows[E.TRACKS] += 1
        if late:
            self.late += 1
        if self.rng.random() < self.duplicate_rate:
            low, high = S.RESEND_DELAY_SECONDS
            again = received + low + (high - low) * self.rng.random()
            again_day = int((again - self.t0) // DAY)
            if again_day < self.days:
                copy = dict(record)
                copy["receivedAt"] = self.clock.iso_ms(again)
                self._put(_TRACKS_KEY + again_day, orjson.dumps(copy))
                self.rows[E.TRACKS] += 1
                self.duplicates[E.TRACKS] += 1

    def _malformed_allowed(self, entity: int, lines: int) -> int:
        partition = lines if entity in _FIRST_CHUNK_ONLY else lines * self.chunks
        if partition * self.malformed_cap < 1.0:
            return 0
        return math.ceil(lines * self.malformed_cap)

    def take(self) -> list[tuple[int, int, bytearray]]:
        """(entity, day, newline-terminated lines) per bucket in key order, malformed copies added; empties."""
        out = []
        for key in sorted(self.buckets):
            entity, day = divmod(key, _KEY)
            bucket = self.buckets[key]
            allowed = self._malformed_allowed(entity, self.counts[key])
            for line in self.candidates.get(key, [])[:allowed]:
                kind, bad = messiness.corrupt(entity, line, self.rng)
                bucket += bad
                bucket += b"\n"
                self.malformed[entity] += 1
                self.rows[entity] += 1
                name = f"{E.NAMES[entity]}:{kind}"
                self.malformed_kinds[name] = self.malformed_kinds.get(name, 0) + 1
            out.append((entity, day, bucket))
        self.buckets, self.counts, self.candidates = {}, {}, {}
        return out
