"""Where simulated records go: one chunk's lines, bucketed by (entity, dt), with the configured messiness.

``emit`` serialises a record once with orjson and files it under the UTC day
its export was written. At the configured rates it also files a re-sent copy
(same id, the same or a later day) and a malformed copy (see ``messiness``).
Records whose export day is past the end of the run are not written: they have
not been exported yet.
"""

from __future__ import annotations

import random
from typing import Any

import orjson

from dagster_project.generator import entities as E
from dagster_project.generator import messiness
from dagster_project.generator import settings as S
from dagster_project.generator.clock import Clock

# Entities with re-sends: CRM change-data-capture objects, calls and Segment events
# (owners are full snapshots re-written anyway; reviews are pulled, not pushed).
_RESENT = frozenset({E.CONTACTS, E.PRODUCTS, E.ORDERS, E.TICKETS, E.FEEDBACK, E.CALLS, E.TRACKS})
# Bucket key = entity * _KEY + day.
_KEY = 1_000_000


class Sink:
    def __init__(self, clock: Clock, duplicate_rate: float, malformed_rate: float, rng: random.Random) -> None:
        self.clock = clock
        self.days = clock.days
        self.duplicate_rate = duplicate_rate
        self.malformed_rate = malformed_rate
        self.rng = rng
        self.buckets: dict[int, list[bytes]] = {}
        self.rows = [0] * len(E.FOLDERS)
        self.duplicates = [0] * len(E.FOLDERS)
        self.malformed = [0] * len(E.FOLDERS)
        self.malformed_kinds: dict[str, int] = {}
        self.late = 0

    def _put(self, entity: int, day: int, line: bytes) -> None:
        key = entity * _KEY + day
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = []
        bucket.append(line)
        self.rows[entity] += 1

    def _maybe_malformed(self, entity: int, day: int, line: bytes) -> None:
        if self.malformed_rate and self.rng.random() < self.malformed_rate:
            kind, bad = messiness.corrupt(entity, line, self.rng)
            self._put(entity, day, bad)
            self.malformed[entity] += 1
            name = f"{E.NAMES[entity]}:{kind}"
            self.malformed_kinds[name] = self.malformed_kinds.get(name, 0) + 1

    def emit(self, entity: int, day: int, record: dict[str, Any]) -> None:
        """File ``record`` in the export of ``day`` (and maybe a re-send and a malformed copy)."""
        if day >= self.days:
            return
        if day < 0:
            raise ValueError(f"{E.NAMES[entity]} record exported before the first day: {record}")
        line = orjson.dumps(record)
        self._put(entity, day, line)
        if entity in _RESENT and self.rng.random() < self.duplicate_rate:
            later = min(self.days - 1, day + int(self.rng.random() * (S.RESEND_MAX_DAYS + 1)))
            self._put(entity, later, line)
            self.duplicates[entity] += 1
        self._maybe_malformed(entity, day, line)

    def emit_track(self, record: dict[str, Any], received: float, late: bool) -> None:
        """File a Segment event in the day it was received; a re-send arrives again later."""
        day = self.clock.day_of(received)
        if day >= self.days:
            return
        line = orjson.dumps(record)
        self._put(E.TRACKS, day, line)
        if late:
            self.late += 1
        if self.rng.random() < self.duplicate_rate:
            low, high = S.RESEND_DELAY_SECONDS
            again = received + low + (high - low) * self.rng.random()
            again_day = self.clock.day_of(again)
            if again_day < self.days:
                copy = dict(record)
                copy["receivedAt"] = self.clock.iso_ms(again)
                self._put(E.TRACKS, again_day, orjson.dumps(copy))
                self.duplicates[E.TRACKS] += 1
        self._maybe_malformed(E.TRACKS, day, line)

    def take(self) -> dict[tuple[int, int], list[bytes]]:
        """The buffered lines by (entity, day), emptying the buffer."""
        out = {divmod(key, _KEY): lines for key, lines in self.buckets.items()}
        self.buckets = {}
        return out
