"""Running a generation: chunks of customers, worker processes, append-only part files, the summary.

Chunk ``k`` is simulated from (seed, k) alone and appended to shard
``k % SHARDS``, i.e. to ``part-<shard + 1>.jsonl`` of every (entity, dt) it
touches. A shard's chunks are processed in ascending order by exactly one
process, so each file's bytes depend only on the options, never on how many
processes ran or how they were scheduled. With ``gzip`` each chunk's lines
for a file become one gzip member (``mtime`` 0, so the bytes are stable);
gzip readers read the concatenated members as one stream.

Memory stays flat: a worker holds one chunk's lines at a time.
"""

from __future__ import annotations

import multiprocessing
import os
import queue as queue_module
import random
import time
import traceback
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from dagster_project.generator import entities as E
from dagster_project.generator import settings as S
from dagster_project.generator.options import GenerationSummary, GeneratorOptions, validate_options
from dagster_project.generator.simulate import ChunkSimulator, Context, chunk_size, seed_for
from dagster_project.generator.sink import Sink

# How long the parent waits on the progress queue before checking its workers are alive.
_POLL_SECONDS = 1.0


@dataclass
class _ShardStats:
    rows: list[int] = field(default_factory=lambda: [0] * len(E.FOLDERS))
    bytes: list[int] = field(default_factory=lambda: [0] * len(E.FOLDERS))
    malformed: list[int] = field(default_factory=lambda: [0] * len(E.FOLDERS))
    duplicates: list[int] = field(default_factory=lambda: [0] * len(E.FOLDERS))
    malformed_kinds: dict[str, int] = field(default_factory=dict)
    late: int = 0
    files: set[tuple[int, int]] = field(default_factory=set)


def _gzip_member(data: bytes | bytearray) -> bytes:
    """One gzip member with a fixed header (mtime 0, no name) so that equal input gives equal bytes."""
    compressor = zlib.compressobj(S.GZIP_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = compressor.compress(data) + compressor.flush()
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    trailer = (zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "little") + (len(data) & 0xFFFFFFFF).to_bytes(4, "little")
    return header + body + trailer


class _ShardFiles:
    """Appends lines to ``<out>/<source>/<entity>/dt=<day>/part-<shard>.jsonl[.gz]``."""

    def __init__(self, out: Path, shard: int, use_gzip: bool, ctx: Context) -> None:
        self.out = out
        self.name = f"part-{shard + 1:04d}.jsonl" + (".gz" if use_gzip else "")
        self.gzip = use_gzip
        self.ctx = ctx
        self._made: set[Path] = set()

    def append(self, entity: int, day: int, data: bytes | bytearray) -> int:
        """Append newline-terminated lines (one gzip member when compressing); returns bytes written."""
        source, name = E.FOLDERS[entity]
        folder = self.out / source / name / f"dt={self.ctx.clock.date_str(day)}"
        if folder not in self._made:
            folder.mkdir(parents=True, exist_ok=True)
            self._made.add(folder)
        if self.gzip:
            data = _gzip_member(data)
        with open(folder / self.name, "ab") as handle:
            handle.write(data)
        return len(data)


def _run_chunk(ctx: Context, chunk: int, files: _ShardFiles, stats: _ShardStats) -> int:
    """Simulate one chunk and append its lines; returns the number of customers done."""
    o = ctx.options
    sink = Sink(
        ctx.clock,
        o.duplicate_rate,
        o.malformed_rate,
        random.Random(seed_for("journey-sink", o.seed, chunk)),
        ctx.chunks,
    )
    sim = ChunkSimulator(ctx, chunk, sink)
    sim.run()
    for entity, day, data in sink.take():
        stats.bytes[entity] += files.append(entity, day, data)
        stats.files.add((entity, day))
    for entity in range(len(E.FOLDERS)):
        stats.rows[entity] += sink.rows[entity]
        stats.malformed[entity] += sink.malformed[entity]
        stats.duplicates[entity] += sink.duplicates[entity]
    for kind, n in sink.malformed_kinds.items():
        stats.malformed_kinds[kind] = stats.malformed_kinds.get(kind, 0) + n
    stats.late += sink.late
    return sim.count


def _shard_chunks(shard: int, chunks: int) -> list[int]:
    return list(range(shard, chunks, S.SHARDS))


def _worker(o: GeneratorOptions, shards: list[int], progress: Any, parent: int) -> None:
    """Process entry point: run the given shards, reporting progress and results on the queue."""
    try:
        ctx = Context(o)
        for shard in shards:
            stats = _ShardStats()
            files = _ShardFiles(Path(o.out), shard, o.gzip, ctx)
            for chunk in _shard_chunks(shard, ctx.chunks):
                if os.getppid() != parent:  # the parent was killed: stop instead of writing on as an orphan
                    return
                progress.put(("progress", _run_chunk(ctx, chunk, files, stats)))
            progress.put(("done", shard, stats))
    except BaseException:  # noqa: BLE001 - report anything to the parent, which raises it
        progress.put(("error", traceback.format_exc()))


def _merge(o: GeneratorOptions, results: list[_ShardStats], seconds: float) -> GenerationSummary:
    summary = GenerationSummary(out=Path(o.out), seconds=seconds)
    files: set[tuple[int, int, int]] = set()
    for shard, stats in enumerate(results):
        files.update((shard, entity, day) for entity, day in stats.files)
    for entity, name in enumerate(E.NAMES):
        summary.rows[name] = sum(s.rows[entity] for s in results)
        summary.bytes_per_entity[name] = sum(s.bytes[entity] for s in results)
        summary.malformed[name] = sum(s.malformed[entity] for s in results)
        summary.duplicates[name] = sum(s.duplicates[entity] for s in results)
    for stats in results:
        for kind, n in stats.malformed_kinds.items():
            summary.malformed_kinds[kind] = summary.malformed_kinds.get(kind, 0) + n
    summary.malformed_kinds = dict(sorted(summary.malformed_kinds.items()))
    summary.late_events = sum(s.late for s in results)
    summary.files = len(files)
    return summary


def run_generation(o: GeneratorOptions, workers: int | None = None) -> GenerationSummary:
    """Generate the landing zone with ``workers`` processes (default: up to MAX_WORKERS, one per CPU).

    The bytes written are the same for any number of workers.
    """
    started = time.perf_counter()
    out = Path(o.out)
    out.mkdir(parents=True, exist_ok=True)
    chunks = -(-o.customers // chunk_size(o))
    shards = [s for s in range(S.SHARDS) if _shard_chunks(s, chunks)]
    if workers is None:
        small = o.customers * o.days < S.PARALLEL_MIN_CUSTOMER_DAYS
        workers = 1 if small else min(S.MAX_WORKERS, os.cpu_count() or 1)
    workers = max(1, min(workers, len(shards)))
    bar = tqdm(
        total=o.customers, unit=" customers", disable=not o.progress, desc="journey generate", dynamic_ncols=True
    )
    results: dict[int, _ShardStats] = {}
    try:
        if workers == 1:
            ctx = Context(o)
            for shard in shards:
                stats = results[shard] = _ShardStats()
                files = _ShardFiles(out, shard, o.gzip, ctx)
                for chunk in _shard_chunks(shard, chunks):
                    bar.update(_run_chunk(ctx, chunk, files, stats))
        else:
            results = _run_processes(o, shards, workers, bar)
    finally:
        bar.close()
    return _merge(o, [results[s] for s in sorted(results)], time.perf_counter() - started)


def _run_processes(o: GeneratorOptions, shards: list[int], workers: int, bar: tqdm) -> dict[int, _ShardStats]:
    # spawn, not fork: the parent may hold threads (tqdm's monitor, Dagster's) that fork would copy half-way.
    mp = multiprocessing.get_context("spawn")
    progress = mp.Queue()
    assignment = [[s for s in shards if s % workers == w] for w in range(workers)]
    processes = [mp.Process(target=_worker, args=(o, mine, progress, os.getpid()), daemon=True) for mine in assignment]
    for p in processes:
        p.start()
    results: dict[int, _ShardStats] = {}
    try:
        while len(results) < len(shards):
            try:
                message = progress.get(timeout=_POLL_SECONDS)
            except queue_module.Empty:
                dead = [p for p in processes if p.exitcode not in (None, 0)]
                if dead:
                    raise RuntimeError(f"a generator worker died (exit code {dead[0].exitcode})") from None
                continue
            if message[0] == "progress":
                bar.update(message[1])
            elif message[0] == "done":
                results[message[1]] = message[2]
            else:
                raise RuntimeError(f"a generator worker failed:\n{message[1]}")
        for p in processes:
            p.join()
    finally:
        for p in processes:
            if p.is_alive():
                p.terminate()
                p.join()
    return results


def generate_landing_zone(o: GeneratorOptions) -> GenerationSummary:
    """Write a synthetic landing zone in the contract's shapes under ``o.out`` and say what was written."""
    validate_options(o)
    return run_generation(o)
